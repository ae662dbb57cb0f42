# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Send setpoints to a work center's machine: a machine.setpoint (v2) message in the outbox of
every connector subscribed to the type in the plant (an edge bridge writes them to allow-listed
PLC nodes and reports each result back on the message). An audited action: the work center's
chatter says who sent what; users need manufacturing rights in the work center's plant.
"""
from odoo import fields, models
from odoo.exceptions import UserError

from odoo.addons.mfg_integration.services.access import ensure_companies_allowed
from odoo.addons.mfg_integration.services.outbox import Event, publish, subscribed_flows


class MfgSetpointSend(models.TransientModel):
    _name = "mfg.setpoint.send"
    _description = "Send setpoints to a machine"

    workcenter_id = fields.Many2one("mrp.workcenter", required=True, readonly=True)
    production_id = fields.Many2one("mrp.production", "For order",
                                    domain="[('state', 'in', ('confirmed', 'progress'))]")
    recipe = fields.Char(help="The recipe or work master the values come from (optional).")
    line_ids = fields.One2many("mfg.setpoint.send.line", "wizard_id", "Setpoints")

    def action_send(self):
        self.ensure_one()
        workcenter = self.workcenter_id
        ensure_companies_allowed(self.env, workcenter.company_id, workcenter.display_name)
        workcenter.check_access("read")
        if not self.env.user.has_group("mrp.group_mrp_user"):
            raise UserError(self.env._("Only manufacturing users can send setpoints."))
        if not self.line_ids:
            raise UserError(self.env._("Give at least one setpoint."))
        company = workcenter.company_id or self.env.company
        flows = subscribed_flows(self.env, ["machine.setpoint"], company)
        if not flows:
            raise UserError(self.env._("No connector of %s has an outbound machine.setpoint flow.",
                                       company.name))
        stamp = fields.Datetime.now()
        key = f"odoo:setpoint:{workcenter.id}:{stamp:%Y%m%dT%H%M%S%f}"

        def build(mapper):
            return {
                "setpoint_id": key,
                "equipment_id": {"value": mapper.work_center(workcenter)},
                "operations_request_id": self.production_id.name or None,
                "recipe_id": self.recipe or None,
                "parameters": [line._payload() for line in self.line_ids],
            }

        messages = publish(flows, "machine.setpoint", company,
                           [Event(key, self.production_id.name or None, stamp, build)])
        workcenter.sudo().message_post(body=self.env._(
            "Setpoints sent by %(user)s: %(values)s (%(n)s connector(s)).", user=self.env.user.name,
            values=", ".join(f"{line.name} = {line.value}" for line in self.line_ids),
            n=len(messages)))
        return {"type": "ir.actions.act_window_close"}


class MfgSetpointSendLine(models.TransientModel):
    _name = "mfg.setpoint.send.line"
    _description = "Setpoint to send"

    wizard_id = fields.Many2one("mfg.setpoint.send", required=True, ondelete="cascade")
    name = fields.Char("Parameter", required=True, help="As the machine's allow-list names it.")
    value = fields.Float(required=True, digits=(16, 4))
    unit_code = fields.Char("Unit (Rec 20)", size=3, help="UN/ECE Rec 20 code, e.g. CEL, RPM.")

    def _payload(self):
        parameter = {"id": self.name, "value": self.value}
        if self.unit_code:
            parameter["unit"] = {"unit_code": self.unit_code.upper()}
        return parameter
