# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Confirmations and goods movements over RFC/BAPI against a pyrfc-compatible peer."""
from odoo.tests import tagged

from ..services import sap_rfc
from .common import CONFIRMATION, CONSUMPTION, RECEIPT, SapTestCase


@tagged("post_install", "-at_install")
class TestRfc(SapTestCase):
    def test_confirmation_posted_and_committed(self):
        message = self.send(self.rfc, "production.confirmation", CONFIRMATION, "CONF-1")
        self.run_jobs()
        self.assertEqual(message.state, "done", message.last_error)
        self.assertIn("SAP confirmation 0000005001/00000001", message.result_summary)
        self.assertEqual([(c["ORDERID"], c["CONF_TEXT"]) for c in self.backend.confirmations],
                         [("000001000123", "CONF-1")],
                         "posted and committed with the message key as CONF_TEXT")
        self.assertEqual(self.fake_rfc.logons[0]["client"], "100")

    def test_business_error_keeps_sap_text_and_is_not_retried(self):
        message = self.send(self.rfc, "production.confirmation",
                            dict(CONFIRMATION, order_ref="999"), "CONF-BAD")
        self.run_jobs()
        self.assertEqual(message.state, "exception", (message.last_error, message.result_summary))
        self.assertIn("E CO 003: Order 999 does not exist", message.last_error)
        self.assertFalse(self.pending_jobs(), "a business error is never retried")
        self.assertFalse(self.backend.confirmations)

    def test_lock_is_retried_then_posted(self):
        self.backend.locked["1000123"] = 1
        message = self.send(self.rfc, "production.confirmation", CONFIRMATION, "CONF-LOCK")
        self.run_jobs()
        self.assertEqual((message.state, message.attempts), ("failed", 1))
        self.assertIn("locked", message.last_error)
        self.assertIn("CO 469", message.last_error)
        self.run_jobs(ignore_eta=True)
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(len(self.backend.confirmations), 1)

    def test_connection_error_retries_logon_error_is_an_exception(self):
        self.fake_rfc.down = True
        message = self.send(self.rfc, "production.confirmation", CONFIRMATION, "CONF-DOWN")
        self.run_jobs()
        self.assertEqual(message.state, "failed", (message.last_error, message.result_summary))
        self.assertIn("CommunicationError", message.last_error)
        self.fake_rfc.down = False
        self.rfc.password = "wrong"
        self.run_jobs(ignore_eta=True)
        self.assertEqual(message.state, "exception", (message.last_error, message.result_summary))
        self.assertIn("LogonError: Name or password is incorrect", message.last_error)

    def test_batch_posts_good_rows_in_one_call_and_refuses_the_bad_one(self):
        self.batched(self.rfc)
        messages = [self.send(self.rfc, "production.confirmation",
                              dict(CONFIRMATION, order_ref=ref), f"CONF-B{index}")
                    for index, ref in enumerate(("1000123", "424242", "1000124"))]
        self.run_batch()
        self.assertEqual([m.state for m in messages], ["done", "exception", "done"])
        self.assertIn("Order 424242 does not exist", messages[1].last_error)
        self.assertEqual([c for c in self.backend.calls if c[0].startswith("BAPI_PRODORD")],
                         [("BAPI_PRODORDCONF_CREATE_TT", 3)], "one BAPI call for the batch")

    def test_ordering_key_waits_for_the_locked_confirmation(self):
        self.backend.locked["1000123"] = 1
        first = self.send(self.rfc, "production.confirmation", CONFIRMATION, "CONF-O1", minute=1)
        second = self.send(self.rfc, "production.confirmation", dict(CONFIRMATION, final=True),
                           "CONF-O2", minute=2)
        self.run_jobs()
        self.assertEqual(first.state, "failed")
        self.assertNotEqual(second.state, "done", "the final one must not overtake the first")
        self.assertEqual(len(self.backend.confirmations), 0)
        self.run_jobs(ignore_eta=True)
        self.assertEqual((first.state, second.state), ("done", "done"))
        numbers = {c["CONF_TEXT"]: c["CONF_NO"] for c in self.backend.confirmations}
        numbers = [numbers[key] for key in ("CONF-O1", "CONF-O2")]
        self.assertLess(numbers[0], numbers[1], "posted in occurred_at order")

    def test_goods_issue_261_and_receipt_101(self):
        issue = self.send(self.rfc, "material.consumption", CONSUMPTION, "GI-1")
        receipt = self.send(self.rfc, "goods.receipt", RECEIPT, "GR-1")
        self.run_jobs()
        self.assertEqual((issue.state, receipt.state), ("done", "done"))
        items = {doc["header_txt"]: doc["items"][0] for doc in self.backend.material_documents}
        self.assertEqual(items["GI-1"]["MOVE_TYPE"], "261")
        self.assertEqual(items["GI-1"]["MATERIAL"], "000000000040000815")
        self.assertEqual((items["GR-1"]["MOVE_TYPE"], items["GR-1"]["MVT_IND"]), ("101", "F"))
        self.assertIn("SAP material document 49000000", issue.result_summary)

    def test_warehouse_receipt_without_order_is_not_booked_as_production(self):
        """A validated PO receipt in Odoo (mfg_integration_stock) has no order: sending it
        with MVT_IND F would book it as a production receipt. Recorded, not sent."""
        receipt = self.send(self.rfc, "goods.receipt", {
            "product": "SB-200", "qty": 5, "uom": "ST", "receipt_ref": "WH/IN/00007",
            "purchase_ref": "PO00042"}, "GR-PO")
        self.run_jobs()
        self.assertEqual(receipt.state, "done", receipt.last_error)
        self.assertIn("only goods movements of production orders", receipt.result_summary)
        self.assertEqual(self.backend.material_documents, [])
        self.assertNotIn("BAPI_GOODSMVT_CREATE", self.fake_rfc.called)

    def test_goods_movement_error_text(self):
        message = self.send(self.rfc, "material.consumption", dict(CONSUMPTION, qty=5000),
                            "GI-DEFICIT")
        self.run_jobs()
        self.assertEqual(message.state, "exception", (message.last_error, message.result_summary))
        self.assertIn("E M7 021: Deficit of SL Unrestricted-use", message.last_error)

    def test_resend_after_lost_answer_is_idempotent_in_sap(self):
        self.fake_rfc.lose_commit_answer = 1
        message = self.send(self.rfc, "material.consumption", CONSUMPTION,
                            "a-very-long-message-key-beyond-25-chars")
        self.run_jobs()
        self.assertEqual(message.state, "failed", "SAP committed but the answer was lost")
        self.assertEqual(len(self.backend.material_documents), 1)
        self.run_jobs(ignore_eta=True)
        self.assertEqual(message.state, "done")
        self.assertEqual(len(self.backend.material_documents), 1,
                         "the retry found the document by its header text and sent nothing")
        self.assertIn("already posted by an earlier send", message.result_summary)
        self.assertEqual(len(self.backend.material_documents[0]["header_txt"]), 25)

    def test_pull_orders_with_get_list_dedups_unchanged_orders(self):
        self.backend.add_order("1000200", released=False)
        flow = self.rfc.flow_ids.filtered(lambda f: f.direction == "in")
        first = flow._sap_pull_orders()
        self.assertIn("3 new message(s)", first)
        self.assertIn("1 not released", first)
        self.assertIn("0 new message(s), 3 unchanged", flow._sap_pull_orders())
        self.assertEqual(self.Message.search_count([("source", "=", "SAP-RFC")]), 3)
        self.backend.orders["1000123"]["TotalQuantity"] = "120"
        self.assertIn("1 new message(s)", flow._sap_pull_orders())
        update = self.Message.search([("source", "=", "SAP-RFC")]).filtered(
            lambda m: m.payload["action"] == "update")
        self.assertEqual((update.payload["order_ref"], update.payload["qty"]), ("1000123", 120.0))

    def test_without_pyrfc_the_form_and_the_message_say_so(self):
        self.patch(type(self.env["mfg.connector"]), "_sap_rfc_connection_factory",
                   lambda connector: sap_rfc.default_connection_factory())
        if sap_rfc.pyrfc_module() is not None:
            self.skipTest("pyrfc is installed here")
        self.assertFalse(self.rfc.sap_pyrfc_ok)
        self.assertIn("pyrfc is not installed", self.rfc.sap_pyrfc_status)
        ok, text = self.rfc._test_connection()
        self.assertFalse(ok)
        self.assertIn("pyrfc is not installed", text)
        message = self.send(self.rfc, "production.confirmation", CONFIRMATION, "CONF-NOLIB")
        self.run_jobs()
        self.assertEqual(message.state, "exception", (message.last_error, message.result_summary))
        self.assertIn("pyrfc is not installed", message.last_error)

    def test_connection_test_pings(self):
        ok, text = self.rfc._test_connection()
        self.assertTrue(ok, text)
        self.assertIn("RFC_PING answered", text)
