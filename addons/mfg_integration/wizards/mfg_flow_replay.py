# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, fields, models
from odoo.exceptions import UserError

from ..states import REQUEUEABLE_STATES


class MfgFlowReplay(models.TransientModel):
    """Replay every message of a flow received in a time range (e.g. after fixing a bug)."""

    _name = "mfg.flow.replay"
    _description = "Replay integration flow messages"

    flow_id = fields.Many2one("mfg.flow", required=True, ondelete="cascade")
    date_from = fields.Datetime(required=True)
    date_to = fields.Datetime(required=True, default=fields.Datetime.now)
    include_done = fields.Boolean(
        help="Also re-apply messages already done. Handlers are idempotent, but check what "
        "the flow does before replaying done messages.")
    message_count = fields.Integer(compute="_compute_message_count")

    def _domain(self):
        states = list(REQUEUEABLE_STATES)
        if self.include_done:
            states.append("done")
        return [("flow_id", "=", self.flow_id.id), ("state", "in", states),
                ("occurred_at", ">=", self.date_from), ("occurred_at", "<=", self.date_to)]

    def _compute_message_count(self):
        for wizard in self:
            wizard.message_count = (self.env["mfg.message"].search_count(wizard._domain())
                                    if wizard.flow_id and wizard.date_from and wizard.date_to
                                    else 0)

    def action_replay(self):
        """Requeue the flow's messages of the range (Integration Operators)."""
        self.ensure_one()
        if self.date_from > self.date_to:
            raise UserError(_("The start of the range is after its end."))
        # The flow id comes from the caller: the record rules decide before any sudo().
        self.flow_id.check_access("read")
        messages = self.env["mfg.message"].search(self._domain(), order="occurred_at, id")
        if not messages:
            raise UserError(_("No message of this flow to replay in that range."))
        messages._check_operator()
        messages._reset_for_processing()
        # Operators may not edit flows, yet the replay belongs in the flow's history.
        self.flow_id.sudo().message_post(author_id=self.env.user.partner_id.id, body=_(
            "%(user)s replayed %(n)s message(s) occurred between %(start)s and %(end)s%(done)s.",
            user=self.env.user.name, n=len(messages), start=self.date_from, end=self.date_to,
            done=_(" (done included)") if self.include_done else ""))
        messages.sudo()._enqueue_processing(force_now=True)
        return {"type": "ir.actions.act_window_close"}
