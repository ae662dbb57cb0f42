# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""WMS messages applied as a user would in Inventory, with the stock per location and lot
checked after each one: transfers and adjustments, receipts against their picking (and its
backorder) or unplanned, deliveries shipped with a backorder for the rest. Bad items get a
reason and book nothing; the good ones of the same batch go on."""
from odoo.tests import tagged

from odoo.addons.mfg_integration.tests.common import envelope

from .common import StockTestCase


class WorkerKilled(BaseException):
    """The Odoo worker dies (kill -9): not an Exception the pipeline could catch."""


@tagged("post_install", "-at_install")
class TestInboundDocuments(StockTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for type_name in ("inventory.move", "goods.receipt", "shipment.confirmation"):
            cls._flow(type_name, connector=cls.wms)
        cls.hardener = cls.env["product.product"].create({
            "name": "Hardener", "is_storable": True, "default_code": "HRD"})
        cls.env["mfg.mapping"].create({"mapping_type": "product", "external_code": "MAT-HRD",
                                       "product_id": cls.hardener.id,
                                       "connector_id": cls.wms.id})

    def from_wms(self, *items):
        """Ingest (key, type, payload[, version]) envelopes from the WMS, run the jobs."""
        result = self.Message.ingest([
            envelope(item[0], type_name=item[1], source="WMS-T", payload=item[2],
                     **({"schema_version": 2, "verb": "Process"} if len(item) > 3 else {}))
            for item in items])
        self.assertEqual(result["rejected"], [])
        self.run_jobs()
        return [self.message(item[0], "WMS-T") for item in items]

    def move(self, qty, lot="LOT-1", source="WH-STOCK", dest="WH-A01", **extra):
        return dict({"product": "MAT-RESIN", "qty": qty, "uom": "EA", "location_from": source,
                     "location_to": dest, "lot": lot, "movement_type": "internal"}, **extra)

    def test_transfers_and_adjustments_move_the_stock_of_the_lot(self):
        self.receive_stock(10, "LOT-1")
        done, too_much, unknown_lot = self.from_wms(
            ("mv-1", "inventory.move", self.move(4)),
            ("mv-2", "inventory.move", self.move(50)),
            ("mv-3", "inventory.move", self.move(1, lot="LOT-X")))
        self.assertEqual(done.state, "done", done.last_error)
        self.assertEqual((self.on_hand(self.stock, "LOT-1"), self.on_hand(self.bin, "LOT-1")),
                         (6, 4))
        self.assertEqual(too_much.state, "exception")
        self.assertIn("Only 6.0 Units of [RES] Resin lot LOT-1", too_much.last_error)
        self.assertIn("nothing was booked", too_much.last_error)
        self.assertIn("Lot LOT-X of [RES] Resin does not exist", unknown_lot.last_error)
        self.assertFalse(self.outbox(type_name="inventory.move"),
                         "the WMS's own transfer is not sent back to it")
        # A v2 sender counts one more in the bin: an adjustment from the inventory location.
        loss = self.env["stock.location"].search([("usage", "=", "inventory"),
                                                  ("company_id", "in", [self.plant.id, False])],
                                                 limit=1)
        self.env["mfg.mapping"].create({"mapping_type": "location", "external_code": "LOSS",
                                        "location_id": loss.id, "connector_id": self.wms.id})
        [counted] = self.from_wms(("mv-4", "inventory.move", {
            "id": "CNT-77", "material_definition_id": {"value": "MAT-RESIN"},
            "quantity": {"value": 1, "unit_text": "EA"}, "lot_id": "LOT-1",
            "from_location": {"value": "LOSS"}, "to_location": {"value": "WH-A01"},
            "movement_type": "Adjustment"}, 2))
        self.assertEqual(counted.state, "done", counted.last_error)
        self.assertEqual(self.on_hand(self.bin, "LOT-1"), 5)

    def test_receipt_against_its_picking_then_its_backorder(self):
        planned = self.env["stock.picking"].create({
            "picking_type_id": self.warehouse.in_type_id.id, "partner_id": self.vendor.id,
            "origin": "PO00042",
            "location_id": self.env.ref("stock.stock_location_suppliers").id,
            "location_dest_id": self.stock.id,
            "move_ids": [(0, 0, {"product_id": product.id, "product_uom_qty": 10,
                                 "product_uom": self.unit.id,
                                 "location_id": self.env.ref("stock.stock_location_suppliers").id,
                                 "location_dest_id": self.stock.id})
                         for product in (self.resin, self.hardener)]})
        planned.action_confirm()
        first, = self.from_wms(("rc-1", "goods.receipt", {
            "product": "MAT-RESIN", "qty": 6, "uom": "EA", "lot": "LOT-R1",
            "receipt_ref": planned.name}))
        self.assertEqual(first.state, "done", first.last_error)
        self.assertEqual(planned.state, "done")
        backorder = self.env["stock.picking"].search([("backorder_id", "=", planned.id)])
        self.assertEqual(sorted(backorder.move_ids.mapped(lambda m: (m.product_id.name,
                                                                     m.product_uom_qty))),
                         [("Hardener", 10.0), ("Resin", 4.0)], "the rest waits, per Odoo")
        self.assertEqual(self.on_hand(self.stock, "LOT-R1"), 6)
        second, hardener = self.from_wms(
            ("rc-2", "goods.receipt", {"product": "MAT-RESIN", "qty": 4, "uom": "EA",
                                       "lot": "LOT-R2", "purchase_ref": "PO00042"}),
            ("rc-3", "goods.receipt", {"product": "MAT-HRD", "qty": 10, "uom": "EA",
                                       "receipt_ref": planned.name}))
        self.assertEqual((second.state, hardener.state), ("done", "done"),
                         (second.last_error, hardener.last_error))
        self.assertEqual((self.on_hand(self.stock, "LOT-R1"), self.on_hand(self.stock, "LOT-R2")),
                         (6, 4))
        self.assertEqual(self.hardener.qty_available, 10)

    def test_unplanned_receipt_and_unknown_reference(self):
        unplanned, unknown = self.from_wms(
            ("rc-4", "goods.receipt", {"product": "MAT-RESIN", "qty": 3, "uom": "EA",
                                       "lot": "LOT-U", "location": "WH-A01"}),
            ("rc-5", "goods.receipt", {"product": "MAT-RESIN", "qty": 3, "uom": "EA",
                                       "lot": "LOT-V", "receipt_ref": "WH/IN/99999"}))
        self.assertEqual(unplanned.state, "done", unplanned.last_error)
        self.assertEqual(self.on_hand(self.bin, "LOT-U"), 3)
        self.assertEqual(unknown.state, "exception")
        self.assertIn("No open receipt WH/IN/99999 with a line of [RES] Resin", unknown.last_error)
        self.assertFalse(self.env["stock.lot"].search([("name", "=", "LOT-V")]),
                         "nothing half-written")

    def test_delivery_shipped_in_part_leaves_a_backorder(self):
        self.receive_stock(10, "LOT-7")
        delivery = self.env["stock.picking"].create({
            "picking_type_id": self.warehouse.out_type_id.id, "partner_id": self.customer.id,
            "origin": "SO0815", "location_id": self.stock.id,
            "location_dest_id": self.env.ref("stock.stock_location_customers").id,
            "move_ids": [(0, 0, {"product_id": self.resin.id, "product_uom_qty": 10,
                                 "product_uom": self.unit.id, "location_id": self.stock.id,
                                 "location_dest_id":
                                     self.env.ref("stock.stock_location_customers").id})]})
        delivery.action_confirm()
        shipped, = self.from_wms(("sh-1", "shipment.confirmation", {
            "shipment_ref": delivery.name, "shipped_at": "2026-11-23T10:00:00+00:00",
            "lines": [{"product": "MAT-RESIN", "qty": 7, "uom": "EA", "lot": "LOT-7"}]}))
        self.assertEqual(shipped.state, "done", shipped.last_error)
        self.assertEqual(delivery.state, "done")
        self.assertEqual(str(delivery.date_done), "2026-11-23 10:00:00")
        self.assertEqual(self.on_hand(self.stock, "LOT-7"), 3)
        backorder = self.env["stock.picking"].search([("backorder_id", "=", delivery.id)])
        self.assertEqual(backorder.move_ids.product_uom_qty, 3)
        self.assertFalse(self.outbox(type_name="shipment.confirmation"),
                         "not echoed to the WMS that shipped it")

    def test_another_plants_connector_cannot_book_here(self):
        self._flow("inventory.move", connector=self.connector_b)
        self.receive_stock(10, "LOT-1")
        result = self.Message.ingest([envelope("b-1", type_name="inventory.move",
                                               source="EDGE-B1", payload=self.move(2))])
        self.assertEqual(result["rejected"], [])
        self.run_jobs()
        message = self.message("b-1", "EDGE-B1")
        self.assertEqual(message.state, "exception")
        self.assertIn("WH-STOCK", str(message.missing_mappings))
        self.assertEqual(self.on_hand(self.stock, "LOT-1"), 10)

    def test_worker_killed_after_validation_books_the_move_once(self):
        """kill -9 right after Odoo validated the transfer, before the job's commit: nothing
        of it survives (one transaction), queue_job runs the job again, the stock moves
        once."""
        self.receive_stock(10, "LOT-K")
        Picking = type(self.env["stock.picking"])
        validate = Picking._mfg_validate
        deaths = []

        def validate_then_die(picking):
            result = validate(picking)
            if not deaths:
                deaths.append(picking.name)
                raise WorkerKilled("worker killed after the transfer was validated")
            return result
        self.patch(Picking, "_mfg_validate", validate_then_die)
        self.Message.ingest([envelope("mv-k", type_name="inventory.move", source="WMS-T",
                                      payload=self.move(4, lot="LOT-K"))])
        message = self.message("mv-k", "WMS-T")
        with self.assertRaises(WorkerKilled), self.env.cr.savepoint():
            self.run_jobs()
        self.env.invalidate_all()
        self.assertEqual((message.state, self.on_hand(self.bin, "LOT-K")), ("received", 0),
                         "nothing of the dead run survived")
        self.run_jobs()
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual((self.on_hand(self.stock, "LOT-K"), self.on_hand(self.bin, "LOT-K")),
                         (6, 4), "moved once")

    def receive_stock(self, qty, lot):
        self.picking("in", [(self.resin, qty, lot)], partner=self.vendor)
