# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Validated stock documents go out to the subscribed connectors, in their codes, once,
never echoed - with the stock they left behind checked per location and lot."""
from odoo.exceptions import AccessError
from odoo.tests import tagged

from odoo.addons.mfg_integration.tests.common import Receiver

from ..services import stock_events
from .common import StockTestCase


@tagged("post_install", "-at_install")
class TestOutboundDocuments(StockTestCase):
    def receive(self, qty=10, lot="LOT-1"):
        return self.picking("in", [(self.resin, qty, lot)], partner=self.vendor,
                            origin="PO00042")

    def test_receipt_goes_out_per_line_in_the_wms_codes(self):
        picking = self.receive()
        self.assertEqual(picking.state, "done")
        self.assertEqual(self.on_hand(self.stock, "LOT-1"), 10)
        receipt = self.outbox(type_name="goods.receipt")
        self.assertEqual(len(receipt), 1)
        self.assertEqual(receipt.payload, {
            "product": "MAT-RESIN", "qty": 10.0, "uom": "EA", "location": "WH-STOCK",
            "lot": "LOT-1", "receipt_ref": picking.name, "purchase_ref": "PO00042",
            "partner": "V-100"})
        self.assertEqual(receipt.state, "received", "queued for delivery")
        # The same moves seen again (a second validation path, a replay) post nothing.
        self.assertFalse(stock_events.publish_done_moves(picking.move_ids))

    def test_internal_transfer_and_adjustment_are_inventory_moves(self):
        self.receive(qty=10)
        transfer = self.picking("internal", [(self.resin, 4, "LOT-1")], location=self.stock,
                                dest=self.bin)
        self.assertEqual((self.on_hand(self.stock, "LOT-1"), self.on_hand(self.bin, "LOT-1")),
                         (6, 4))
        moved = self.outbox(type_name="inventory.move")
        self.assertEqual([(m.payload["location_from"], m.payload["location_to"],
                           m.payload["qty"], m.payload["lot"], m.payload["movement_type"],
                           m.payload["reference"]) for m in moved],
                         [("WH-STOCK", "WH-A01", 4.0, "LOT-1", "internal", transfer.name)])
        # A count finds 3 in the bin: the adjustment of -1 goes out as well.
        quant = self.env["stock.quant"].search([("location_id", "=", self.bin.id),
                                                ("product_id", "=", self.resin.id)])
        quant.inventory_quantity = 3
        quant.action_apply_inventory()
        self.assertEqual(self.on_hand(self.bin, "LOT-1"), 3)
        adjustment = self.outbox(type_name="inventory.move")[1:]
        self.assertEqual(len(adjustment), 1)
        self.assertEqual((adjustment.payload["location_from"], adjustment.payload["qty"],
                          adjustment.payload["movement_type"]), ("WH-A01", 1.0, "adjustment"))
        self.assertNotIn("WH", adjustment.payload["location_to"],
                         "to the inventory loss location, Odoo's name (no mapping)")

    def test_validated_delivery_reaches_a_rest_peer(self):
        self.receive(qty=10, lot="LOT-7")
        with Receiver(statuses=[200]) as receiver:
            erp = self.env["mfg.connector"].create({
                "name": "ERP", "code": "ERP-REST", "connector_type": "generic_rest",
                "endpoint_url": receiver.url, "timeout_s": 5})
            self._flow("shipment.confirmation", connector=erp, direction="out",
                       ordering_key_field="shipment_ref")
            delivery = self.picking("out", [(self.resin, 7, "LOT-7")], partner=self.customer,
                                    origin="SO0815")
            self.assertEqual(self.on_hand(self.stock, "LOT-7"), 3)
            self.run_jobs()
            message = self.outbox(erp)
            self.assertEqual(message.state, "done", message.last_error)
            self.assertEqual(len(receiver.requests), 1)
            sent = receiver.requests[0]["json"]
            self.assertEqual((sent["type"], sent["payload"]["shipment_ref"],
                              sent["payload"]["sale_ref"]),
                             ("shipment.confirmation", delivery.name, "SO0815"))
            self.assertEqual(sent["payload"]["lines"], [
                {"product": self.resin.default_code, "qty": 7.0,
                 "uom": self.unit.name, "lot": "LOT-7",
                 "location": self.stock.complete_name}],
                "no ERP mapping: Odoo's own references")
        self.assertEqual(len(self.outbox(type_name="shipment.confirmation")), 1,
                         "the WMS gets it too, in its codes")

    def test_never_echoed_to_the_connector_that_caused_it(self):
        Picking = self.env["stock.picking"].with_context(mfg_origin_connector_id=self.wms.id)
        self.env = Picking.env  # as when an inbound WMS message validates the receipt
        self.receive()
        self.assertFalse(self.outbox(type_name="goods.receipt"))

    def test_other_plants_and_users(self):
        other = self.env["mfg.connector"].create({
            "name": "WMS plant B", "code": "WMS-B", "connector_type": "edge",
            "company_id": self.plant_b.id})
        self._flow("goods.receipt", connector=other, direction="out")
        self.receive()
        self.assertFalse(self.outbox(other), "plant B's WMS hears nothing of plant A")
        message = self.outbox(type_name="goods.receipt")
        for user in (self.user, self.api_user, self.user_b):
            with self.assertRaises(AccessError):
                message.with_user(user).write({"payload": {"qty": 1000}})
