# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from odoo.addons.mfg_integration.tests.common import envelope

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
class TestIsa95Senders(MfgMrpCase):
    """A sender speaking canonical v2 (ISA-95): one OperationsResponse reports the start,
    the produced and scrapped quantities and the consumed components of the pressing
    operation and completes the order - what v1 needed four messages for."""

    def _inbound_flow(self, type_name):
        return self.env["mfg.flow"].search([
            ("connector_id", "=", self.connector.id), ("direction", "=", "in"),
            ("canonical_type", "=", type_name)])

    def response(self, production, key="r-1", **segment):
        segment = dict({
            "id": "0010", "segment_requirement_id": "Pressing", "segment_state": "Completed",
            "actual_start": "2026-11-23T08:00:00+00:00", "final": True,
            "equipment_actuals": [{"equipment_id": {"value": "WC-PRESS"},
                                   "level": "WorkCenter"}],
            "material_actuals": [
                {"use": "Produced", "quantity_kind": "good",
                 "quantity": {"value": 10, "unit_code": "C62"}},
                {"use": "Produced", "quantity_kind": "scrap", "reason_code": "BURR",
                 "quantity": {"value": 1, "unit_text": "PCE"}},
                {"use": "Consumed", "material_definition_id": {"value": "MAT-SHEET"},
                 "quantity": {"value": 11, "unit_code": "H87"}},
                {"use": "Consumed", "material_definition_id": {"value": "MAT-SCREW"},
                 "quantity": {"value": 40, "unit_text": "PCE"}}]}, **segment)
        return envelope(key, type_name="production.confirmation", schema_version=2,
                        verb="Process", occurred_at="2026-11-23T09:00:00+00:00", payload={
                            "operations_request_id": production.name,
                            "response_state": "Completed", "segment_responses": [segment]})

    def test_one_operations_response_runs_and_completes_the_order(self):
        # A v1 flow takes v2 envelopes too (its version is what it builds); the ordering
        # key of an ISA-95 sender is the operations request.
        self._inbound_flow("production.confirmation").ordering_key_field = \
            "operations_request_id"
        production = self.new_order()
        result = self.Message.ingest([self.response(production)])
        self.assertEqual(result["rejected"], [])
        self.run_jobs()
        message = self.message("r-1")
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(message.ordering_key, production.name)
        self.assertEqual(production.state, "done")
        self.assertEqual(production.qty_produced, 10)
        self.assertEqual(production.mfg_reported_scrap_qty, 1)
        raw = {m.product_id: m.quantity for m in production.move_raw_ids}
        self.assertEqual((raw[self.sheet], raw[self.screw]), (11, 40),
                         "C62/H87 are Odoo's Units without a mapping; PCE through its mapping")
        self.assertEqual(production.workorder_ids.state, "done")

    def test_unknown_codes_are_named_and_nothing_is_applied(self):
        production = self.new_order()
        unknown = self.response(production, key="r-2", equipment_actuals=[
            {"equipment_id": {"value": "WC-NOWHERE"}}])
        unknown["payload"]["segment_responses"][0]["material_actuals"][1]["quantity"] = {
            "value": 1, "unit_text": "BOXES"}
        self.Message.ingest([unknown])
        self.run_jobs()
        message = self.message("r-2")
        self.assertEqual(message.state, "exception")
        missing = {(kind, code) for kind, code, _path in message.missing_mappings}
        self.assertEqual(missing, {("work_center", "WC-NOWHERE"), ("uom", "BOXES")})
        self.assertEqual(production.state, "confirmed", "nothing applied")

    def test_a_v1_value_v2_cannot_take_is_rejected_at_ingest(self):
        production = self.new_order()
        bad = self.confirmation(production, "quantity", good=1)
        bad["operator"] = "x" * 201  # v1 allowed any length; a v2 person id has 200 at most
        result = self.Message.ingest([envelope("r-3", type_name="production.confirmation",
                                               payload=bad)])
        self.assertIn("upgraded from v1 to v2", result["rejected"][0]["error"])
        self.assertIn("person_id.value", result["rejected"][0]["error"])
        newer = self.Message.ingest([envelope("r-4", type_name="production.confirmation",
                                              schema_version=3, payload={})])
        self.assertIn("unsupported schema_version 3", newer["rejected"][0]["error"])

    def test_a_flow_can_stop_accepting_an_old_version(self):
        """Schema evolution: v1 senders are upgraded on the way until the flow's oldest
        accepted version says they must have moved on; then v1 is refused with the reason,
        nothing stored, while v2 goes on."""
        flow = self._inbound_flow("production.confirmation")
        production = self.new_order()
        old = envelope("r-5", type_name="production.confirmation",
                       payload=self.confirmation(production, "start"))
        self.assertEqual(self.Message.ingest([old])["rejected"], [])
        flow.min_schema_version = 2
        refused = self.Message.ingest([dict(old, key="r-6")])["rejected"]
        self.assertEqual(len(refused), 1)
        self.assertIn("schema_version 1 of production.confirmation is no longer accepted "
                      "from EDGE-T1 (oldest accepted: 2)", refused[0]["error"])
        self.assertFalse(self.message("r-6"), "refused, not stored")
        self.assertEqual(self.Message.ingest([self.response(production, key="r-7")])
                         ["rejected"], [])
        with self.assertRaises(ValidationError):
            flow.min_schema_version = 3
        with self.assertRaises(AccessError):
            flow.with_user(self.user).min_schema_version = 1
