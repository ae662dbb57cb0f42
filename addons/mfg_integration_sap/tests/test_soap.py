# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Deliveries over SOAP (zeep, WSDL-driven) against a SAP-style SOAP service on 127.0.0.1."""
import base64

import requests

from odoo.tests import tagged

from ..services import sap_soap
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
        creates = [body for body in server.requests if b"BAPI_PRODORDCONF_CREATE_TT" in body]
        self.assertEqual(len(creates), 1, "three time tickets in one SOAP call")
        self.assertIn(b"<TIMETICKETS><item>", creates[0].replace(b"ns0:", b""))
        self.assertEqual(len(server.requests), 4, "Odoo books the goods movements: each "
                         "order's components are read first (BAPI_PRODORD_GET_DETAIL)")

    def test_backflushed_order_is_not_confirmed_when_odoo_books_goods(self):
        """BAPI_PRODORDCONF_CREATE_TT has no switch against SAP's backflush: a confirmation of
        an order with backflushed components would consume them a second time."""
        server = self.serve()
        self.soap.sap_wsdl_url = server.wsdl_url
        self.backend.add_order("1000400", components=[("000000000040000815", 2.0, "ST", True),
                                                      ("000000000040000900", 1.0, "ST", False)])
        self.batched(self.soap)
        messages = [self.send(self.soap, "production.confirmation",
                              dict(CONFIRMATION, order_ref=ref), f"SBF-{ref}")
                    for ref in ("1000400", "1000123")]
        self.run_batch()
        self.assertEqual([m.state for m in messages], ["exception", "done"],
                         [m.last_error for m in messages])
        self.assertIn("SAP would backflush 40000815 of order 1000400", messages[0].last_error)
        self.assertNotIn("40000900", messages[0].last_error, "not a backflushed component")
        self.assertEqual([c["ORDERID"].lstrip("0") for c in self.backend.confirmations],
                         ["1000123"], "nothing confirmed, nothing backflushed for 1000400")
        self.assertEqual(self.backend.material_documents, [])
        # SAP side fixed (backflush indicator cleared), the operator requeues it.
        self.backend.orders["1000400"]["components"][0]["backflush"] = False
        messages[0].with_user(self.operator).action_requeue()
        self.run_batch()
        self.assertEqual(messages[0].state, "done", messages[0].last_error)
        self.assertEqual(len(self.backend.order_confirmations("1000400")), 1)
        self.assertEqual(self.backend.material_documents, [], "SAP booked no goods movement")

    def test_service_without_get_detail_is_a_clear_exception(self):
        server = self.serve()
        with open(WSDL_PATH, encoding="utf-8") as stream:
            wsdl = stream.read()
        wsdl = wsdl.replace("http://127.0.0.1:1/", server.base_url + "/")
        start = wsdl.index('<wsdl:operation name="BAPI_PRODORD_GET_DETAIL">')
        for _part in range(2):  # the operation in the port type and in the binding
            start = wsdl.index('<wsdl:operation name="BAPI_PRODORD_GET_DETAIL">')
            end = wsdl.index("</wsdl:operation>", start) + len("</wsdl:operation>")
            wsdl = wsdl[:start] + wsdl[end:]
        self.soap.write({"sap_wsdl_file": base64.b64encode(wsdl.encode()),
                         "sap_wsdl_url": False})
        message = self.send(self.soap, "production.confirmation", CONFIRMATION, "SC-NOGD")
        self.run_jobs()
        self.assertEqual(message.state, "exception", message.last_error)
        self.assertIn("BAPI_PRODORD_GET_DETAIL", message.last_error)
        self.assertIn("let SAP book the goods movements", message.last_error)
        self.assertEqual(self.backend.confirmations, [])

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
        server.wait_idle()
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

    def test_mc_style_service_names_both_ways(self):
        """A service generated with mc-style name mapping (BapiProdordconfCreateTt, Orderid)
        takes only mc-style names; the connector finds that out from the WSDL, and its
        re-send after a timeout is looked up through BapiProdordconfGetlist."""
        server = self.serve(mc_style=True)
        self.soap.write({"sap_wsdl_url": server.wsdl_url, "timeout_s": 0.3})
        ok, text = self.soap._test_connection()
        self.assertTrue(ok, text)
        consumption = self.send(self.soap, "material.consumption", CONSUMPTION, "SMC-G")
        self.run_jobs()
        self.assertEqual(consumption.state, "done", consumption.last_error)
        self.assertIn(b"BapiGoodsmvtCreate", server.requests[-1])
        self.assertIn(b"<EntryQnt>80", server.requests[-1].replace(b"ns0:", b""))
        self.assertEqual(len(self.backend.material_documents), 1)
        self.assertIn(self.backend.material_documents[0]["number"], consumption.result_summary)

        server.sleep_s, server.slow_operation = 1.0, "BAPI_PRODORDCONF_CREATE_TT"
        confirmation = self.send(self.soap, "production.confirmation", CONFIRMATION, "SMC-C")
        self.run_jobs()
        self.assertEqual(confirmation.state, "failed", confirmation.last_error)
        server.sleep_s = 0
        server.wait_idle()
        self.run_jobs(ignore_eta=True)
        self.assertEqual(confirmation.state, "done", confirmation.last_error)
        operations = [body.split(b"Body><", 1)[1].split(b" ", 1)[0].replace(b"ns0:", b"")
                      for body in server.requests]
        self.assertEqual(operations[-3:], [b"BapiProdordconfCreateTt", b"BapiProdordconfGetlist",
                                           b"BapiProdordconfGetdetail"], operations)
        self.assertEqual(len(self.backend.confirmations), 1, "posted once, found once")
        self.assertNotIn(b"ORDERID", b"".join(server.requests))

    def test_abap_names_are_refused_by_an_mc_style_service(self):
        # As strict as SAP's runtime: an element the service definition does not have is a
        # Client fault, whatever the reason it was sent.
        server = self.serve(mc_style=True)
        body = (b'<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/'
                b'envelope/"><soap-env:Body><n0:BapiProdordconfCreateTt xmlns:n0="urn:'
                b'sap-com:document:sap:soap:functions:mc-style"><TIMETICKETS/>'
                b'</n0:BapiProdordconfCreateTt></soap-env:Body></soap-env:Envelope>')
        answer = requests.post(server.service_url, data=body, timeout=5,
                               auth=("SOAP_USER", "secret"))
        self.assertEqual(answer.status_code, 500)
        self.assertIn("Element TIMETICKETS is not part of the service", answer.text)
        self.assertEqual(sap_soap.abap_name("PostWrongEntries"), "POST_WRONG_ENTRIES")
        self.assertEqual(sap_soap.mc_name("BAPI_PRODORDCONF_CREATE_TT"),
                         "BapiProdordconfCreateTt")
        self.assertEqual(sap_soap.abap_name(sap_soap.mc_name("BAPI2017_GM_CODE")),
                         "BAPI2017_GM_CODE")
