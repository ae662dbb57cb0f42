# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging

from odoo import _, api, models

from ..exceptions import MfgSecretError  # noqa: F401 (re-exported)
from ..services import secret_box

_logger = logging.getLogger(__name__)

MANAGER = "mfg_integration.group_mfg_manager"


class MfgSecretMixin(models.AbstractModel):
    """Secrets stored encrypted in the database, readable in plaintext only through code.

    A model declares each secret as a pair::

        password = fields.Char(compute="_compute_mfg_secrets", inverse="_inverse_mfg_secrets",
                               readonly=False, groups=MANAGER)   # what forms show, masked
        password_enc = fields.Char(groups=MANAGER)               # the column: ciphertext

    Writes of ``password`` are encrypted into ``password_enc`` by create/write; code that
    sends a credential calls ``record._mfg_secret("password")``, which raises a clear
    error when the value cannot be decrypted. The form still gets the plaintext (for
    managers only, through the field's groups) so it is shown masked as before.
    """

    _name = "mfg.secret.mixin"
    _description = "Integration secrets encrypted at rest"

    def _mfg_secret_field_names(self):
        return [name for name, field in self._fields.items()
                if field.compute == "_compute_mfg_secrets"]

    # Depends on the ciphertext columns, so a write invalidates the plaintext in cache.
    @api.depends(lambda self: [f"{name}_enc" for name in self._mfg_secret_field_names()])
    def _compute_mfg_secrets(self):
        # Tolerant on purpose: a form must open even when a value cannot be decrypted, so
        # that a manager can enter it again. Senders use the strict _mfg_secret().
        names = self._mfg_secret_field_names()
        for record in self:
            for name in names:
                try:
                    record[name] = secret_box.decrypt(record.sudo()[f"{name}_enc"])
                except secret_box.SecretBoxError as exc:
                    _logger.warning("%s %s, %s: %s", record._name, record.id, name, exc)
                    record[name] = False

    def _inverse_mfg_secrets(self):
        """Nothing to do: create/write turn the plaintext into ciphertext beforehand."""

    def _mfg_secret(self, name):
        """Plaintext of secret ``name`` for sending it to the peer it belongs to."""
        self.ensure_one()
        try:
            return secret_box.decrypt(self.sudo()[f"{name}_enc"],
                                      what=f"{self._fields[name].string} of {self.display_name}")
        except secret_box.SecretBoxError as exc:
            raise MfgSecretError(str(exc)) from None

    def _mfg_encrypt_vals(self, vals):
        names = [name for name in self._mfg_secret_field_names() if name in vals]
        if not names:
            return vals
        vals = dict(vals)
        for name in names:
            try:
                vals[f"{name}_enc"] = secret_box.encrypt(vals.pop(name) or "")
            except secret_box.SecretBoxError as exc:
                raise MfgSecretError(_("%(field)s cannot be saved: %(error)s",
                                       field=self._fields[name].string, error=exc)) from None
        return vals

    @api.model_create_multi
    def create(self, vals_list):
        return super().create([self._mfg_encrypt_vals(vals) for vals in vals_list])

    def write(self, vals):
        return super().write(self._mfg_encrypt_vals(vals))

    @api.model
    def _mfg_encrypt_legacy_secrets(self):
        """Encrypt values stored in plaintext (databases from before encryption); returns
        how many were encrypted. Without a configured key, says so and changes nothing."""
        records = self.sudo().with_context(active_test=False).search([])
        names = self._mfg_secret_field_names()
        count = 0
        try:
            for record in records:
                for name in names:
                    stored = record[f"{name}_enc"]
                    if stored and not secret_box.is_encrypted(stored):
                        record.write({f"{name}_enc": secret_box.encrypt(stored)})
                        count += 1
        except secret_box.SecretBoxError as exc:
            _logger.warning("%s: secrets left in plaintext: %s", self._name, exc)
        return count
