# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.tests import tagged

from .common import MfgMrpCase


@tagged("post_install", "-at_install")
class TestBatchedConfirmations(MfgMrpCase):
    def test_burst_of_partial_reports_gives_the_same_result_as_one_by_one(self):
        batched, single = self.new_order(qty=100), self.new_order(qty=100)
        events = []
        for i in range(30):
            events.append((f"b{i}", "production.confirmation",
                           self.confirmation(batched, "quantity", good=3, scrap=i % 2), i % 60))
        self.shop_floor(*events)
        for i in range(3):  # one per job, so nothing to batch
            self.shop_floor((f"s{i}", "production.confirmation",
                             self.confirmation(single, "quantity", good=30, scrap=5), i))
        self.assertEqual((batched.mfg_reported_good_qty, batched.mfg_reported_scrap_qty), (90, 15))
        self.assertEqual((single.mfg_reported_good_qty, single.mfg_reported_scrap_qty), (90, 15))
        self.assertEqual(batched.qty_producing, single.qty_producing)
        def sheet(mo):
            return mo.move_raw_ids.filtered(lambda m: m.product_id == self.sheet).quantity
        self.assertEqual(sheet(batched), sheet(single))
        messages = self.Message.search([("key", "like", "b%"), ("source", "=", "EDGE-T1")])
        self.assertEqual(set(messages.mapped("state")), {"done"})
        self.assertIn("batch of 30", messages[0].result_summary)
        self.assertTrue(all(m.latency_ms >= 0 and m.mapped_at for m in messages))

    def test_a_bad_message_in_a_burst_is_singled_out(self):
        production = self.new_order(qty=100)
        bad = self.confirmation(production, "quantity", good=1, work_center="WC-UNKNOWN")
        self.shop_floor(("g1", "production.confirmation",
                         self.confirmation(production, "quantity", good=2), 1),
                        ("g2", "production.confirmation", bad, 2),
                        ("g3", "production.confirmation",
                         self.confirmation(production, "quantity", good=5), 3))
        self.assertEqual(self.message("g2").state, "exception")
        self.assertIn("WC-UNKNOWN", self.message("g2").last_error)
        self.assertEqual((self.message("g1").state, self.message("g3").state), ("done", "done"))
        self.assertEqual(production.mfg_reported_good_qty, 7)
