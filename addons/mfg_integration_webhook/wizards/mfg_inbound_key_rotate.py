# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import secrets
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

MAX_GRACE_DAYS = 90


class MfgInboundKeyRotate(models.TransientModel):
    """Replace a connector's inbound API key without cutting off the pushing system.

    The new key is valid at once; the previous one stays valid until the expiry chosen
    here, so the peer can switch at its own pace. The new key is shown once, on this
    wizard, to the manager who rotated it; the chatter records who rotated and until when
    the old key works - never a key.
    """

    _name = "mfg.inbound.key.rotate"
    _description = "Rotate inbound API key"

    connector_id = fields.Many2one("mfg.connector", required=True, readonly=True,
                                   ondelete="cascade")
    grace_days = fields.Integer(
        "Keep previous key valid for (days)", default=7,
        help="0 = the previous key stops working at once.")
    previous_expires_at = fields.Datetime("Previous key valid until",
                                          compute="_compute_previous_expires_at")
    # Not stored: the key lives only encrypted, on the connector; the wizard shows it once.
    new_key = fields.Char(compute="_compute_new_key", groups="mfg_integration.group_mfg_manager")
    state = fields.Selection([("draft", "Draft"), ("done", "Done")], default="draft",
                             readonly=True)

    @api.depends("grace_days")
    def _compute_previous_expires_at(self):
        now = fields.Datetime.now()
        for wizard in self:
            wizard.previous_expires_at = now + timedelta(days=max(wizard.grace_days, 0))

    @api.depends("state")
    def _compute_new_key(self):
        for wizard in self:
            wizard.new_key = (wizard.connector_id._mfg_secret("inbound_api_key")
                              if wizard.state == "done" else False)

    def action_rotate(self):
        self.ensure_one()
        if not self.env.user.has_group("mfg_integration.group_mfg_manager"):
            raise AccessError(_("Only Integration Managers can rotate inbound keys."))
        if self.state != "draft":
            raise UserError(_("This key was already rotated; open the wizard again to "
                              "rotate once more."))
        if not 0 <= self.grace_days <= MAX_GRACE_DAYS:
            raise UserError(_("The previous key can stay valid for 0 to %s days.",
                              MAX_GRACE_DAYS))
        connector = self.connector_id
        # Plain write as the manager: record rules and company checks apply.
        connector.check_access("write")
        new_key = secrets.token_urlsafe(32)
        expires_at = fields.Datetime.now() + timedelta(days=self.grace_days)
        previous = connector.inbound_api_key
        connector.write({
            "inbound_api_key": new_key,
            "inbound_api_key_previous": previous or False,
            "inbound_api_key_previous_expires_at": expires_at if previous else False,
        })
        if previous:
            note = _("Inbound API key rotated by %(user)s; the previous key is accepted until "
                     "%(until)s UTC.", user=self.env.user.name, until=expires_at)
        else:
            note = _("Inbound API key set by %(user)s.", user=self.env.user.name)
        connector.message_post(body=note, message_type="comment", subtype_xmlid="mail.mt_note")
        self.write({"state": "done"})
        return {
            "type": "ir.actions.act_window",
            "name": _("New inbound key"),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }
