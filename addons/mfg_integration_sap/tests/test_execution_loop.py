# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The SAP loop closed end to end: an order pulled from SAP becomes an MO, the MES reports it
complete, Odoo completes the MO - and what Odoo booked goes back to SAP: one confirmation,
the component issue (261) and the goods receipt (101), each quantity once in SAP's ledger,
over RFC and over OData. A replayed MES message posts nothing more; SAP's refusal lands in
exception with SAP's text."""
from odoo.tests import tagged

from odoo.addons.mfg_integration.tests.common import envelope

from .common import SapTestCase
from .odata_server import ODataSimulator

ORDER = "1000300"
BOLT = "000000000040000815"
LOOP_TYPES = ("production.confirmation", "material.consumption", "goods.receipt")


@tagged("post_install", "-at_install")
class TestSapExecutionLoop(SapTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        unit = env.ref("uom.product_uom_unit")
        cls.bracket = env["product.product"].create({"name": "Bracket SB-200",
                                                     "is_storable": True})
        cls.bolt = env["product.product"].create({"name": "Bolt M8", "is_storable": True})
        cls.assembly = env["mrp.workcenter"].create({"name": "Assembly", "code": "ASSY-1"})
        env["mrp.bom"].create({
            "product_tmpl_id": cls.bracket.product_tmpl_id.id, "product_qty": 1,
            "consumption": "flexible",
            "bom_line_ids": [(0, 0, {"product_id": cls.bolt.id, "product_qty": 2})],
            "operation_ids": [(0, 0, {"name": "Assembly", "workcenter_id": cls.assembly.id,
                                      "time_cycle_manual": 1})]})
        env["stock.quant"]._update_available_quantity(
            cls.bolt, env.ref("stock.stock_location_stock"), 1000)
        Mapping = env["mfg.mapping"]
        for connector in (cls.rfc, cls.odata):
            Mapping.create([
                {"mapping_type": "product", "external_code": "SB-200",
                 "product_id": cls.bracket.id, "connector_id": connector.id},
                {"mapping_type": "product", "external_code": "40000815",
                 "product_id": cls.bolt.id, "connector_id": connector.id}])
        # The MES (the edge connector) reports in its own terms.
        cls._flow("production.confirmation", ordering_key_field="order_ref")
        Mapping.create([
            {"mapping_type": "work_center", "external_code": "ASSY-1",
             "workcenter_id": cls.assembly.id, "connector_id": cls.connector.id},
            {"mapping_type": "uom", "external_code": "ST", "uom_id": unit.id,
             "connector_id": cls.connector.id}])

    def setUp(self):
        super().setUp()
        # No backflush, no automatic goods receipt: Odoo books the goods movements.
        self.backend.add_order(ORDER, qty=50, components=[(BOLT, 2.0, "ST", False)])

    def only(self, connector):
        """The loop goes to every subscribed connector: keep the one under test."""
        (self.rfc | self.soap | self.odata).flow_ids.filtered(
            lambda f: f.direction == "out" and f.connector_id != connector
            and f.canonical_type in LOOP_TYPES).active = False

    def mes_reports_complete(self, key="MES-DONE"):
        result = self.Message.ingest([envelope(key, type_name="production.confirmation",
                                               occurred_at="2026-11-23T14:00:00+00:00",
                                               payload={
            "order_ref": ORDER, "work_center": "ASSY-1", "event": "complete",
            "qty_good": 50, "qty_scrap": 0, "uom": "ST", "final": True})])
        self.assertEqual(result["rejected"], [])
        for _round in range(4):
            self.run_jobs(ignore_eta=True)
        return self.message(key)

    def pull_order(self, connector):
        connector.flow_ids.filtered(lambda f: f.direction == "in")._sap_pull_orders()
        self.run_jobs()
        production = self.env["mrp.production"].search([("mfg_external_ref", "=", ORDER)])
        self.assertEqual((production.product_id, production.product_qty),
                         (self.bracket, 50))
        return production

    def loop_messages(self, connector):
        return self.Message.search([("connector_id", "=", connector.id),
                                    ("direction", "=", "out"),
                                    ("canonical_type", "in", LOOP_TYPES)])

    def assert_booked_once(self):
        ledger = self.backend.ledger()
        self.assertEqual(ledger, {(ORDER, "yield", ""): 50.0, (ORDER, "40000815", "261"): 100.0,
                                  (ORDER, "SB-200", "101"): 50.0}, ledger)

    def test_rfc_loop_books_each_quantity_once(self):
        self.only(self.rfc)
        production = self.pull_order(self.rfc)
        mes = self.mes_reports_complete()
        self.assertEqual(mes.state, "done", mes.last_error)
        self.assertEqual(production.state, "done")
        sent = self.loop_messages(self.rfc)
        self.assertEqual(sorted(sent.mapped("state")), ["done"] * 3,
                         [(m.canonical_type, m.last_error) for m in sent])
        calls = self.fake_rfc.called
        self.assertEqual((calls.count("BAPI_PRODORDCONF_CREATE_TT"),
                          calls.count("BAPI_GOODSMVT_CREATE"),
                          calls.count("BAPI_TRANSACTION_COMMIT")), (1, 2, 3), calls)
        self.assert_booked_once()
        self.assertFalse(self.loop_messages(self.connector), "nothing echoed to the MES")
        # The MES sends its report again: a duplicate, nothing more reaches SAP.
        self.mes_reports_complete()
        self.assertEqual(len(self.loop_messages(self.rfc)), 3)
        self.assertEqual(self.fake_rfc.called.count("BAPI_PRODORDCONF_CREATE_TT"), 1)
        self.assert_booked_once()

    def test_odata_loop_books_each_quantity_once(self):
        server = ODataSimulator(self.backend).__enter__()
        self.addCleanup(server.__exit__)
        self.odata.endpoint_url = server.url
        self.only(self.odata)
        self.pull_order(self.odata)
        self.mes_reports_complete()
        sent = self.loop_messages(self.odata)
        self.assertEqual(sorted(sent.mapped("state")), ["done"] * 3,
                         [(m.canonical_type, m.last_error) for m in sent])
        self.assert_booked_once()
        self.assertEqual(len(self.backend.order_confirmations(ORDER)), 1)

    def test_one_refused_posting_does_not_hold_back_the_others(self):
        """SAP refuses the component issue (a stock deficit in SAP): that message waits in
        exception with SAP's text, the confirmation and the goods receipt are posted."""
        self.only(self.rfc)
        self.backend.orders[ORDER].update(TotalQuantity="600")
        self.env["stock.quant"]._update_available_quantity(
            self.bolt, self.env.ref("stock.stock_location_stock"), 1000)
        self.rfc.flow_ids.filtered(lambda f: f.direction == "in")._sap_pull_orders()
        self.run_jobs()
        result = self.Message.ingest([envelope("MES-600", type_name="production.confirmation",
                                               occurred_at="2026-11-23T14:00:00+00:00",
                                               payload={
            "order_ref": ORDER, "work_center": "ASSY-1", "event": "complete",
            "qty_good": 600, "qty_scrap": 0, "uom": "ST", "final": True})])
        self.assertEqual(result["rejected"], [])
        for _round in range(4):
            self.run_jobs(ignore_eta=True)
        sent = {m.canonical_type: m for m in self.loop_messages(self.rfc)}
        self.assertEqual({t: m.state for t, m in sent.items()}, {
            "production.confirmation": "done", "material.consumption": "exception",
            "goods.receipt": "done"})
        self.assertIn("Deficit of SL Unrestricted-use 1200",
                      sent["material.consumption"].last_error)
        ledger = self.backend.ledger()
        self.assertEqual((ledger[(ORDER, "yield", "")], ledger[(ORDER, "SB-200", "101")]),
                         (600.0, 600.0))
        self.assertNotIn((ORDER, "40000815", "261"), ledger)

    def test_sap_refusal_is_an_exception_with_sap_text(self):
        self.only(self.rfc)
        production = self.pull_order(self.rfc)
        del self.backend.orders[ORDER]  # deleted in SAP meanwhile (archived, say)
        self.mes_reports_complete()
        self.assertEqual(production.state, "done", "Odoo's own booking is not held back")
        sent = self.loop_messages(self.rfc)
        self.assertEqual(sorted(sent.mapped("state")), ["exception"] * 3)
        self.assertTrue(all(f"Order {ORDER} does not exist" in m.last_error for m in sent),
                        sent.mapped("last_error"))
        self.assertEqual(self.backend.ledger(), {})
