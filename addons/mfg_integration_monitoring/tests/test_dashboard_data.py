# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from odoo.addons.mfg_integration.registry import Handler

from .common import MonitoringTestCase


@tagged("post_install", "-at_install")
class TestDashboardData(MonitoringTestCase):
    """get_dashboard_data against figures computed by hand for put_plant_a_traffic():

    machine.alarm, last hour: done latencies 100, 200, 300, 400, 1000 ms -> p50 = 300,
    p95 = 400 + 0.8 * (1000 - 400) = 880 (linear interpolation at rank 0.95 * 4 = 3.8);
    + failed (2 attempts), dead (5 attempts), received (40 min ago), validated: 9 received,
    7 processed, 2 failures, 7 retries. Backlog: queue 3, oldest 40 min, 2 dead (one is
    3 hours old). Exceptions: unmapped scrap, refused scrap, unknown-order confirmation,
    refused confirmation, machine.counter without flow.
    """

    def dashboard(self, user=None, period=60, **kwargs):
        stats = self.Stats.with_user(user or self.user)
        return stats.get_dashboard_data(period, **kwargs)

    def row(self, data, flow):
        return next(r for r in data["flows"] if r["flow_id"] == flow.id)

    def test_flow_figures_match_hand_computation(self):
        self.put_plant_a_traffic()
        alarm = self.row(self.dashboard(), self.flow_alarm)
        self.assertEqual((alarm["received"], alarm["done"], alarm["processed"],
                          alarm["failures"], alarm["retries"]), (9, 5, 7, 2, 7))
        self.assertAlmostEqual(alarm["throughput_per_min"], 9 / 60)
        self.assertAlmostEqual(alarm["failure_rate"], 2 / 7)
        self.assertAlmostEqual(alarm["latency_p50_ms"], 300)
        self.assertAlmostEqual(alarm["latency_p95_ms"], 880)
        self.assertEqual(alarm["queue_depth"], 3)
        self.assertEqual(alarm["queue"], {"received": 1, "validated": 1, "mapped": 0, "failed": 1})
        self.assertEqual(alarm["oldest_pending_age_s"], 40 * 60)
        self.assertEqual(alarm["dead"], 2, "the dead letter queue counts old dead letters too")
        self.assertEqual(alarm["exceptions"], 0)
        self.assertEqual(alarm["status"], "red")

    def test_totals_and_exceptions_by_cause(self):
        self.put_plant_a_traffic()
        data = self.dashboard()
        total = data["total"]
        self.assertEqual(data["period_minutes"], 60)
        self.assertEqual(data["since"], "2026-11-23 11:00:00")
        self.assertEqual((total["received"], total["processed"], total["failures"]), (14, 12, 7))
        self.assertAlmostEqual(total["throughput_per_min"], 14 / 60)
        self.assertAlmostEqual(total["latency_p95_ms"], 880)
        self.assertEqual((total["queue_depth"], total["dead"], total["exceptions"]), (3, 2, 5))
        self.assertEqual(total["exceptions_by_cause"],
                         {"unmapped": 1, "unknown_order": 1, "rejected": 2, "other": 1})
        scrap = self.row(data, self.flow_scrap)
        self.assertEqual(scrap["exceptions_by_cause"],
                         {"unmapped": 1, "unknown_order": 0, "rejected": 1, "other": 0})
        confirmation = self.row(data, self.flow_confirmation)
        self.assertEqual(confirmation["exceptions_by_cause"],
                         {"unmapped": 0, "unknown_order": 1, "rejected": 1, "other": 0})
        no_flow = next(r for r in data["flows"] if not r["flow_id"])
        self.assertEqual(no_flow["exceptions_by_cause"]["other"], 1)
        self.assertEqual(no_flow["connector_id"], self.connector.id)
        connector = next(r for r in data["connectors"] if r["connector_id"] == self.connector.id)
        self.assertEqual((connector["received"], connector["exceptions"]), (14, 5))
        self.assertAlmostEqual(connector["latency_p50_ms"], 300)
        self.assertEqual([p["company_id"] for p in data["plants"]], [self.plant.id])
        self.assertEqual(data["plants"][0]["received"], 14)

    def test_quiet_flow_is_listed_green_with_empty_figures(self):
        self.put_plant_a_traffic()
        quiet = self.row(self.dashboard(), self.flow_quiet)
        self.assertEqual((quiet["received"], quiet["queue_depth"], quiet["dead"]), (0, 0, 0))
        self.assertIsNone(quiet["latency_p95_ms"])
        self.assertIsNone(quiet["failure_rate"])
        self.assertIsNone(quiet["oldest_pending_age_s"])
        self.assertEqual(quiet["status"], "green")

    def test_shorter_period_and_time_passing(self):
        self.put_plant_a_traffic()
        total = self.dashboard(period=15)["total"]
        # Received in the last 15 min: done (1000 ms), validated, 4 exceptions, counter.
        self.assertEqual((total["received"], total["done"]), (7, 1))
        self.assertAlmostEqual(total["latency_p50_ms"], 1000)
        self.assertAlmostEqual(total["latency_p95_ms"], 1000)
        self.assertEqual(total["queue_depth"], 3, "the backlog does not depend on the period")
        self.clock.tick(timedelta(minutes=20))
        total = self.dashboard()["total"]
        self.assertEqual(total["oldest_pending_age_s"], 60 * 60)
        self.assertEqual(total["received"], 12, "done-50 and done-45 left the hour")

    def test_every_number_opens_the_messages_behind_it(self):
        self.put_plant_a_traffic()
        data = self.dashboard()
        Message = self.Message.with_user(self.user)
        figure_of = {
            "received": lambda r: r["received"], "done": lambda r: r["done"],
            "failures": lambda r: r["failures"], "queue": lambda r: r["queue_depth"],
            "dead": lambda r: r["dead"], "exceptions": lambda r: r["exceptions"],
            **{cause: (lambda r, c=cause: r["exceptions_by_cause"][c])
               for cause in ("unmapped", "unknown_order", "rejected")},
        }
        rows = [data["total"]] + data["plants"] + data["connectors"] + data["flows"]
        for row in rows:
            for metric, figure in figure_of.items():
                with self.subTest(level=row["level"], flow=row["flow_name"], metric=metric):
                    self.assertEqual(Message.search_count(row["domains"][metric]), figure(row))

    def test_status_thresholds(self):
        flow = self.flow_quiet
        for index in range(19):
            self.put(f"ok-{index}", "done", 10, latency_ms=50, type_name="machine.downtime")
        self.assertEqual(self.row(self.dashboard(), flow)["status"], "green")
        self.put("bad-1", "exception", 10, type_name="machine.downtime", last_error="invalid")
        self.assertAlmostEqual(self.row(self.dashboard(), flow)["failure_rate"], 0.05)
        self.assertEqual(self.row(self.dashboard(), flow)["status"], "amber")
        self.env["ir.config_parameter"].set_param(
            "mfg_integration_monitoring.failure_red_pct", "4")
        self.assertEqual(self.row(self.dashboard(), flow)["status"], "red")

    def test_pending_age_turns_amber_then_red(self):
        self.put("wait-1", "received", 10, type_name="machine.downtime")
        self.assertEqual(self.flow_quiet.stale_after_min, 15)
        self.assertEqual(self.row(self.dashboard(), self.flow_quiet)["status"], "amber")
        self.clock.tick(timedelta(minutes=6))
        self.assertEqual(self.row(self.dashboard(), self.flow_quiet)["status"], "red")

    def test_plant_isolation(self):
        self.put_plant_a_traffic()
        self.put("b-done-1", "done", 10, latency_ms=50, source="EDGE-B1")
        self.put("b-done-2", "done", 10, latency_ms=70, source="EDGE-B1")
        self.put("b-dead", "dead", 10, attempts=5, source="EDGE-B1")
        data_b = self.dashboard(user=self.user_b)
        self.assertEqual([r["flow_id"] for r in data_b["flows"]], [self.flow_b.id])
        self.assertEqual((data_b["total"]["received"], data_b["total"]["dead"]), (3, 1))
        self.assertAlmostEqual(data_b["total"]["latency_p50_ms"], 60)
        self.assertEqual(data_b["total"]["exceptions"], 0)
        data_a = self.dashboard()
        self.assertNotIn(self.flow_b.id, [r["flow_id"] for r in data_a["flows"]])
        self.assertEqual(data_a["total"]["dead"], 2)
        with self.assertRaises(AccessError):
            self.dashboard(user=self.user_b, company_ids=[self.plant.id])
        both = self.Stats.get_dashboard_data(60, company_ids=[self.plant.id, self.plant_b.id])
        self.assertEqual(both["total"]["received"], 17)
        self.assertEqual(len(both["plants"]), 2)

    def test_bad_input_gets_a_clear_error(self):
        for period in (0, -5, "60", 60.5, True, 10 ** 6):
            with self.subTest(period=period), self.assertRaisesRegex(ValidationError, "period"):
                self.dashboard(period=period)
        with self.assertRaisesRegex(ValidationError, "company_ids"):
            self.dashboard(company_ids="1")
        with self.assertRaises(AccessError):
            self.Stats.with_user(self.api_user).get_dashboard_data(60)

    def test_senders_on_old_schema_versions_are_listed(self):
        """A sender still on v1 of a type Odoo applies in v2 (upgraded on the way) shows up
        with its count, so the plant knows whom to chase before ending v1 on the flow."""
        Message = type(self.env["mfg.message"])
        handlers = Message._mfg_apply_handlers

        def with_alarm_v2(records):
            return dict(handlers(records), **{"machine.alarm": Handler("_mfg_record_only",
                                                                       version=2)})
        self.patch(Message, "_mfg_apply_handlers", with_alarm_v2)
        self.put("old-1", "done", 10, latency_ms=100)
        self.put("old-2", "done", 5, latency_ms=100)
        self.put("old-b", "done", 5, latency_ms=100, source="EDGE-B1")
        rows = [r for r in self.dashboard()["old_versions"]
                if r["canonical_type"] == "machine.alarm"]
        self.assertEqual([(r["connector_name"], r["schema_version"], r["current_version"],
                           r["count"]) for r in rows], [("Edge test line", 1, 2, 2)],
                         "plant B's sender is not shown to a plant A user")
        found = self.env["mfg.message"].search(rows[0]["domains"]["old"])
        self.assertEqual(set(found.mapped("key")), {"old-1", "old-2"})
