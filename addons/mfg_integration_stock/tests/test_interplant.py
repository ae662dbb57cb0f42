# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Transfers between plants: plant A's delivery to plant B becomes B's prepared receipt with
the same products, quantities and lots; B's validation closes the transit, differences and
late shipments are listed."""
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import StockTestCase


@tagged("post_install", "-at_install")
class TestInterplant(StockTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        # Plant A announces its deliveries to plant B ...
        cls.to_b = env["mfg.connector"].create({
            "name": "Plant B", "code": "PLANT-B", "connector_type": "odoo_local",
            "mfg_target_source": "PLANT-A", "mfg_plant_partner_id": cls.plant_b.partner_id.id})
        cls._flow("shipment.notice", connector=cls.to_b, direction="out", schema_version=2,
                  ordering_key_field="shipment_ref")
        # ... and plant B knows plant A by a connector of its own, with A's codes mapped.
        cls.from_a = env["mfg.connector"].create({
            "name": "Plant A", "code": "PLANT-A", "connector_type": "edge",
            "company_id": cls.plant_b.id})
        cls._flow("shipment.notice", connector=cls.from_a, schema_version=2)
        for kind, code, field, record in (("product", "RES", "product_id", cls.resin),
                                          ("uom", "Units", "uom_id", cls.unit)):
            env["mfg.mapping"].create({"mapping_type": kind, "external_code": code,
                                       field: record.id, "connector_id": cls.from_a.id,
                                       "company_id": cls.plant_b.id})
        cls.warehouse_b = env["stock.warehouse"].search([("company_id", "=", cls.plant_b.id)],
                                                        limit=1)

    def ship_to_b(self, qty, lot):
        self.picking("in", [(self.resin, qty, lot)], partner=self.vendor)
        delivery = self.picking("out", [(self.resin, qty, lot)],
                                partner=self.plant_b.partner_id)
        self.run_jobs()  # A's notice handed over to B
        self.run_jobs()  # B applies it
        received = self.message(f"odoo/notice/{delivery.id}", "PLANT-A")
        self.assertEqual(received.company_id, self.plant_b)
        self.assertEqual(received.state, "done", received.last_error)
        return delivery

    def transfer(self, delivery):
        return self.env["mfg.interplant.transfer"].search([("name", "=", delivery.name)])

    def on_hand_b(self, lot):
        quants = self.env["stock.quant"].search([
            ("product_id", "=", self.resin.id), ("lot_id.name", "=", lot),
            ("location_id", "=", self.warehouse_b.lot_stock_id.id)])
        return sum(quants.mapped("quantity"))

    def test_delivery_to_plant_b_becomes_its_receipt_and_closes_on_validation(self):
        delivery = self.ship_to_b(10, "LOT-7")
        notice = self.outbox(self.to_b)
        self.assertEqual(notice.state, "done", notice.last_error)
        transfer = self.transfer(delivery)
        self.assertEqual((transfer.state, transfer.company_id, transfer.connector_id),
                         ("in_transit", self.plant_b, self.from_a))
        receipt = transfer.picking_id
        self.assertEqual((receipt.company_id, receipt.state), (self.plant_b, "assigned"))
        self.assertEqual([(ml.product_id, ml.quantity, ml.lot_id.name)
                          for ml in receipt.move_line_ids], [(self.resin, 10.0, "LOT-7")])
        self.assertFalse(self.outbox(self.wms, "shipment.notice"), "only the plant it goes to")
        # Plant B counts 9 at the dock and validates.
        receipt.move_line_ids.quantity = 9
        receipt.move_ids.picked = True
        action = receipt.button_validate()
        if isinstance(action, dict):
            self.env[action["res_model"]].with_context(**action["context"]).create(
                {}).process_cancel_backorder()
        self.assertEqual(receipt.state, "done")
        self.assertEqual(self.on_hand_b("LOT-7"), 9)
        self.assertEqual(transfer.state, "mismatch")
        self.assertIn("lot LOT-7: shipped 10.0, received 9.0", transfer.difference)

    def test_exact_receipt_is_received_and_late_ones_are_flagged(self):
        on_time = self.transfer(self.ship_to_b(4, "LOT-8"))
        late = self.transfer(self.ship_to_b(3, "LOT-9"))
        late.shipped_at = fields.Datetime.now() - timedelta(hours=72)
        self.env["mfg.interplant.transfer"]._cron_flag_late()
        self.assertEqual((on_time.is_late, late.is_late), (False, True))
        on_time.picking_id.move_ids.picked = True
        on_time.picking_id.button_validate()
        self.assertEqual((on_time.state, on_time.difference), ("received", False))
        self.assertEqual(self.on_hand_b("LOT-8"), 4)

    def test_a_notice_plant_b_cannot_read_waits_and_the_next_one_goes_through(self):
        """A product plant B has no code for: that notice waits in exception naming it,
        nothing prepared; the next shipment is received as usual."""
        hardener = self.env["product.product"].create({
            "name": "Hardener", "is_storable": True, "tracking": "lot", "default_code": "HRD"})
        self.picking("in", [(hardener, 5, "H-1")], partner=self.vendor)
        unknown = self.picking("out", [(hardener, 5, "H-1")], partner=self.plant_b.partner_id)
        self.run_jobs()
        self.run_jobs()
        waiting = self.message(f"odoo/notice/{unknown.id}", "PLANT-A")
        self.assertEqual(waiting.state, "exception")
        self.assertIn(("product", "HRD"),
                      {(kind, code) for kind, code, _path in waiting.missing_mappings})
        self.assertFalse(self.transfer(unknown))
        self.assertEqual(self.transfer(self.ship_to_b(3, "LOT-6")).state, "in_transit")

    def test_a_shipment_is_announced_once_and_other_plants_see_nothing(self):
        delivery = self.ship_to_b(2, "LOT-5")
        again = self.outbox(self.to_b)
        self.assertEqual(len(again), 1)
        self.assertEqual(len(self.transfer(delivery)), 1)
        transfer = self.transfer(delivery)
        with self.assertRaises(AccessError):
            transfer.with_user(self.user).read(["name"])  # plant A's user: not B's transit
        self.assertEqual(transfer.with_user(self.user_b).name, delivery.name)
        with self.assertRaises(AccessError):
            transfer.with_user(self.user_b).write({"state": "received"})
