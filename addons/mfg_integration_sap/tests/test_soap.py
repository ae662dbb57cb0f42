# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Deliveries over SOAP (zeep, WSDL-driven) against a SAP-style SOAP service on 127.0.0.1."""
import base64

from odoo.tests import tagged

from .common import CONFIRMATION, CONSUMPTION, SapTestCase
from .soap_server import WSDL_PATH, SoapSimulator


@tagged("post_install", "-at_install")
class TestSoap(SapTestCase):
    def serve(self, **options):
        server = SoapSimulator(self.backend, **options).__enter__()
        self.addCleanup(server.__exit__)
        return server

    def test_confirmations_batch_through_wsdl_url_with_basic_auth(self):
        server = self.serve()
        self.soap.sap_wsdl_url = server.wsdl_url
        self.batched(self.soap)
        messages = [self.send(self.soap, "production.confirmation",
                              dict(CONFIRMATION, order_ref=ref), f"SC-{index}")
                    for index, ref in enumerate(("1000123", "31337", "1000124"))]
        self.run_batch()
        self.assertEqual([m.state for m in messages], ["done", "exception", "done"])
        self.assertIn("E CO 003: Order 31337 does not exist", messages[1].last_error)
        self.assertEqual(len(server.requests), 1, "three time tickets in one SOAP call")
        self.assertIn(b"<TIMETICKETS><item>", server.requests[0].replace(b"ns0:", b""))

    def test_uploaded_wsdl_and_ws_security_username_token(self):
        server = self.serve(wsse=True)
        with open(WSDL_PATH, "rb") as stream:
            self.soap.write({"sap_wsdl_file": base64.b64encode(stream.read()),
                             "sap_wsdl_url": False, "endpoint_url": server.service_url,
                             "auth_method": "none", "sap_soap_wsse": True})
        message = self.send(self.soap, "material.consumption", CONSUMPTION, "SG-1")
        self.run_jobs()
        self.assertEqual(message.state, "done", message.last_error)
        self.assertIn(b"UsernameToken", server.requests[0])
        self.assertEqual(len(self.backend.material_documents), 1)

    def test_failed_ws_security_is_a_fault_exception(self):
        server = self.serve(wsse=True)
        self.soap.write({"sap_wsdl_url": server.wsdl_url, "sap_soap_wsse": True,
                         "password": "wrong"})
        message = self.send(self.soap, "production.confirmation", CONFIRMATION, "SC-WSSE")
        self.run_jobs()
        self.assertEqual(message.state, "exception", (message.last_error, message.result_summary))
        self.assertIn("FailedAuthentication", message.last_error)

    def test_basic_auth_401_is_a_clear_exception(self):
        server = self.serve()
        self.soap.write({"sap_wsdl_url": server.wsdl_url, "password": "wrong"})
        message = self.send(self.soap, "production.confirmation", CONFIRMATION, "SC-401")
        self.run_jobs()
        self.assertEqual(message.state, "exception", (message.last_error, message.result_summary))
        self.assertIn("refused the credentials (HTTP 401)", message.last_error)

    def test_timeout_then_retry_and_resend_is_idempotent(self):
        server = self.serve()
        self.soap.write({"sap_wsdl_url": server.wsdl_url, "timeout_s": 0.3})
        self.soap._sap_soap_service()  # WSDL loaded while the server is fast
        server.sleep_s = 1.0
        message = self.send(self.soap, "production.confirmation", CONFIRMATION, "SC-SLOW")
        self.run_jobs()
        self.assertEqual(message.state, "failed", (message.last_error, message.result_summary))
        self.assertIn("timeout", message.last_error.lower())
        server.sleep_s = 0
        self.run_jobs(ignore_eta=True)
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(len(self.backend.confirmations), 1, "SAP kept one confirmation")

    def test_lock_fault_free_retry(self):
        server = self.serve()
        self.soap.sap_wsdl_url = server.wsdl_url
        self.backend.locked["1000123"] = 2
        message = self.send(self.soap, "production.confirmation", CONFIRMATION, "SC-LOCK")
        self.run_jobs()
        self.run_jobs(ignore_eta=True)
        self.assertEqual((message.state, message.attempts), ("failed", 2), message.last_error)
        self.run_jobs(ignore_eta=True)
        self.assertEqual(message.state, "done", message.last_error)

    def test_connection_test_loads_wsdl(self):
        server = self.serve()
        self.soap.sap_wsdl_url = server.wsdl_url
        ok, text = self.soap._test_connection()
        self.assertTrue(ok, text)
        self.assertIn("BAPI_PRODORDCONF_CREATE_TT", text)
        self.soap.sap_wsdl_url = "http://127.0.0.1:9/nothing?wsdl"
        ok, text = self.soap._test_connection()
        self.assertFalse(ok)
        self.assertIn("WSDL could not be loaded", text)
