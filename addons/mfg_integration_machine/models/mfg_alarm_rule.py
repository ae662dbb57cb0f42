# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Which machine alarms open a corrective maintenance request.

A rule names an alarm code (or ``*`` for any code) and the lowest OPC UA severity (1-1000; 801+
is "high") that triggers it, optionally for one work center. A raised alarm matching the most
specific active rule (own code before ``*``, own work center before any) opens one corrective
request per alarm (``alarm:<source>:<alarm id>@<raised at>``) until maintenance closes it: the
alarm staying active, being re-sent, raised again or replayed meanwhile opens nothing more;
raised after the request is done, it opens a new one. Clearing the alarm does not close the
request (a person does).
"""

from odoo import fields, models


class MfgAlarmRule(models.Model):
    _name = "mfg.alarm.rule"
    _description = "Machine alarm -> corrective maintenance"
    _inherit = ["mail.thread"]
    _check_company_auto = True
    _order = "code, min_severity desc"

    name = fields.Char(required=True, tracking=True)
    code = fields.Char(
        "Alarm code",
        required=True,
        default="*",
        tracking=True,
        help="The machine's alarm code, or * for any code.",
    )
    min_severity = fields.Integer(
        "From severity",
        default=801,
        required=True,
        tracking=True,
        help="OPC UA severity 1-1000: 801-1000 high, 601-800 medium-high.",
    )
    workcenter_id = fields.Many2one(
        "mrp.workcenter",
        "Work center",
        check_company=True,
        help="Only alarms of this work center (any if empty).",
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    create_request = fields.Boolean("Open a corrective request", default=True, tracking=True)
    maintenance_team_id = fields.Many2one("maintenance.team", "Team")
    priority = fields.Selection(
        [("0", "Very Low"), ("1", "Low"), ("2", "Normal"), ("3", "High")], default="3"
    )
    active = fields.Boolean(default=True)

    _severity_range = models.Constraint(
        "CHECK(min_severity BETWEEN 1 AND 1000)", "Severity goes from 1 to 1000 (OPC UA)."
    )

    def _mfg_best_for(self, code, severity, workcenter, company):
        """The most specific active rule for this alarm, or an empty recordset."""
        candidates = self.sudo().search(
            [
                ("company_id", "=", company.id),
                ("code", "in", [code, "*"]),
                ("min_severity", "<=", severity),
                ("workcenter_id", "in", [workcenter.id or False, False]),
            ]
        )
        return candidates.sorted(lambda r: (r.code == "*", not r.workcenter_id, -r.min_severity))[
            :1
        ]
