# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import PlanningTestCase


@tagged("post_install", "-at_install")
class TestForecastImport(PlanningTestCase):
    def wizard(self, data, user=None):
        return self.env["mfg.forecast.import"].with_user(user or self.operator).create({
            "connector_id": self.planning.id, "file": data, "filename": "forecast.csv"})

    def forecast_messages(self):
        return self.Message.search([("source", "=", "PLAN-T")])

    def test_bad_rows_are_reported_per_line_and_good_rows_imported(self):
        data = self.csv_file(
            "product,location,period_start,period_end,qty,uom",
            f"GEARBOX,WH-MAIN,{self.day(0)},{self.day(9)},100,EA",
            f"NOPE,,{self.day(0)},{self.day(9)},5,EA",
            f"BEARING,,{self.day(0)},,-3,EA",
            f"BEARING,,2026-13-45,{self.day(9)},7,EA",
            f"BEARING,,{self.day(9)},{self.day(0)},7,EA",
            f"BEARING,,{self.day(0)},{self.day(6)},abc,EA",
            f"BEARING,,{self.day(0)},{self.day(6)},,EA",
            f"BEARING,,{self.day(0)},{self.day(6)},42,DZ",
        )
        wizard = self.wizard(data)
        wizard.action_import()
        self.assertEqual((wizard.accepted, wizard.error_count), (2, 6))
        result = wizard.result
        self.assertIn("Line 3: unknown product 'NOPE' (no product mapping)", result)
        self.assertIn("Line 4: qty -3 is negative", result)
        self.assertIn("Line 5: period_start '2026-13-45' is not a date", result)
        self.assertIn(f"Line 6: period_end {self.day(0)} is before period_start", result)
        self.assertIn("Line 7: qty 'abc' is not a number", result)
        self.assertIn("Line 8: qty is empty", result)
        messages = self.forecast_messages()
        self.assertEqual(len(messages), 2, "only the good rows are stored")
        self.run_jobs()
        self.assertEqual(set(messages.mapped("state")), {"done"})
        forecasts = self.env["mfg.demand.forecast"].search([])
        self.assertEqual(sorted(forecasts.mapped("qty")), [100, 504], "42 dozen = 504 units")

    def test_missing_columns_refuse_the_file_and_store_nothing(self):
        wizard = self.wizard(self.csv_file("product,period_start,quantity",
                                           f"GEARBOX,{self.day(0)},10"))
        with self.assertRaisesRegex(UserError, r"missing column\(s\): qty, uom"):
            wizard.action_import()
        self.assertFalse(self.forecast_messages())

    def test_the_same_file_twice_stores_nothing_twice(self):
        data = self.csv_file("product;period_start;qty;uom", f"GEARBOX;{self.day(0)};10;EA")
        self.wizard(data).action_import()
        wizard = self.wizard(data)
        wizard.action_import()
        self.assertEqual((wizard.accepted, wizard.duplicates), (0, 1))
        self.assertEqual(len(self.forecast_messages()), 1)

    def test_only_operators_import(self):
        with self.assertRaises(UserError):
            self.wizard(self.csv_file("product,period_start,qty,uom"),
                        user=self.operator).with_user(self.user).action_import()
