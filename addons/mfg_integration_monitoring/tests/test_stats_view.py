# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.tests import tagged

from .common import NOW, MonitoringTestCase


@tagged("post_install", "-at_install")
class TestStatsView(MonitoringTestCase):
    def test_read_group_per_state_with_weighted_latency(self):
        self.put_plant_a_traffic()
        # What the pivot view asks for (web client API).
        groups = self.Stats.with_user(self.user).formatted_read_group(
            [("flow_id", "=", self.flow_alarm.id)], ["state"],
            ["message_count:sum", "latency_avg_ms:avg", "attempts_total:sum"])
        by_state = {group["state"]: group for group in groups}
        self.assertEqual(by_state["done"]["message_count:sum"], 6)
        self.assertEqual(by_state["dead"]["message_count:sum"], 2)
        self.assertEqual(by_state["dead"]["attempts_total:sum"], 10)
        # 5 messages at 11:xx (2000 ms in all) and one at 10:30 (5000 ms): the mean of the
        # messages is 7000 / 6, not the mean of the hourly means (2700).
        self.assertAlmostEqual(by_state["done"]["latency_avg_ms:avg"], 7000 / 6, places=3)

    def test_hourly_buckets_and_p95(self):
        self.put_plant_a_traffic()
        rows = self.Stats.search_read(
            [("flow_id", "=", self.flow_alarm.id), ("state", "=", "done")],
            ["received_hour", "message_count", "latency_p95_ms"], order="received_hour")
        self.assertEqual([(r["received_hour"], r["message_count"]) for r in rows],
                         [(NOW.replace(hour=10), 1), (NOW.replace(hour=11), 5)])
        self.assertAlmostEqual(rows[1]["latency_p95_ms"], 880)

    def test_plant_isolation(self):
        self.put_plant_a_traffic()
        self.put("b-1", "done", 10, latency_ms=50, source="EDGE-B1")
        Stats_b = self.Stats.with_user(self.user_b)
        self.assertEqual(set(Stats_b.search([]).mapped("company_id")), {self.plant_b})
        self.assertNotIn(self.plant_b, self.Stats.with_user(self.user).search([]).company_id)
