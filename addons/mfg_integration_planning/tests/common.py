# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Planning fixtures: a planning-tool connector with an inbound demand.forecast flow, a
manufactured item (BoM, 5 days lead time), a bought item (vendor, 3 days) and an item
Odoo can neither make nor buy, all mapped by their planning-tool codes."""
import base64
from datetime import timedelta

from odoo import fields
from odoo.tests import new_test_user

from odoo.addons.mfg_integration.tests.common import MfgTestCase, envelope


class PlanningTestCase(MfgTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.planning = cls.env["mfg.connector"].create({
            "name": "Planning tool", "code": "PLAN-T", "connector_type": "generic_rest"})
        cls.flow_forecast = cls._flow("demand.forecast", connector=cls.planning)
        cls.uom_unit = cls.env.ref("uom.product_uom_unit")
        cls.uom_dozen = cls.env.ref("uom.product_uom_dozen")
        Product = cls.env["product.product"]
        cls.finished = Product.create({"name": "Gearbox", "default_code": "GB-1",
                                       "is_storable": True})
        cls.component = Product.create({"name": "Shaft", "default_code": "SH-1",
                                        "is_storable": True})
        cls.bought = Product.create({"name": "Bearing", "default_code": "BR-1",
                                     "is_storable": True})
        cls.orphan = Product.create({"name": "Prototype", "default_code": "PX-1",
                                     "is_storable": True})
        cls.env["mrp.bom"].create({
            "product_tmpl_id": cls.finished.product_tmpl_id.id, "product_qty": 1,
            "produce_delay": 5,
            "bom_line_ids": [(0, 0, {"product_id": cls.component.id, "product_qty": 2})]})
        vendor = cls.env["res.partner"].create({"name": "Bearings Inc."})
        cls.env["product.supplierinfo"].create({
            "partner_id": vendor.id, "product_tmpl_id": cls.bought.product_tmpl_id.id,
            "delay": 3, "price": 4})
        Mapping = cls.env["mfg.mapping"]
        for code, product in (("GEARBOX", cls.finished), ("BEARING", cls.bought),
                              ("PROTO", cls.orphan)):
            Mapping.create({"mapping_type": "product", "external_code": code,
                            "product_id": product.id})
        Mapping.create({"mapping_type": "uom", "external_code": "EA", "uom_id": cls.uom_unit.id})
        Mapping.create({"mapping_type": "uom", "external_code": "DZ",
                        "uom_id": cls.uom_dozen.id})
        cls.warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.plant.id)], limit=1)
        cls.stock = cls.warehouse.lot_stock_id
        Mapping.create({"mapping_type": "location", "external_code": "WH-MAIN",
                        "location_id": cls.stock.id})
        cls.planner = new_test_user(cls.env, "planner", groups="stock.group_stock_user")
        cls.plant.write({"mfg_planner_user_id": cls.planner.id, "mfg_forecast_shift_pct": 20,
                         "mfg_forecast_review_days": 7})
        cls.today = fields.Date.today()

    def day(self, offset):
        return (self.today + timedelta(days=offset)).isoformat()

    def forecast(self, key, product="GEARBOX", qty=100, uom="EA", start=0, end=9, **extra):
        payload = dict({"product": product, "qty": qty, "uom": uom,
                        "period_start": self.day(start), "period_end": self.day(end)}, **extra)
        result = self.Message.ingest([envelope(key, type_name="demand.forecast",
                                               source="PLAN-T", payload=payload)])
        self.assertEqual(result["accepted"], 1, result)
        self.run_jobs()
        return self.message(key, source="PLAN-T")

    @staticmethod
    def csv_file(*lines):
        return base64.b64encode("\n".join(lines).encode())
