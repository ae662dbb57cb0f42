# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""OEE against hand-computed figures (the worked example of readme/USAGE.md)."""

from odoo.tests import tagged

from ..services import oee
from .common import DAY, MfgMachineCase


@tagged("post_install", "-at_install")
class TestOee(MfgMachineCase):
    def test_worked_example_of_one_shift(self):
        # 5,000 parts in ten windows across the shift, 150 of them defective, one 45-min jam.
        self.counters(
            *[(f"c{i}", 500, f"{6 + i // 2:02d}:{(i % 2) * 30:02d}", 30) for i in range(10)]
        )
        self.counters(("s1", 150, "10:00", 60), counter="scrap_count")
        self.shop_floor(
            (
                "jam",
                "machine.downtime",
                {
                    "work_center": "WC-PRESS",
                    "reason_code": "JAM",
                    "asset": "PRESS1",
                    "start": f"{DAY}T09:00:00+00:00",
                    "end": f"{DAY}T09:45:00+00:00",
                    "duration_s": 2700,
                },
                50,
            )
        )
        self.assertEqual(
            set(self.Message.search([("source", "=", "EDGE-T1")]).mapped("state")), {"done"}
        )
        records = self.compute()
        shift = records.filtered(lambda r: r.period_type == "shift")
        self.assertEqual(shift.name, f"PRS {DAY} Early")
        # By hand: planned 480 min, stopped 45 -> run 435; ideal 5,000 x 4.8 s = 400 min.
        self.assertEqual(
            (shift.planned_min, shift.downtime_min, shift.run_min, shift.ideal_min),
            (480.0, 45.0, 435.0, 400.0),
        )
        self.assertEqual(
            (shift.total_count, shift.scrap_count, shift.good_count), (5000, 150, 4850)
        )
        self.assertAlmostEqual(shift.availability, 435 / 480, places=6)  # 0.90625
        self.assertAlmostEqual(shift.performance, 400 / 435, places=6)  # 0.91954
        self.assertAlmostEqual(shift.quality, 4850 / 5000, places=6)  # 0.97
        self.assertAlmostEqual(shift.oee, 0.80833, places=5)
        day = records.filtered(lambda r: r.period_type == "day")
        self.assertAlmostEqual(day.oee, shift.oee, places=6, msg="one shift: the day is the shift")
        # Recomputing gives the same records, not new ones.
        self.assertEqual(self.compute(), records)

    def test_overtime_parts_count_for_the_day_not_the_shift_and_reported_scrap_gives_quality(self):
        self.counters(("c1", 1000, "07:00", 60), ("late", 200, "15:00", 30))
        production = self.new_order(qty=5)
        self.shop_floor(
            (
                "scrap",
                "production.scrap",
                {
                    "product": "MAT-BRK",
                    "qty": 40,
                    "uom": "PCE",
                    "reason_code": "BURR",
                    "order_ref": production.name,
                    "work_center": "WC-PRESS",
                },
                10,
            )
        )
        self.assertEqual(self.message("scrap").state, "done")
        records = self.compute()
        shift = records.filtered(lambda r: r.period_type == "shift")
        day = records.filtered(lambda r: r.period_type == "day")
        self.assertEqual((shift.total_count, day.total_count), (1000, 1200))
        # The machine counts no defective parts: the scrap the shop floor reported is used.
        self.assertEqual((day.scrap_count, day.good_count), (40, 1160))
        self.assertEqual(day.planned_min, 480.0, "overtime is not planned time")
        self.assertAlmostEqual(day.performance, 1200 * 4.8 / 60 / 480)

    def test_formulas_on_edge_cases(self):
        none = oee.figures(0, 0, {}, lambda product: 0)
        self.assertEqual(
            (none.availability, none.performance, none.quality, none.oee), (0, 0, 0, 0)
        )
        stopped = oee.figures(3600, 7200, {None: oee.Counts(processed=10)}, lambda product: 1)
        self.assertEqual((stopped.downtime_s, stopped.run_s, stopped.performance), (3600, 0, 0))
        mixed = oee.figures(
            3600, 0, {1: oee.Counts(processed=100), 2: oee.Counts(processed=50)}, {1: 10, 2: 20}.get
        )
        self.assertAlmostEqual(mixed.performance, (100 * 10 + 50 * 20) / 3600)

    def test_unknown_machine_and_a_broken_window_block_nothing(self):
        def counter(key, asset, start, end):
            return {"key": key, "type": "machine.counter", "schema_version": 1, "source": "EDGE-T1",
                    "occurred_at": f"{DAY}T08:00:00+00:00", "payload": {
                        "asset": asset, "counter": "cycle_count", "delta": 10,
                        "window_start": f"{DAY}T{start}:00+00:00",
                        "window_end": f"{DAY}T{end}:00+00:00"}}

        self.Message.ingest([counter("ok", "PRESS1", "08:00", "08:01"),
                             counter("ghost", "GHOST-9", "08:00", "08:01"),
                             counter("backwards", "PRESS1", "08:05", "08:01")])
        self.run_jobs()
        self.assertEqual(self.message("ok").state, "done")
        ghost = self.message("ghost")
        self.assertEqual(ghost.state, "done")
        self.assertIn("GHOST-9 is no known work center", ghost.result_summary)
        backwards = self.message("backwards")
        self.assertEqual(backwards.state, "exception")
        self.assertIn("ends", backwards.last_error)
        self.assertEqual(
            self.compute().filtered(lambda r: r.period_type == "shift").total_count, 10
        )

    def test_todays_oee_is_on_the_operations_dashboard(self):
        # The dashboard (mfg_integration_monitoring, installed beside this addon in CI) shows
        # today's day records of the user's plants.
        from datetime import timedelta

        from odoo import fields

        today = fields.Date.context_today(self.Oee)
        self.Oee._mfg_compute(self.press, today, today)
        yesterday = self.Oee._mfg_compute(
            self.press, today - timedelta(days=1), today - timedelta(days=1)
        )
        data = self.env["mfg.message.stats"].with_user(self.user).get_dashboard_data(60)
        rows = [row for row in data["oee"] if row["workcenter_name"] == self.press.display_name]
        self.assertEqual(len(rows), 1, "today only")
        self.assertNotIn(
            yesterday.filtered(lambda r: r.period_type == "day").id, [r["id"] for r in rows]
        )
        other_plant = self.env["mfg.message.stats"].with_user(self.user_b).get_dashboard_data(60)
        self.assertFalse([r for r in other_plant["oee"] if r["id"] == rows[0]["id"]])
