# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.tests import HttpCase, tagged

from odoo.addons.mfg_integration.tests.common import envelope

ACTION = "mfg_integration_monitoring.action_mfg_dashboard"


@tagged("post_install", "-at_install")
class TestDashboardClientAction(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        connector = cls.env["mfg.connector"].create({
            "name": "Tour line", "code": "EDGE-TOUR", "connector_type": "edge"})
        cls.env["mfg.flow"].create({
            "name": "machine.alarm from EDGE-TOUR", "connector_id": connector.id,
            "canonical_type": "machine.alarm"})
        cls.env["mfg.message"].ingest([envelope("tour-dead", source="EDGE-TOUR")])
        cls.env["mfg.message"].search([("key", "=", "tour-dead")]).write(
            {"state": "dead", "attempts": 5})

    def test_action_url_answers(self):
        self.authenticate("admin", "admin")
        for url in (f"/odoo/action-{ACTION}", "/odoo/mfg-dashboard"):
            response = self.url_open(url)
            self.assertEqual(response.status_code, 200, url)
        action = self.env.ref(ACTION)
        self.assertEqual(action.tag, "mfg_integration_monitoring.dashboard")
        root = self.env.ref("mfg_integration.menu_mfg_root")
        first = root.child_id.sorted("sequence")[0]
        self.assertEqual(first.action, action, "Dashboard is the app's first menu")

    def test_dashboard_tour(self):
        # Opens the dashboard in a real browser: KPI cards, red flow, period switch and
        # the click-through to the dead letters (a JS error fails the tour).
        self.start_tour(f"/odoo/action-{ACTION}", "mfg_integration_monitoring_dashboard",
                        login="admin", timeout=120)
