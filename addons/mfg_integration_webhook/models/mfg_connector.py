# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import calendar

from odoo import _, api, fields, models
from odoo.exceptions import AccessError

from odoo.addons.mfg_integration.models.mfg_connector import archive_removed_type

WEBHOOK_IN = "webhook_in"


class MfgConnector(models.Model):
    _inherit = "mfg.connector"

    # Pushes to /mfg/in/<code> (controllers/inbound.py); outbound, the core's envelope POST.
    connector_type = fields.Selection(selection_add=[(WEBHOOK_IN, "Inbound webhook")],
                                      ondelete={WEBHOOK_IN: archive_removed_type})
    inbound_auth = fields.Selection(
        [("api_key", "API key"), ("hmac", "HMAC signature"),
         ("api_key_hmac", "API key and HMAC signature")],
        string="Inbound authentication", default="api_key", required=True, tracking=True,
        help="How pushes to /mfg/in/<code> authenticate. API key: 'Authorization: Bearer "
        "<key>' or 'X-Api-Key'. HMAC: X-Mfg-Timestamp (Unix seconds, at most 5 minutes "
        "old) and X-Mfg-Signature: sha256=HMAC-SHA256(HMAC secret, '<timestamp>.<body>'). "
        "With 'API key', a signature that is sent is checked too.")
    inbound_api_key = fields.Char(
        "Inbound API key", groups="mfg_integration.group_mfg_manager", copy=False,
        compute="_compute_mfg_secrets", inverse="_inverse_mfg_secrets", readonly=False,
        help="Key expected on /mfg/in/<code>. Only this key (and, during a rotation, the "
        "previous one until it expires) is accepted: the connector's outbound API key / "
        "token never is. Empty = API-key pushes are refused.")
    inbound_api_key_enc = fields.Char(groups="mfg_integration.group_mfg_manager", copy=False)
    inbound_api_key_previous = fields.Char(
        "Previous inbound API key", groups="mfg_integration.group_mfg_manager", copy=False,
        compute="_compute_mfg_secrets", inverse="_inverse_mfg_secrets", readonly=False,
        help="The key replaced by the last rotation; accepted until its expiry.")
    inbound_api_key_previous_enc = fields.Char(groups="mfg_integration.group_mfg_manager",
                                               copy=False)
    inbound_api_key_previous_expires_at = fields.Datetime(
        "Previous inbound key valid until", copy=False, readonly=True,
        help="After this moment the previous inbound key is refused (401).")
    inbound_path = fields.Char("Inbound endpoint", compute="_compute_inbound_path")

    @api.depends("code")
    def _compute_inbound_path(self):
        for connector in self:
            connector.inbound_path = f"/mfg/in/{connector.code}" if connector.code else False

    def _inbound_accepted_keys(self):
        """[(key, expires_at Unix seconds or None)] the endpoint compares against (read with
        sudo: credentials). Inbound keys only: falling back to the outbound API key would
        let whoever holds the peer's credential push into Odoo, and vice versa."""
        self.ensure_one()
        keys = []
        current = self._mfg_secret("inbound_api_key")
        if current:
            keys.append((current, None))
        expires_at = self.inbound_api_key_previous_expires_at
        previous = self._mfg_secret("inbound_api_key_previous") if expires_at else ""
        if previous:
            keys.append((previous, calendar.timegm(expires_at.utctimetuple())))
        return keys

    def _inbound_hmac_secret(self):
        self.ensure_one()
        return self._mfg_secret("hmac_secret") or ""

    def action_rotate_inbound_key(self):
        """Open the rotation wizard (managers only: it reveals the new key)."""
        self.ensure_one()
        if not self.env.user.has_group("mfg_integration.group_mfg_manager"):
            raise AccessError(_("Only Integration Managers can rotate inbound keys."))
        return {
            "type": "ir.actions.act_window",
            "name": _("Rotate inbound key"),
            "res_model": "mfg.inbound.key.rotate",
            "view_mode": "form",
            "target": "new",
            "context": {"default_connector_id": self.id},
        }

    def _inbound_ingest_env_user(self):
        """User the pushed messages are stored as: the first bound API user, so create_uid
        says which machine account the push belongs to; OdooBot when none is bound."""
        self.ensure_one()
        return self.ingest_user_ids.filtered("active")[:1] or self.env.ref("base.user_root")

    @api.model
    def _mfg_connection_tests(self):
        return {**super()._mfg_connection_tests(), WEBHOOK_IN: "_test_inbound_connection"}

    @api.model
    def _mfg_push_types(self):
        return super()._mfg_push_types() | {WEBHOOK_IN}

    def _inbound_accepts_pushes(self):
        """Pushes to /mfg/in/<code> are accepted for active connectors of a type in the
        push registry (``_mfg_push_types``, which each addon extends with its type)."""
        self.ensure_one()
        return self.active and self.connector_type in self._mfg_push_types()
