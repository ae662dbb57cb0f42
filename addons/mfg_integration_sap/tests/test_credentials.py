# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""SAP credentials (basic auth, session cookie, CSRF token) never follow an OData __next
or a WSDL location to another host."""
import base64

from odoo.tests import tagged

from odoo.addons.mfg_integration.tests.common import ScriptedPeer

from .common import CONSUMPTION, SapTestCase
from .odata_server import ODataSimulator
from .soap_server import SERVICE_PATH, WSDL_PATH, SoapSimulator


@tagged("post_install", "-at_install")
class TestSapCredentialsStayHome(SapTestCase):
    def setUp(self):
        super().setUp()
        self.foreign = ScriptedPeer()
        self.foreign.__enter__()
        self.addCleanup(self.foreign.__exit__)
        self.foreign_host = f"127.0.0.1:{self.foreign.server.server_port}"

    def test_odata_next_link_to_another_host_is_refused(self):
        server = ODataSimulator(self.backend, page_size=2).__enter__()
        self.addCleanup(server.__exit__)
        for number, hour in (("1000126", 11), ("1000127", 12), ("1000128", 13)):
            self.backend.add_order(number, changed=self.changed(hour))
        self.odata.endpoint_url = server.url
        server.url = self.foreign.base_url   # the __next links it writes now point there
        flow = self.odata.flow_ids.filtered(lambda f: f.direction == "in")
        summary = flow._sap_pull_orders()
        self.assertFalse(flow.sap_last_pull_ok, summary)
        self.assertIn(self.foreign_host, summary)
        self.assertIn("checkpoint kept", summary)
        self.assertEqual(self.foreign.requests, [], "no credentials, cookie or CSRF token")

    def test_odata_next_link_on_the_own_host_is_followed(self):
        server = ODataSimulator(self.backend, page_size=2).__enter__()
        self.addCleanup(server.__exit__)
        for number, hour in (("1000126", 11), ("1000127", 12)):
            self.backend.add_order(number, changed=self.changed(hour))
        self.odata.endpoint_url = server.url
        flow = self.odata.flow_ids.filtered(lambda f: f.direction == "in")
        summary = flow._sap_pull_orders()
        self.assertTrue(flow.sap_last_pull_ok, summary)

    def test_wsdl_url_redirecting_to_another_host_gets_no_credentials(self):
        with SoapSimulator(self.backend) as server:
            self.foreign.respond = lambda *a: (200, {"Content-Type": "text/xml"}, b"<x/>")
            moved = f"{self.foreign.base_url}/wsdl"
            redirect = ScriptedPeer(lambda *a: (302, {"Location": moved}, {}))
            with redirect:
                self.soap.write({"sap_wsdl_url": f"{redirect.base_url}/wsdl",
                                 "endpoint_url": server.service_url})
                ok, result = self.soap._test_connection()
        self.assertFalse(ok, result)
        self.assertIn(self.foreign_host, result)
        self.assertEqual(self.foreign.requests, [])

    def _upload_wsdl_addressed_to(self, service_url):
        with open(WSDL_PATH, encoding="utf-8") as stream:
            wsdl = stream.read().replace("http://127.0.0.1:1" + SERVICE_PATH, service_url)
        self.soap.write({"sap_wsdl_file": base64.b64encode(wsdl.encode()),
                         "sap_wsdl_url": False, "endpoint_url": False})

    def test_an_uploaded_wsdl_without_endpoint_calls_the_address_it_declares(self):
        with SoapSimulator(self.backend) as server:
            self._upload_wsdl_addressed_to(server.service_url)
            message = self.send(self.soap, "material.consumption", CONSUMPTION, "SX-1")
            self.run_jobs()
        self.assertEqual(message.state, "done", message.last_error)

    def test_a_soap_call_redirected_to_another_host_is_refused(self):
        moved = f"{self.foreign.base_url}{SERVICE_PATH}"
        with ScriptedPeer(lambda *a: (307, {"Location": moved}, {})) as redirector:
            self._upload_wsdl_addressed_to(f"{redirector.base_url}{SERVICE_PATH}")
            message = self.send(self.soap, "material.consumption", CONSUMPTION, "SX-2")
            self.run_jobs()
        self.assertEqual(message.state, "exception", message.last_error)
        self.assertIn(self.foreign_host, message.last_error)
        self.assertEqual(self.foreign.requests, [])
