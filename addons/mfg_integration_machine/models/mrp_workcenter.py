# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import fields, models

from odoo.addons.mfg_integration.services.access import ensure_companies_allowed


class MrpWorkcenter(models.Model):
    _inherit = "mrp.workcenter"

    mfg_ideal_cycle_s = fields.Float(
        "Ideal cycle (s)",
        digits=(16, 3),
        tracking=True,
        help="Fastest possible time for one part on this work center: OEE performance compares "
        "the parts the machine counted with it. Per-product times below take precedence.",
    )
    mfg_ideal_cycle_ids = fields.One2many(
        "mfg.workcenter.ideal.cycle", "workcenter_id", "Ideal cycle per product"
    )
    mfg_oee_ids = fields.One2many("mfg.oee", "workcenter_id", "OEE periods")
    mfg_oee_yesterday = fields.Float(
        "OEE yesterday", compute="_compute_mfg_oee_recent", digits=(16, 6)
    )
    mfg_oee_today = fields.Float("OEE today", compute="_compute_mfg_oee_recent", digits=(16, 6))

    def _compute_mfg_oee_recent(self):
        today = fields.Date.context_today(self)
        records = self.env["mfg.oee"].search(
            [
                ("workcenter_id", "in", self.ids),
                ("period_type", "=", "day"),
                ("date", ">=", today - timedelta(days=1)),
            ]
        )
        by_key = {(r.workcenter_id.id, r.date): r.oee for r in records}
        for workcenter in self:
            workcenter.mfg_oee_today = by_key.get((workcenter.id, today), 0.0)
            workcenter.mfg_oee_yesterday = by_key.get(
                (workcenter.id, today - timedelta(days=1)), 0.0
            )

    def _mfg_ideal_cycle_s(self, product_id):
        """Seconds per part of ``product_id`` (an id or None) on this work center; 0 if unknown."""
        self.ensure_one()
        if product_id:
            line = self.mfg_ideal_cycle_ids.filtered(lambda c: c.product_id.id == product_id)[:1]
            if line:
                return line.ideal_cycle_s
        return self.mfg_ideal_cycle_s or 0.0

    def action_mfg_compute_oee(self):
        """Recompute the last 7 days of these work centers (users of their plants)."""
        ensure_companies_allowed(
            self.env, self.company_id, self.env._("Work center %s", self[:1].name)
        )
        self.check_access("read")
        today = fields.Date.context_today(self)
        self.env["mfg.oee"]._mfg_compute(self, today - timedelta(days=6), today)
        return self.action_view_mfg_oee()

    def action_view_mfg_oee(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "mfg_integration_machine.action_mfg_oee"
        )
        action["domain"] = [("workcenter_id", "in", self.ids)]
        action["context"] = {"search_default_filter_day": 1}
        return action
