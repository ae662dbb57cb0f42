# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import MfgMrpCase


@tagged("post_install", "-at_install")
class TestShopFloorSequence(MfgMrpCase):
    def _sequence(self, production):
        return [
            ("c-start", "production.confirmation", self.confirmation(production, "start"), 1),
            ("c-sheet", "material.consumption", {"order_ref": production.name,
                                                 "product": "MAT-SHEET", "qty": 11,
                                                 "uom": "PCE"}, 2),
            ("c-screw", "material.consumption", {"order_ref": production.name,
                                                 "product": "MAT-SCREW", "qty": 40,
                                                 "uom": "PCE"}, 3),
            ("c-scrap", "production.scrap", {"order_ref": production.name, "product": "MAT-SHEET",
                                             "qty": 1, "uom": "PCE", "reason_code": "BURR"}, 4),
            ("c-done", "production.confirmation",
             self.confirmation(production, "complete", good=10, final=True), 5),
        ]

    def _assert_completed(self, production):
        self.assertEqual(production.state, "done")
        self.assertEqual(production.qty_produced, 10)
        raw = {m.product_id: m.quantity for m in production.move_raw_ids}
        self.assertEqual(raw[self.sheet], 11, "over-consumption recorded as reported")
        self.assertEqual(raw[self.screw], 40)
        self.assertEqual(set(production.move_raw_ids.mapped("state")), {"done"})
        finished = production.move_finished_ids.filtered(lambda m: m.product_id == self.bracket)
        self.assertEqual(finished.quantity, 10)
        scrap = self.env["stock.scrap"].search([("production_id", "=", production.id)])
        self.assertEqual((scrap.product_id, scrap.scrap_qty, scrap.state), (self.sheet, 1, "done"))
        self.assertEqual(scrap.scrap_reason_tag_ids, self.reason)
        self.assertEqual(production.workorder_ids.state, "done")
        self.assertEqual(self.bracket.qty_available, 10)
        states = set(self.Message.search([("ordering_key", "=", production.name)]).mapped("state"))
        self.assertEqual(states, {"done"})

    def test_start_consume_scrap_complete(self):
        production = self.new_order()
        self.shop_floor(*self._sequence(production)[:1])
        self.assertEqual(production.workorder_ids.state, "progress")
        self.shop_floor(*self._sequence(production)[1:])
        self._assert_completed(production)

    def test_out_of_order_arrival_is_applied_in_occurred_order(self):
        production = self.new_order()
        events = self._sequence(production)
        self.shop_floor(*reversed(events))
        self._assert_completed(production)

    def test_same_event_twice_has_no_second_effect(self):
        production = self.new_order()
        events = self._sequence(production)
        self.shop_floor(*events[:2])
        result = self.shop_floor(events[1])
        self.assertEqual(result["duplicates"], 1)
        sheet_move = production.move_raw_ids.filtered(lambda m: m.product_id == self.sheet)
        self.assertEqual(sheet_move.quantity, 11)
        # Even an operator's replay of the done message does not consume twice.
        message = self.message("c-sheet")
        message._reset_for_processing()
        message._enqueue_processing(force_now=True)
        self.run_jobs()
        self.assertEqual(message.state, "done")
        self.assertEqual(sheet_move.quantity, 11)

    def test_partial_final_creates_backorder(self):
        production = self.new_order(qty=10)
        production.picking_type_id.create_backorder = "always"
        self.shop_floor(("p1", "production.confirmation",
                         self.confirmation(production, "quantity", good=4), 1),
                        ("p2", "production.confirmation",
                         self.confirmation(production, "complete", good=2, final=True), 2))
        self.assertEqual((production.state, production.qty_produced), ("done", 6))
        backorder = self.env["mrp.production"].search([
            ("production_group_id", "=", production.production_group_id.id),
            ("id", "!=", production.id)])
        self.assertEqual((backorder.product_qty, backorder.state), (4, "confirmed"))
        self.assertIn(backorder, self.env["mrp.production"].browse(self.message("p2").result_ids))

    def test_unknown_order_goes_to_exception(self):
        self.shop_floor(("u1", "production.confirmation", {
            "order_ref": "WH/MO/99999", "work_center": "WC-PRESS", "qty_good": 1, "qty_scrap": 0,
            "uom": "PCE", "final": False}, 1))
        message = self.message("u1")
        self.assertEqual(message.state, "exception")
        self.assertIn("Unknown production order WH/MO/99999", message.last_error)


@tagged("post_install", "-at_install")
class TestVersionsTheHandlersRead(MfgMrpCase):
    def test_an_inbound_flow_accepts_no_version_its_handler_does_not_read(self):
        flow = self.env["mfg.flow"].search([
            ("connector_id", "=", self.connector.id), ("direction", "=", "in"),
            ("canonical_type", "=", "production.confirmation")])
        with self.assertRaisesRegex(ValidationError, "applied from version 1 payloads; the "
                                                     "flow cannot accept version 2"):
            flow.schema_version = 2
