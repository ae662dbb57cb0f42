# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models

from odoo.addons.mfg_integration.exceptions import MfgBusinessError

from ..services import master_data
from ..services.shopfloor import duration_seconds, utc_naive


class MrpWorkcenter(models.Model):
    _inherit = "mrp.workcenter"

    mfg_maintenance_after_min = fields.Float(
        "Maintenance request after (min)",
        help="A machine stop reported by the shop floor that lasts longer than this opens one "
        "maintenance request on the stopped equipment. 0 disables it.",
    )
    mfg_equipment_id = fields.Many2one(
        "maintenance.equipment", "Main equipment", check_company=True,
        help="Equipment that gets the maintenance request when the stop names no asset.",
    )

    def _mfg_apply_downtime(self, message):
        """A machine.downtime message on this work center: one productivity-loss line per
        stop (updated by later events of the same stop), and a maintenance request when the
        stop lasts longer than the work center's threshold."""
        self.ensure_one()
        stop = message._mfg_payload()
        start = utc_naive(stop["start"])
        end = utc_naive(stop.get("end"))
        try:
            seconds = duration_seconds(stop.get("duration"))
        except ValueError as exc:
            raise MfgBusinessError(str(exc)) from None
        if not end and seconds is not None:
            end = fields.Datetime.add(start, seconds=seconds)
        Productivity = self.env["mrp.workcenter.productivity"].sudo()
        line = Productivity.search([("workcenter_id", "=", self.id),
                                    ("date_start", "=", start)], limit=1)
        line_values = {"loss_id": message._mfg_mapped("reason_code"), "date_end": end,
                       "description": self.env._("Shop floor stop %(code)s (%(origin)s)",
                                                 code=stop["reason_code"],
                                                 origin=message.source)}
        if line:
            line.write({k: v for k, v in line_values.items() if v or k == "loss_id"})
        else:
            line = Productivity.create(dict(line_values, workcenter_id=self.id,
                                            date_start=start, company_id=self.company_id.id
                                            or message.company_id.id))
        threshold = self.mfg_maintenance_after_min
        # A stop without an end is still going on: it counts until now.
        duration_min = ((end or fields.Datetime.now()) - start).total_seconds() / 60.0
        if threshold and duration_min >= threshold:
            return self.env["maintenance.request"]._mfg_open_for_downtime(
                message, self, start, duration_min)
        return line

    @api.model
    def _mfg_apply_work_center(self, message):
        """A work center from its owner: created with its mapping when new, updated where
        the sender owns the field, archived when flagged for deletion."""
        center = message._mfg_payload()
        code = center["id"]
        values = {"description": center["description"],
                  "time_efficiency": center.get("time_efficiency")}
        if center.get("capacity"):
            message._log_action(self.env._(
                "Capacity %s not applied: Odoo keeps work center capacities per product.",
                center["capacity"]))
        cost = center.get("cost_per_hour")
        if cost:
            if cost["currency"] != message.company_id.currency_id.name:
                raise MfgBusinessError(self.env._(
                    "Cost rate of %(code)s is in %(currency)s; plant %(plant)s keeps its "
                    "costs in %(own)s.", code=code, currency=cost["currency"],
                    plant=message.company_id.name, own=message.company_id.currency_id.name))
            values["cost_per_hour"] = cost["value"]
        if center.get("calendar_id"):
            calendar = self.env["resource.calendar"].sudo().search([
                ("name", "=", center["calendar_id"]),
                ("company_id", "in", [message.company_id.id, False])], limit=1)
            if not calendar:
                raise MfgBusinessError(self.env._(
                    "Working-time calendar %s does not exist in Odoo.", center["calendar_id"]))
            values["calendar"] = calendar.id
        values = {name: value for name, value in values.items() if value is not None}
        workcenter = master_data.mapped_record(
            message, "work_center", code, "mrp.workcenter", "workcenter_id",
            [("code", "=", code), ("company_id", "in", [message.company_id.id, False])])
        if not workcenter:
            workcenter = self.sudo().create({
                "name": values["description"], "code": code[:40],
                "company_id": message.company_id.id,
                **{master_data.WORK_CENTER_FIELDS[name]: value for name, value in values.items()
                   if name != "description"}})
            master_data.remember(message, "work_center", code, "workcenter_id", workcenter)
            return workcenter
        master_data.apply_owned(message, workcenter.sudo(), values,
                                master_data.WORK_CENTER_FIELDS)
        if center.get("deleted") and workcenter.active:
            workcenter.sudo().active = False
        return workcenter
