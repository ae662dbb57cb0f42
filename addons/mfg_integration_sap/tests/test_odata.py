# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Pulls and deliveries over OData V2 against a Gateway-like server on 127.0.0.1."""
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import CONFIRMATION, CONSUMPTION, SapTestCase
from .odata_server import ODataSimulator


@tagged("post_install", "-at_install")
class TestOData(SapTestCase):
    def setUp(self):
        super().setUp()
        self.server = ODataSimulator(self.backend, page_size=2).__enter__()
        self.addCleanup(self.server.__exit__)
        self.odata.endpoint_url = self.server.url
        self.flow = self.odata.flow_ids.filtered(lambda f: f.direction == "in")

    # ------------------------------------------------------------------ pulls
    def test_pull_follows_pages_and_builds_production_order_messages(self):
        self.backend.orders["1000124"]["LastChangeDateTime"] = self.changed(9)
        self.backend.orders["1000125"]["LastChangeDateTime"] = self.changed(10)
        self.backend.add_order("1000126", changed=self.changed(11))
        self.backend.add_order("1000127", changed=self.changed(12), released=False)
        summary = self.flow._sap_pull_orders()
        self.assertIn("5 order(s) fetched: 4 new message(s)", summary)
        gets = [r for r in self.server.requests if r[1].endswith("A_ProductionOrder_2")]
        self.assertEqual(len(gets), 3, "5 orders in pages of 2 follow __next twice")
        message = self.message("SAP-PRD:1000126:20261123T110000Z", source="SAP-ODATA")
        self.assertEqual(message.canonical_type, "production.order")
        self.assertEqual(message.payload["action"], "release")
        self.assertEqual((message.payload["product"], message.payload["qty"],
                          message.payload["uom"]), ("SB-200", 100.0, "ST"))
        self.assertTrue(message.payload["date_start"].startswith("2026-11-24"))
        self.assertEqual(self.flow.sap_checkpoint.hour, 12, "checkpoint = newest change seen")
        self.assertTrue(self.flow.sap_last_pull_ok)
        self.assertIn("ProductionPlant eq '1010'", gets[0][2]["$filter"])

    def test_repull_dedups_and_a_change_becomes_an_update(self):
        self.flow._sap_pull_orders()
        checkpoint = self.flow.sap_checkpoint
        self.assertIn("LastChangeDateTime ge '20261123080000'",
                      self.flow._sap_pull_orders() and self.server.requests[-1][2]["$filter"])
        self.flow.sap_checkpoint = False
        summary = self.flow._sap_pull_orders()
        self.assertIn("0 new message(s), 3 unchanged", summary)
        self.assertEqual(self.flow.sap_checkpoint, checkpoint)
        self.backend.orders["1000124"].update(TotalQuantity="80",
                                              LastChangeDateTime=self.changed(14))
        self.backend.orders["1000125"].update(OrderIsMarkedForDeletion=True,
                                              LastChangeDateTime=self.changed(14))
        self.assertIn("2 new message(s)", self.flow._sap_pull_orders())
        actions = {m.payload["order_ref"]: m.payload["action"] for m in self.Message.search([
            ("source", "=", "SAP-ODATA"), ("key", "like", "%T140000Z")])}
        self.assertEqual(actions, {"1000124": "update", "1000125": "cancel"})

    def test_malformed_pull_keeps_checkpoint_and_stores_nothing(self):
        self.server.malformed = True
        summary = self.flow._sap_pull_orders()
        self.assertIn("Pull failed", summary)
        self.assertIn("non-JSON body", summary)
        self.assertFalse(self.flow.sap_last_pull_ok)
        self.assertFalse(self.flow.sap_checkpoint)
        self.assertFalse(self.Message.search_count([("source", "=", "SAP-ODATA")]))

    def test_cron_queues_one_pull_job_per_due_flow(self):
        self.env["mfg.flow"]._cron_sap_pull()
        self.assertTrue(self.flow.sap_next_pull_at)
        self.run_jobs(model="mfg.flow")
        self.assertTrue(self.flow.sap_last_pull_ok, self.flow.sap_last_pull_result)
        self.assertEqual(self.Message.search_count([("source", "=", "SAP-ODATA")]), 3)

    # -------------------------------------------------------------- deliveries
    def test_confirmation_with_csrf_handshake_and_token_refetch(self):
        first = self.send(self.odata, "production.confirmation", CONFIRMATION, "OC-1")
        self.run_jobs()
        self.assertEqual(first.state, "done", first.last_error)
        self.assertEqual(self.server.token_fetches, 1)
        self.server.expire_tokens()
        second = self.send(self.odata, "production.confirmation", CONFIRMATION, "OC-2")
        self.run_jobs()
        self.assertEqual(second.state, "done", second.last_error)
        self.assertEqual(self.server.token_fetches, 2, "403 'Required' -> fetched again")
        self.assertEqual(len(self.backend.confirmations), 2)

    def test_batch_of_confirmations_is_one_batch_request(self):
        self.batched(self.odata)
        messages = [self.send(self.odata, "production.confirmation",
                              dict(CONFIRMATION, order_ref=ref), f"OB-{index}")
                    for index, ref in enumerate(("1000123", "777", "1000124"))]
        self.run_batch()
        self.assertEqual([m.state for m in messages], ["done", "exception", "done"])
        self.assertIn("CO/003: Order 777 does not exist", messages[1].last_error)
        posts = [r for r in self.server.requests if r[0] == "POST"]
        self.assertEqual([p[1].rsplit("/", 1)[1] for p in posts], ["$batch"])

    def test_lock_in_error_body_is_retried(self):
        self.backend.locked["1000123"] = 1
        message = self.send(self.odata, "material.consumption", CONSUMPTION, "OG-LOCK")
        self.run_jobs()
        self.assertEqual(message.state, "failed", (message.last_error, message.result_summary))
        self.assertIn("CO/469", message.last_error)
        self.run_jobs(ignore_eta=True)
        self.assertEqual(message.state, "done", message.last_error)

    def test_auth_failure_is_a_clear_exception(self):
        self.odata.password = "wrong"
        message = self.send(self.odata, "production.confirmation", CONFIRMATION, "OC-AUTH")
        self.run_jobs()
        self.assertEqual(message.state, "exception", (message.last_error, message.result_summary))
        self.assertIn("SAP refused the credentials", message.last_error)
        self.assertIn("HTTP 401", message.last_error)

    def test_timeout_is_retried(self):
        self.odata.timeout_s = 0.3
        self.server.sleep_s = 1.0
        message = self.send(self.odata, "production.confirmation", CONFIRMATION, "OC-SLOW")
        self.run_jobs()
        self.assertEqual(message.state, "failed", (message.last_error, message.result_summary))
        self.assertIn("timeout", message.last_error)
        self.server.sleep_s = 0
        self.run_jobs(ignore_eta=True)
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(len(self.backend.confirmations), 1,
                         "the slow first attempt and the retry posted one confirmation")

    def test_non_json_answer_is_retried_with_a_clear_error(self):
        self.server.malformed = True
        message = self.send(self.odata, "production.confirmation", CONFIRMATION, "OC-HTML")
        self.run_jobs()
        self.assertEqual(message.state, "failed", (message.last_error, message.result_summary))
        self.assertIn("unreadable body", message.last_error)

    def test_order_update_uses_etag(self):
        payload = {"order_ref": "1000123", "product": "SB-200", "qty": 90, "uom": "ST",
                   "action": "update"}
        message = self.send(self.odata, "production.order", payload, "OU-1")
        self.run_jobs()
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(self.backend.orders["1000123"]["TotalQuantity"], "90.000")
        self.assertEqual(self.backend.orders["1000123"]["etag_version"], 2)
        merge = [r for r in self.server.requests
                 if r[0] == "POST" and "A_ProductionOrder_2(" in r[1]]
        self.assertEqual(len(merge), 1)

    def test_materials_pull_creates_mappings_and_lists_unmatched(self):
        self.backend.products = [
            {"Product": "TB-777", "ProductType": "FERT", "BaseUnit": "ST",
             "to_Description": {"results": [{"Language": "EN",
                                             "ProductDescription": "Steel bracket"}]}},
            {"Product": "000000000040000815", "ProductType": "ROH", "BaseUnit": "ST",
             "to_Description": {"results": []}},
            {"Product": "DUP-1", "ProductType": "ROH", "BaseUnit": "ST"},
        ]
        for name in ("Twin A", "Twin B"):
            self.env["product.product"].create({"name": name, "default_code": "DUP-1"})
        self.odata.action_sap_pull_materials()
        materials = self.odata.sap_material_ids
        self.assertEqual(sorted(materials.mapped("material")), ["40000815", "DUP-1", "TB-777"])
        mapped = materials.filtered(lambda m: m.material == "TB-777")
        self.assertEqual((mapped.state, mapped.mapping_id.product_id), ("mapped", self.product))
        self.assertEqual(self.odata.sap_unmatched_count, 2,
                         "40000815 has no product, DUP-1 two: both wait for a person")
        bolt = materials.filtered(lambda m: m.material == "40000815")
        bolt.product_id = self.env["product.product"].create({"name": "Hex bolt M8"})
        self.assertEqual((bolt.state, bolt.mapping_id.external_code), ("mapped", "40000815"))
        message = self.Message.ingest([{
            "key": "PO-BOLT", "type": "production.order", "schema_version": 1,
            "source": "SAP-ODATA", "occurred_at": "2026-11-23T08:00:00+00:00",
            "payload": {"order_ref": "1000999", "product": "40000815", "qty": 5, "uom": "ST"}}])
        self.assertEqual(message["accepted"], 1)
        self.run_jobs()
        message = self.message("PO-BOLT", source="SAP-ODATA")
        self.assertEqual(message._mfg_mapped(
            "material_requirements[use=Produced].material_definition_id.value"),
            bolt.product_id.id, "the material now resolves through its mapping")

    def test_materials_pull_with_a_material_master_flow_updates_products(self):
        self._flow("material.master", connector=self.odata, schema_version=2)
        self.backend.products = [
            {"Product": "TB-777", "ProductType": "FERT", "BaseUnit": "ST",
             "to_Description": {"results": [{"Language": "EN",
                                             "ProductDescription": "Steel bracket SB-200"}]}},
            {"Product": "000000000040000900", "ProductType": "HIBE", "BaseUnit": "ST",
             "IsMarkedForDeletion": False,
             "to_Description": {"results": [{"Language": "EN",
                                             "ProductDescription": "Cutting oil"}]}}]
        summary = self.odata.action_sap_pull_materials()
        self.run_jobs()
        self.assertEqual(self.product.name, "Steel bracket SB-200")
        oil = self.env["product.product"].search([("default_code", "=", "40000900")])
        self.assertEqual((oil.name, oil.is_storable), ("Cutting oil", False),
                         "HIBE: a consumable, not kept in stock")
        self.odata.action_sap_pull_materials()
        self.assertEqual(self.Message.search_count([("canonical_type", "=", "material.master"),
                                                    ("connector_id", "=", self.odata.id)]),
                         2, f"unchanged materials are duplicates ({summary})")

    def test_bills_of_material_pull_becomes_bom_revisions(self):
        with self.assertRaisesRegex(UserError, "no inbound material.bom flow"):
            self.odata.action_sap_pull_boms()
        self._flow("material.bom", connector=self.odata, schema_version=2)
        bolt = self.env["product.product"].create({"name": "Hex bolt M8", "is_storable": True})
        bracket = self.env["product.product"].create({"name": "Bracket", "is_storable": True})
        unit = self.env.ref("uom.product_uom_unit")
        self.env["mfg.mapping"].create([
            {"mapping_type": "product", "external_code": code, "product_id": product.id,
             "connector_id": self.odata.id}
            for code, product in (("40000815", bolt), ("SB-200", bracket))])
        keys = {"BillOfMaterial": "00000042", "BillOfMaterialCategory": "M",
                "BillOfMaterialVariant": "01", "BillOfMaterialVersion": "",
                "Material": "SB-200", "Plant": "1010"}
        items = [dict(keys, BillOfMaterialItemNodeNumber="00000001", HeaderChangeDocument="",
                      BillOfMaterialItemNumber="0010", BillOfMaterialItemCategory="L",
                      BillOfMaterialComponent="000000000040000815",
                      BillOfMaterialItemUnit="ST", BillOfMaterialItemQuantity="2.000"),
                 dict(keys, BillOfMaterialItemNodeNumber="00000002", HeaderChangeDocument="",
                      BillOfMaterialItemNumber="0020", BillOfMaterialItemCategory="T",
                      BillOfMaterialComponent="", BillOfMaterialItemUnit="",
                      BillOfMaterialItemQuantity="0.000", BOMItemDescription="Torque 25 Nm")]
        self.backend.boms = [dict(keys, EngineeringChangeDocument="", BOMHeaderBaseUnit="ST",
                                  BOMHeaderQuantityInBaseUnit="1.000",
                                  to_BillOfMaterialItem={"results": items})]
        summary = self.odata.action_sap_pull_boms()
        self.run_jobs()
        bom = self.env["mrp.bom"].search([("product_tmpl_id", "=", bracket.product_tmpl_id.id)])
        self.assertEqual(len(bom), 1, summary)
        self.assertEqual([(line.product_id, line.product_qty, line.product_uom_id)
                          for line in bom.bom_line_ids], [(bolt, 2.0, unit)],
                         "the text item is no component")
        self.assertTrue(bom.code.startswith("00000042-01/"))
        self.odata.action_sap_pull_boms()
        self.assertEqual(self.Message.search_count([("canonical_type", "=", "material.bom"),
                                                    ("connector_id", "=", self.odata.id)]), 1,
                         "unchanged in SAP: a duplicate")
        items[0]["BillOfMaterialItemQuantity"] = "3.000"
        self.odata.action_sap_pull_boms()
        self.run_jobs()
        current = self.env["mrp.bom"].search([("product_tmpl_id", "=", bracket.product_tmpl_id.id)])
        self.assertEqual(current.bom_line_ids.product_qty, 3.0, "a change is a new revision")
        self.assertNotEqual(current, bom)
        self.assertFalse(bom.active)

    def test_connection_test_reads_metadata_and_token(self):
        ok, text = self.odata._test_connection()
        self.assertTrue(ok, text)
        self.assertIn("CSRF token received", text)
        self.odata.endpoint_url = "http://127.0.0.1:9"
        ok, text = self.odata._test_connection()
        self.assertFalse(ok)
        self.assertIn("unreachable", text)
