# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import json

from mfg_canonical import EnvelopeError, validate_payload

from odoo import _, api, fields, models
from odoo.exceptions import UserError


class MfgMessageEdit(models.TransientModel):
    """Correct a message's payload and replay it; the change is kept in the chatter."""

    _name = "mfg.message.edit"
    _description = "Edit integration message payload and replay"

    message_id = fields.Many2one("mfg.message", required=True, ondelete="cascade")
    payload_text = fields.Text("Payload (JSON)", required=True)
    reason = fields.Char(required=True,
                         help="Why the payload is changed (kept in the audit trail).")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        message = self.env["mfg.message"].browse(values.get("message_id"))
        if message and "payload_text" in fields_list:
            values["payload_text"] = json.dumps(message.payload, indent=2, sort_keys=True)
        return values

    def action_apply(self):
        """Store the edited payload with its audit note and replay (Integration Operators)."""
        self.ensure_one()
        message = self.message_id
        message._check_operator()
        # The message id comes from the caller: the record rules decide before any sudo().
        message.check_access("read")
        if message.state == "done":
            raise UserError(_("A done message cannot be edited; replay the flow instead."))
        try:
            payload = json.loads(self.payload_text)
        except ValueError as exc:
            raise UserError(_("The payload is not valid JSON: %s", exc)) from exc
        try:
            validate_payload(message.canonical_type, message.schema_version, payload)
        except EnvelopeError as exc:
            raise UserError(_("The payload does not match schema %(type)s v%(version)s: %(err)s",
                              type=message.canonical_type, version=message.schema_version,
                              err=exc)) from exc
        before = json.dumps(message.payload, sort_keys=True)
        after = json.dumps(payload, sort_keys=True)
        values = {"payload": payload, "edited": True}
        if not message.original_payload:
            values["original_payload"] = message.payload
        message.sudo().write(values)
        # Operators cannot write messages, so the audit note is posted as superuser in the
        # operator's name.
        message.sudo().message_post(
            body=_("Payload edited by %(user)s. Reason: %(reason)s\nBefore: %(before)s\n"
                   "After: %(after)s", user=self.env.user.name, reason=self.reason,
                   before=before, after=after),
            author_id=self.env.user.partner_id.id,
            subtype_xmlid="mail.mt_note",
        )
        message._reset_for_processing()
        message.sudo()._enqueue_processing(force_now=True)
        return {"type": "ir.actions.act_window_close"}
