# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Completing an MO in Odoo sends what was booked to the connectors that book it too: one
confirmation per finished operation, one consumption per component line, one receipt per
produced line - in the peer's codes, never back to where the report came from, once."""
from odoo.exceptions import AccessError
from odoo.tests import tagged

from ..services import execution_events
from .common import MfgMrpCase

LOOP_TYPES = ("production.confirmation", "material.consumption", "goods.receipt")


@tagged("post_install", "-at_install")
class TestExecutionLoop(MfgMrpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.erp = cls.env["mfg.connector"].create({
            "name": "ERP test", "code": "ERP-T", "connector_type": "edge"})
        for type_name in LOOP_TYPES:
            cls._flow(type_name, connector=cls.erp, direction="out",
                      ordering_key_field="order_ref")
        # The ERP knows the bracket and its screws by its own numbers.
        Mapping = cls.env["mfg.mapping"]
        for code, field, record in (("40000815", "product_id", cls.screw),
                                    ("SB-200", "product_id", cls.bracket),
                                    ("ST", "uom_id", cls.unit)):
            Mapping.create({"mapping_type": "product" if field == "product_id" else "uom",
                            "external_code": code, field: record.id,
                            "connector_id": cls.erp.id})

    def outbox(self, connector=None):
        return self.Message.search([("connector_id", "=", (connector or self.erp).id),
                                    ("direction", "=", "out"),
                                    ("canonical_type", "in", LOOP_TYPES)], order="id")

    def complete_by_hand(self, production, qty):
        production.qty_producing = qty
        production._set_qty_producing()
        action = production.button_mark_done()
        if isinstance(action, dict) and action.get("res_model") == "mrp.production.backorder":
            self.env[action["res_model"]].with_context(**action["context"]).create(
                {}).action_backorder()
        return production

    def by_type(self, messages):
        return {type_name: messages.filtered(lambda m, t=type_name: m.canonical_type == t)
                for type_name in LOOP_TYPES}

    def test_user_completion_goes_out_once_in_the_peers_codes(self):
        production = self.new_order(qty=10)
        self.complete_by_hand(production, 10)
        self.assertEqual(production.state, "done")
        sent = self.by_type(self.outbox())
        self.assertEqual(len(sent["production.confirmation"]), 1)
        confirmation = sent["production.confirmation"].payload
        self.assertEqual(
            {k: confirmation[k] for k in ("order_ref", "operation", "work_center", "qty_good",
                                         "qty_scrap", "uom", "final")},
            {"order_ref": production.name, "operation": "0010", "work_center": "WC-PRESS",
             "qty_good": 10.0, "qty_scrap": 0, "uom": "ST", "final": True})
        consumed = {m.payload["product"]: m.payload["qty"] for m in sent["material.consumption"]}
        self.assertEqual(consumed, {"40000815": 40.0, "MAT-SHEET": 10.0},
                         "the connector's own code first, else the plant-wide mapping")
        self.assertEqual([(m.payload["product"], m.payload["qty"], m.payload["movement_type"])
                          for m in sent["goods.receipt"]], [("SB-200", 10.0, "101")])
        self.assertEqual(set(self.outbox().mapped("ordering_key")), {production.name})
        # A second pass over the same bookings (a replay, a second write) posts nothing.
        self.assertFalse(execution_events.publish_completion(production))
        self.assertEqual(len(self.outbox()), 4)

    def test_backorder_is_a_partial_confirmation_under_the_external_number(self):
        production = self.new_order(qty=10)
        production.mfg_external_ref = "1000123"
        self.complete_by_hand(production, 6)
        backorder = production.production_group_id.production_ids - production
        self.assertEqual(len(backorder), 1)
        first = self.by_type(self.outbox())["production.confirmation"]
        self.assertEqual((first.payload["order_ref"], first.payload["qty_good"],
                          first.payload["final"]), ("1000123", 6.0, False))
        self.complete_by_hand(backorder, 4)
        confirmations = self.by_type(self.outbox())["production.confirmation"]
        self.assertEqual([(m.payload["order_ref"], m.payload["qty_good"], m.payload["final"])
                          for m in confirmations], [("1000123", 6.0, False),
                                                    ("1000123", 4.0, True)])
        receipts = self.by_type(self.outbox())["goods.receipt"]
        self.assertEqual(sum(m.payload["qty"] for m in receipts), 10.0)

    def test_shop_floor_completion_is_not_echoed_to_its_source(self):
        # The MES also subscribes to confirmations (e.g. from manual completions)...
        self._flow("production.confirmation", direction="out", ordering_key_field="order_ref")
        production = self.new_order(qty=5)
        self.shop_floor(("MES-1", "production.confirmation",
                         self.confirmation(production, "complete", good=5, final=True), 1))
        self.assertEqual(production.state, "done", self.message("MES-1").last_error)
        # ...but what it reported is not sent back to it; the ERP gets it.
        self.assertFalse(self.outbox(self.connector))
        self.assertEqual(len(self.by_type(self.outbox())["production.confirmation"]), 1)
        self.assertEqual(len(self.by_type(self.outbox())["goods.receipt"]), 1)
        # Replaying the shop-floor message changes nothing and posts nothing.
        self.Message.ingest([self.message("MES-1").as_envelope()])
        self.run_jobs()
        self.assertEqual(len(self.outbox()), 4)

    def test_other_plant_and_inactive_flows_get_nothing(self):
        other = self.env["mfg.connector"].create({
            "name": "ERP plant B", "code": "ERP-B", "connector_type": "edge",
            "company_id": self.connector_b.company_id.id})
        self._flow("goods.receipt", connector=other, direction="out")
        self.erp.flow_ids.filtered(lambda f: f.canonical_type == "material.consumption"
                                   ).active = False
        production = self.new_order(qty=2)
        self.complete_by_hand(production, 2)
        self.assertFalse(self.outbox(other), "another plant's connector hears nothing")
        self.assertFalse(self.by_type(self.outbox())["material.consumption"])
        self.assertEqual(len(self.by_type(self.outbox())["goods.receipt"]), 1)

    def test_users_cannot_write_the_outbox_directly(self):
        production = self.new_order(qty=1)
        self.complete_by_hand(production, 1)
        message = self.outbox()[:1]
        for user in (self.user, self.api_user, self.user_b):
            with self.assertRaises(AccessError):
                message.with_user(user).write({"payload": {"qty": 1000}})
