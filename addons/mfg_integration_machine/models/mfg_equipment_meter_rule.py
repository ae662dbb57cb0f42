# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A maintenance threshold of a meter: every ``interval`` units, one preventive request.

``last_count`` remembers how many thresholds were already requested (value // interval), and
each request carries ``meter-rule:<rule>:<count>`` in a unique column: a threshold opens one
request, whatever the number of messages, replays or concurrent jobs crossing it. A jump over
several thresholds at once (a machine offline for long) opens one request naming the last.
"""

import math

from odoo import _, fields, models


class MfgEquipmentMeterRule(models.Model):
    _name = "mfg.equipment.meter.rule"
    _description = "Equipment meter maintenance threshold"
    _order = "meter_id, interval"

    name = fields.Char("Maintenance", required=True, help="e.g. Lubricate the ram, Replace the die")
    meter_id = fields.Many2one("mfg.equipment.meter", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="meter_id.company_id", store=True)
    interval = fields.Float("Every", required=True, help="Meter units between two maintenances.")
    last_count = fields.Integer(
        "Thresholds requested",
        readonly=True,
        help="How many times the interval was reached and requested.",
    )
    maintenance_team_id = fields.Many2one("maintenance.team", "Team")
    duration_h = fields.Float("Expected duration (h)")
    active = fields.Boolean(default=True)

    _interval_positive = models.Constraint("CHECK(interval > 0)", "The interval must be positive.")

    def _mfg_check(self, value, message):
        requests = self.env["maintenance.request"]
        for rule in self:
            count = math.floor(value / rule.interval + 1e-9)
            if count <= rule.last_count:
                continue
            rule.sudo().last_count = count
            requests |= self.env["maintenance.request"]._mfg_open_once(
                f"meter-rule:{rule.id}:{count}",
                {
                    "name": _(
                        "%(work)s at %(value).0f %(kind)s (%(equipment)s)",
                        work=rule.name,
                        value=count * rule.interval,
                        kind=rule.meter_id.kind.replace("_", " "),
                        equipment=rule.meter_id.equipment_id.name,
                    ),
                    "equipment_id": rule.meter_id.equipment_id.id,
                    "maintenance_type": "preventive",
                    **(
                        {"maintenance_team_id": rule.maintenance_team_id.id}
                        if rule.maintenance_team_id
                        else {}
                    ),
                    "duration": rule.duration_h,
                    "company_id": rule.company_id.id,
                    "description": _(
                        "Meter %(meter)s reached %(value).1f (threshold every %(every).0f); "
                        "message %(key)s.",
                        meter=rule.meter_id.name,
                        value=value,
                        every=rule.interval,
                        key=message.key if message else "-",
                    ),
                },
            )
        return requests
