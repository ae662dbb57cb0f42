# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A small plant: a bracket made of steel sheet and screws on a press work center."""
from odoo.addons.mfg_integration.tests.common import MfgTestCase, envelope


class MfgMrpCase(MfgTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.unit = env.ref("uom.product_uom_unit")
        cls.stock = env.ref("stock.stock_location_stock")
        cls.bracket = env["product.product"].create({"name": "Bracket", "is_storable": True,
                                                     "default_code": "BRK"})
        cls.sheet = env["product.product"].create({"name": "Steel sheet", "is_storable": True})
        cls.screw = env["product.product"].create({"name": "Screw", "is_storable": True})
        cls.press = env["mrp.workcenter"].create({"name": "Press", "code": "PRS",
                                                  "mfg_maintenance_after_min": 10})
        cls.equipment = env["maintenance.equipment"].create({"name": "Press P-100"})
        cls.bom = env["mrp.bom"].create({
            "product_tmpl_id": cls.bracket.product_tmpl_id.id, "product_qty": 1,
            "consumption": "flexible",
            "bom_line_ids": [(0, 0, {"product_id": cls.sheet.id, "product_qty": 1}),
                             (0, 0, {"product_id": cls.screw.id, "product_qty": 4})],
            "operation_ids": [(0, 0, {"name": "Pressing", "workcenter_id": cls.press.id,
                                      "time_cycle_manual": 1})],
        })
        for product, qty in ((cls.sheet, 1000), (cls.screw, 4000)):
            env["stock.quant"]._update_available_quantity(product, cls.stock, qty)
        cls.reason = env["stock.scrap.reason.tag"].create({"name": "Burr"})
        cls.loss = env["mrp.workcenter.productivity.loss"].create({
            "name": "Jam", "loss_id": env.ref("mrp.category_availability").id})
        Mapping = env["mfg.mapping"]
        for kind, code, field, record in (
                ("product", "MAT-BRK", "product_id", cls.bracket),
                ("product", "MAT-SHEET", "product_id", cls.sheet),
                ("product", "MAT-SCREW", "product_id", cls.screw),
                ("uom", "PCE", "uom_id", cls.unit),
                ("work_center", "WC-PRESS", "workcenter_id", cls.press),
                ("equipment", "PRESS1", "equipment_id", cls.equipment),
                ("scrap_reason", "BURR", "scrap_reason_tag_id", cls.reason),
                ("downtime_reason", "JAM", "loss_id", cls.loss)):
            Mapping.create({"mapping_type": kind, "external_code": code, field: record.id})
        for type_name in ("production.confirmation", "material.consumption", "machine.downtime",
                          "quality.result", "quality.hold", "production.order"):
            cls._flow(type_name, ordering_key_field="order_ref"
                      if type_name != "machine.downtime" else "work_center")
        cls.flow_scrap.ordering_key_field = "order_ref"

    def new_order(self, qty=10, confirm=True):
        production = self.env["mrp.production"].create({
            "product_id": self.bracket.id, "product_qty": qty, "bom_id": self.bom.id})
        if confirm:
            production.action_confirm()
        return production

    def shop_floor(self, *events):
        """Ingest (key, type, payload, minute) events from the edge connector, run the jobs."""
        result = self.Message.ingest([
            envelope(key, type_name=type_name, payload=payload,
                     occurred_at=f"2026-11-23T08:{minute:02d}:00+00:00")
            for key, type_name, payload, minute in events])
        self.assertEqual(result["rejected"], [])
        self.run_jobs()
        return result

    @staticmethod
    def confirmation(order, event, good=0, scrap=0, final=False, **extra):
        return dict({"order_ref": order.name, "work_center": "WC-PRESS", "event": event,
                     "qty_good": good, "qty_scrap": scrap, "uom": "PCE", "final": final}, **extra)
