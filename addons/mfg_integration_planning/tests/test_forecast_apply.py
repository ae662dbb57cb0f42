# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.tests import tagged

from ..services import replenishment
from .common import PlanningTestCase


@tagged("post_install", "-at_install")
class TestForecastApply(PlanningTestCase):
    def orderpoint(self, product):
        return self.env["stock.warehouse.orderpoint"].search([
            ("product_id", "=", product.id), ("location_id", "=", self.stock.id)])

    def activities(self, product):
        return self.env["mail.activity"].search([
            ("res_model", "=", "product.template"), ("res_id", "=", product.product_tmpl_id.id)])

    def test_item_without_bom_or_supplier_goes_to_exception(self):
        message = self.forecast("x1", product="PROTO")
        self.assertEqual(message.state, "exception")
        self.assertIn("Prototype has neither an active bill of materials nor a supplier",
                      message.last_error)
        self.assertFalse(self.env["mfg.demand.forecast"].search([]))
        self.assertFalse(self.orderpoint(self.orphan))

    def test_unmapped_item_code_waits_for_its_mapping_declared_by_planning(self):
        # planning declares the mapping rules of demand.forecast (the core does not).
        self.assertIn(("product", "product", True),
                      self.Message._mfg_mapping_rules()["demand.forecast"])
        message = self.forecast("m1", product="NO-SUCH-ITEM")
        self.assertEqual(message.state, "exception")
        self.assertIn(["product", "NO-SUCH-ITEM", "product"], message.missing_mappings)
        self.assertFalse(self.env["mfg.demand.forecast"].search([]))

    def test_accepted_forecast_sets_the_reordering_rule_min_max(self):
        # 100 over 10 days = 10/day; BoM lead time 5 days; review period 7 days.
        message = self.forecast("f1")
        self.assertEqual(message.state, "done", message.last_error)
        forecast = self.env["mfg.demand.forecast"].browse(message.result_ids)
        self.assertEqual((forecast.qty, forecast.warehouse_id), (100, self.warehouse))
        orderpoint = self.orderpoint(self.finished)
        self.assertEqual((orderpoint.product_min_qty, orderpoint.product_max_qty), (50, 100),
                         "min = demand over the 5-day lead time; max = min + the 5 remaining "
                         "forecast days inside the 7-day review period")
        self.assertTrue(orderpoint.mfg_forecast_managed)
        self.assertEqual(orderpoint.trigger, "manual", "proposed in Replenishment")
        self.assertEqual(forecast.orderpoint_id, orderpoint)
        # The next period's forecast adds to the window.
        self.forecast("f2", start=10, end=16, qty=70)
        self.assertEqual((orderpoint.product_min_qty, orderpoint.product_max_qty), (50, 120))

    def test_bought_item_uses_the_vendor_lead_time(self):
        self.forecast("b1", product="BEARING", qty=30, start=0, end=29, location="WH-MAIN")
        orderpoint = self.orderpoint(self.bought)
        self.assertEqual((orderpoint.product_min_qty, orderpoint.product_max_qty), (3, 10))

    def test_hand_made_reordering_rule_is_left_alone(self):
        manual = self.env["stock.warehouse.orderpoint"].create({
            "product_id": self.finished.id, "location_id": self.stock.id,
            "product_min_qty": 1, "product_max_qty": 2})
        self.forecast("m1")
        self.assertEqual((manual.product_min_qty, manual.product_max_qty), (1, 2))

    def test_demand_shift_rechecks_availability_and_tells_the_planner(self):
        self.forecast("s1", qty=100)
        production = self.env["mrp.production"].create({
            "product_id": self.finished.id, "product_qty": 5})
        production.action_confirm()
        self.assertNotEqual(production.reservation_state, "assigned")
        # Components arrive without anybody reserving them.
        self.env["stock.quant"]._update_available_quantity(self.component, self.stock, 10)
        self.forecast("s2", qty=110)  # +10 %: below the 20 % threshold
        self.assertFalse(self.activities(self.finished))
        self.assertNotEqual(production.reservation_state, "assigned")
        message = self.forecast("s3", qty=150)  # +36 % versus 110
        forecast = self.env["mfg.demand.forecast"].browse(message.result_ids)
        self.assertTrue(forecast.demand_shift)
        self.assertEqual((forecast.previous_qty, round(forecast.shift_pct)), (110, 36))
        self.assertEqual(production.reservation_state, "assigned", "availability re-checked")
        activity = self.activities(self.finished)
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.planner)
        self.assertIn("Demand shift +36%", activity.summary)
        self.assertIn("from 110.0 to 150.0", str(activity.note))

    def test_formula(self):
        from datetime import date
        today = date(2026, 11, 23)
        forecasts = [(70, date(2026, 11, 23), date(2026, 11, 29))]
        self.assertEqual(replenishment.min_max(forecasts, today, 2, 3), (20, 50))
        self.assertEqual(replenishment.shift_pct(None, 5), None)
        self.assertEqual(replenishment.shift_pct(0, 5), 100.0)
