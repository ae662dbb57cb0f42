# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import MfgMrpCase


@tagged("post_install", "-at_install")
class TestDowntimeQuality(MfgMrpCase):
    def test_long_stop_opens_one_maintenance_request(self):
        stop = {"work_center": "WC-PRESS", "start": "2026-11-23T08:00:00+00:00",
                "reason_code": "JAM", "asset": "PRESS1"}
        self.shop_floor(("d-start", "machine.downtime", stop, 0),
                        ("d-end", "machine.downtime", dict(stop, end="2026-11-23T08:25:00+00:00",
                                                           duration_s=1500), 25),
                        ("d-again", "machine.downtime", dict(stop, end="2026-11-23T08:25:00+00:00",
                                                             duration_s=1500, critical=True), 26))
        lines = self.env["mrp.workcenter.productivity"].search(
            [("workcenter_id", "=", self.press.id)])
        self.assertEqual(len(lines), 1, "start and end events describe one stop")
        self.assertEqual(set((self.message("d-start") | self.message("d-end")).mapped("state")),
                         {"done"})
        self.assertEqual((lines.loss_id, round(lines.duration)), (self.loss, 25))
        requests = self.env["maintenance.request"].search([("mfg_downtime_ref", "!=", False)])
        self.assertEqual(len(requests), 1)
        self.assertEqual(requests.equipment_id, self.equipment)
        # A short stop stays a productivity loss only.
        self.shop_floor(("d-short", "machine.downtime", dict(
            stop, start="2026-11-23T09:00:00+00:00", end="2026-11-23T09:03:00+00:00"), 59))
        self.assertEqual(self.env["maintenance.request"].search_count(
            [("mfg_downtime_ref", "!=", False)]), 1)

    def test_quality_hold_blocks_completion_until_released(self):
        production = self.new_order(qty=2)
        self.shop_floor(("h1", "quality.hold", {"order_ref": production.name, "active": True,
                                                "reason": "Suspect coil batch"}, 1),
                        ("f1", "production.confirmation",
                         self.confirmation(production, "complete", good=2, final=True), 2))
        self.assertEqual(production.state, "confirmed")
        final = self.message("f1")
        self.assertEqual(final.state, "exception")
        self.assertIn("blocked by quality", final.last_error)
        self.assertTrue(production.activity_ids.filtered(lambda a: "Quality" in a.summary))
        production.qty_producing = 2
        with self.assertRaisesRegex(UserError, "quality hold must be released"):
            production.button_mark_done()
        self.shop_floor(("h2", "quality.hold", {"order_ref": production.name, "active": False,
                                                "reason": "Coil OK"}, 3))
        self.run_jobs()
        self.assertEqual(final.state, "done", "the blocked confirmation was applied on release")
        self.assertEqual(production.state, "done")
        self.assertFalse(production.activity_ids.filtered(lambda a: "Quality" in (a.summary or "")))

    def test_failed_inspection_blocks_until_a_pass(self):
        production = self.new_order(qty=1)
        result = {"order_ref": production.name, "characteristic": "hole diameter",
                  "result": "fail", "value": 10.4}
        self.shop_floor(("q1", "quality.result", result, 1))
        self.assertEqual(production.mfg_blocking_hold_count, 1)
        self.shop_floor(("q2", "quality.result", dict(result, result="pass", value=10.0), 2))
        production.invalidate_recordset()
        self.assertEqual(production.mfg_blocking_hold_count, 0)
        self.assertFalse(production._mfg_blocking_holds())

    def test_reconciliation_lists_mismatches(self):
        production = self.new_order(qty=5)
        self.shop_floor(("r1", "production.confirmation",
                         self.confirmation(production, "quantity", good=3), 1))
        production.qty_producing = 2  # someone changed it in Odoo
        lines = self.env["mfg.reconciliation.line"]._cron_reconcile()
        self.assertEqual(len(lines), 1)
        self.assertEqual((lines.reported_qty, lines.odoo_qty, lines.difference), (3, 2, 1))
        action = lines.action_open_messages()
        self.assertIn(production.name, action["domain"][0][2])
