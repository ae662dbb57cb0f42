# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Meters of a piece of equipment (cycles, run hours) kept up to date by the shop floor.

Counter messages of the machine add their processed parts to its "cycles" meters and the length
of each window in which it made parts to its "run hours" meters. The value is written only that
way (and by nobody in the UI or over RPC: a meter is a reading, not a setting); its rules then
open one preventive maintenance request per threshold crossed.
"""

from odoo import _, api, fields, models
from odoo.exceptions import AccessError

METER_KINDS = [("cycles", "Cycles"), ("run_hours", "Run hours")]


class MfgEquipmentMeter(models.Model):
    _name = "mfg.equipment.meter"
    _description = "Equipment meter"
    _inherit = ["mail.thread"]
    _check_company_auto = True
    _order = "equipment_id, kind"

    name = fields.Char(compute="_compute_name", store=True)
    equipment_id = fields.Many2one(
        "maintenance.equipment",
        required=True,
        ondelete="cascade",
        index=True,
        check_company=True,
        tracking=True,
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    kind = fields.Selection(METER_KINDS, required=True, default="cycles", tracking=True)
    value = fields.Float(
        readonly=True,
        digits=(16, 2),
        tracking=True,
        default=0.0,
        help="Updated by the shop floor's counter messages only.",
    )
    last_update_at = fields.Datetime(readonly=True)
    rule_ids = fields.One2many("mfg.equipment.meter.rule", "meter_id", "Maintenance thresholds")
    active = fields.Boolean(default=True)

    _equipment_kind_uniq = models.Constraint(
        "UNIQUE(equipment_id, kind)", "One meter of each kind per equipment."
    )

    @api.depends("equipment_id.name", "kind")
    def _compute_name(self):
        labels = dict(METER_KINDS)
        for meter in self:
            meter.name = f"{meter.equipment_id.name} - {labels.get(meter.kind, '')}"

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su and any(vals.get("value") for vals in vals_list):
            raise AccessError(_("A meter starts at 0: its value comes from the shop floor."))
        return super().create(vals_list)

    def write(self, vals):
        if not self.env.su and {"value", "last_update_at"} & set(vals):
            raise AccessError(
                _(
                    "A meter's value comes from the shop floor's counter messages; "
                    "it cannot be written by hand."
                )
            )
        return super().write(vals)

    def _mfg_add(self, amount, message):
        """Add ``amount`` (in one UPDATE: concurrent jobs add up) and apply the rules; returns
        the maintenance requests opened."""
        self.ensure_one()
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE mfg_equipment_meter SET value = COALESCE(value, 0) + %s, last_update_at = "
            "now() at time zone 'UTC' WHERE id = %s RETURNING value",
            (amount, self.id),
        )
        value = self.env.cr.fetchone()[0]
        self.invalidate_recordset(["value", "last_update_at"])
        return self.rule_ids.filtered("active")._mfg_check(value, message)
