# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The MES connector's token never follows a next link or a redirect to another host."""
from odoo.tests import tagged

from odoo.addons.mfg_integration.tests.common import ScriptedPeer

from .common import RestTestCase


@tagged("post_install", "-at_install")
class TestRestCredentialsStayHome(RestTestCase):
    def setUp(self):
        super().setUp()
        self.server.add_alarm(1, 1)
        self.foreign = ScriptedPeer()
        self.foreign.__enter__()
        self.addCleanup(self.foreign.__exit__)
        self.foreign_host = f"127.0.0.1:{self.foreign.server.server_port}"

    def test_next_link_to_another_host_stops_the_pull_and_sends_it_nothing(self):
        self.pull.write({"pagination": "next_link", "since_param": False})
        first_page = {"data": [dict(self.server.alarms[0])],
                      "links": {"next": f"{self.foreign.base_url}/api/alarms?cursor=1"}}
        self.server.script = [(200, {}, first_page)]
        ok, text = self.pull._pull()
        self.assertFalse(ok)
        self.assertIn(self.foreign_host, text)
        self.assertIn("1 new message(s) kept", text, "what the own host sent is kept")
        self.assertEqual(self.foreign.requests, [])
        self.assertIn(self.foreign_host, self.pull.last_pull_result)

    def test_next_link_on_the_own_host_is_still_followed(self):
        self.server.add_alarm(2, 2)
        self.server.add_alarm(3, 3)
        self.pull.write({"pagination": "next_link", "since_param": False})
        ok, text = self.pull._pull()
        self.assertTrue(ok, text)
        self.assertEqual(len(self.server.api_requests("GET")), 2)

    def test_redirect_of_a_push_to_another_host_is_a_business_error(self):
        target = f"{self.foreign.base_url}/api/orders/MO-7/confirmations"
        self.server.script = [(307, {"Location": target}, {})]
        message = self.send("redir-1")
        self.run_jobs()
        self.assertEqual(message.state, "exception", message.last_error)
        self.assertIn(self.foreign_host, message.last_error)
        self.assertEqual(self.foreign.requests, [], "no bearer token, no body sent there")

    def test_token_endpoint_redirecting_elsewhere_gets_no_client_secret(self):
        self.mes.token_url = f"{self.server.url}/oauth/moved"
        moved = f"{self.foreign.base_url}/oauth/token"
        self.server.script = []

        def respond(peer, method, path, headers, body):
            return 200, {}, {"access_token": "stolen", "expires_in": 60}
        self.foreign.respond = respond
        # The MES answers the unknown token path with a redirect to the foreign host.
        with ScriptedPeer(lambda *a: (308, {"Location": moved}, {})) as redirector:
            self.mes.token_url = f"{redirector.base_url}/oauth/token"
            message = self.send("redir-2")
            self.run_jobs()
        self.assertEqual(message.state, "exception", message.last_error)
        self.assertIn(self.foreign_host, message.last_error)
        self.assertEqual(self.foreign.requests, [])

    def test_an_unreadable_client_secret_fails_the_pull_with_a_clear_reason(self):
        self.env.flush_all()
        self.env.cr.execute("UPDATE mfg_connector SET client_secret_enc = 'mfgenc1:bad' "
                            "WHERE id = %s", (self.mes.id,))
        self.mes.invalidate_recordset()
        ok, text = self.pull._pull()
        self.assertFalse(ok)
        self.assertIn("cannot be decrypted", text)
        self.assertFalse(self.pull.last_pull_ok)
        self.assertEqual(self.server.api_requests("GET"), [])
