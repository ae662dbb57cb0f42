# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Warehouse fixtures: a WMS connector subscribed to the three warehouse types, a
lot-tracked product and a bin location known to the WMS by its own codes."""
from odoo.addons.mfg_integration.tests.common import MfgTestCase

TYPES = ("goods.receipt", "shipment.confirmation", "inventory.move")


class StockTestCase(MfgTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.wms = env["mfg.connector"].create({"name": "WMS", "code": "WMS-T",
                                               "connector_type": "edge"})
        for type_name in TYPES:
            cls._flow(type_name, connector=cls.wms, direction="out")
        cls.warehouse = env["stock.warehouse"].search([("company_id", "=", cls.plant.id)],
                                                      limit=1)
        cls.stock = cls.warehouse.lot_stock_id
        cls.bin = env["stock.location"].create({"name": "A-01", "location_id": cls.stock.id})
        cls.unit = env.ref("uom.product_uom_unit")
        cls.resin = env["product.product"].create({
            "name": "Resin", "is_storable": True, "tracking": "lot", "default_code": "RES"})
        cls.vendor = env["res.partner"].create({"name": "Resin supplier", "ref": "V-100"})
        cls.customer = env["res.partner"].create({"name": "Customer"})
        Mapping = env["mfg.mapping"]
        for kind, code, field, record in (
                ("product", "MAT-RESIN", "product_id", cls.resin),
                ("location", "WH-STOCK", "location_id", cls.stock),
                ("location", "WH-A01", "location_id", cls.bin),
                ("uom", "EA", "uom_id", cls.unit)):
            Mapping.create({"mapping_type": kind, "external_code": code, field: record.id,
                            "connector_id": cls.wms.id})

    def outbox(self, connector=None, type_name=None):
        domain = [("connector_id", "=", (connector or self.wms).id), ("direction", "=", "out")]
        if type_name:
            domain.append(("canonical_type", "=", type_name))
        return self.Message.search(domain, order="id")

    def picking(self, kind, lines, partner=None, origin=None, location=None, dest=None):
        """A picking of ``kind`` (in/out/internal) with ``lines`` [(product, qty, lot name)],
        validated as a user would (quantities and lots entered, Validate)."""
        picking_type = {"in": self.warehouse.in_type_id, "out": self.warehouse.out_type_id,
                        "internal": self.warehouse.int_type_id}[kind]
        location = location or picking_type.default_location_src_id
        dest = dest or picking_type.default_location_dest_id
        picking = self.env["stock.picking"].create({
            "picking_type_id": picking_type.id, "partner_id": partner and partner.id,
            "origin": origin, "location_id": location.id, "location_dest_id": dest.id,
            "move_ids": [(0, 0, {"product_id": product.id, "product_uom_qty": qty,
                                 "product_uom": product.uom_id.id, "location_id": location.id,
                                 "location_dest_id": dest.id})
                         for product, qty, _lot in lines]})
        picking.action_confirm()
        for move, (product, qty, lot_name) in zip(picking.move_ids, lines, strict=True):
            lot = self.env["stock.lot"].search([("name", "=", lot_name),
                                                ("product_id", "=", product.id)])
            if not lot and kind == "in":
                lot = self.env["stock.lot"].create({"name": lot_name, "product_id": product.id})
            move.move_line_ids.unlink()
            move.move_line_ids = [(0, 0, {
                "product_id": product.id, "quantity": qty, "lot_id": lot.id,
                "location_id": location.id, "location_dest_id": dest.id,
                "product_uom_id": product.uom_id.id})]
            move.picked = True
        picking.button_validate()
        return picking

    def on_hand(self, location, lot_name=None):
        quants = self.env["stock.quant"].search([("product_id", "=", self.resin.id),
                                                 ("location_id", "=", location.id)])
        if lot_name:
            quants = quants.filtered(lambda q: q.lot_id.name == lot_name)
        return sum(quants.mapped("quantity"))
