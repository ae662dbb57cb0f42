# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A push with a connector's credentials goes to that connector's host only."""
from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.mfg_integration.tests.common import ScriptedPeer

from .common import PlanningTestCase


@tagged("post_install", "-at_install")
class TestExportCredentials(PlanningTestCase):
    def test_push_url_on_another_host_than_the_connector_is_refused_at_save(self):
        with ScriptedPeer() as home, ScriptedPeer() as foreign:
            connector = self.env["mfg.connector"].create({
                "name": "APS", "code": "APS-1", "connector_type": "generic_rest",
                "endpoint_url": f"{home.base_url}/api", "auth_method": "api_key",
                "api_key": "aps-key"})
            with self.assertRaisesRegex(UserError, "push URL must be on the connector's host"):
                self.env["mfg.planning.export"].create({
                    "name": "Leak", "kind": "inventory", "connector_id": connector.id,
                    "push_url": f"{foreign.base_url}/collect", "store_file": False})
        self.assertEqual(foreign.requests, [])

    def test_push_redirected_to_another_host_fails_and_sends_nothing_there(self):
        self.env["stock.quant"]._update_available_quantity(self.finished, self.stock, 5)
        with ScriptedPeer() as home, ScriptedPeer() as foreign:
            home.respond = lambda *a: (307, {"Location": f"{foreign.base_url}/collect"}, {})
            connector = self.env["mfg.connector"].create({
                "name": "APS", "code": "APS-2", "connector_type": "generic_rest",
                "endpoint_url": f"{home.base_url}/api", "auth_method": "api_key",
                "api_key": "aps-key"})
            export = self.env["mfg.planning.export"].create({
                "name": "Inventory", "kind": "inventory", "connector_id": connector.id,
                "push_url": f"{home.base_url}/api/inventory", "store_file": False})
            ok, text = export._run()
        self.assertFalse(ok)
        self.assertIn(f"127.0.0.1:{foreign.server.server_port}", text)
        self.assertEqual(home.requests[0]["headers"].get("X-Api-Key"), "aps-key")
        self.assertEqual(foreign.requests, [])
        self.assertFalse(export.checkpoint_date, "the rows are sent again next time")
