# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Issue 8, access findings of the planning addon: no export pointed at another plant's
connector, no forecast import into another plant, 'Export now' only for managers."""
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from odoo.addons.mfg_integration.tests.common import Receiver

from .common import PlanningTestCase


@tagged("post_install", "-at_install")
class TestPlanningAccess(PlanningTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.planning_b = cls.env["mfg.connector"].create({
            "name": "Planning tool B", "code": "PLAN-B", "connector_type": "generic_rest",
            "company_id": cls.plant_b.id, "auth_method": "api_key", "api_key": "plant-b-key"})
        cls._flow("demand.forecast", connector=cls.planning_b)

    def test_export_cannot_push_with_the_connector_of_another_plant(self):
        Export = self.env["mfg.planning.export"].with_user(self.manager)
        with Receiver() as receiver:
            with self.assertRaises(UserError):
                Export.create({"name": "steal", "kind": "inventory", "store_file": False,
                               "push_url": receiver.url, "connector_id": self.planning_b.id})
            export = Export.create({"name": "mine", "kind": "inventory", "store_file": False,
                                    "push_url": receiver.url})
            with self.assertRaises(UserError):
                export.write({"connector_id": self.planning_b.id})
            self.assertEqual(receiver.requests, [], "plant B's key was never sent")
        with self.assertRaises(AccessError):
            export.write({"company_id": self.plant_b.id})

    def test_read_only_user_and_operator_cannot_run_an_export(self):
        self.env["stock.quant"]._update_available_quantity(self.finished, self.stock, 5)
        with Receiver() as receiver:
            # credentials only go to the connector's own host (issue 8, credentials)
            self.planning.endpoint_url = receiver.url
            export = self.env["mfg.planning.export"].create({
                "name": "inventory", "kind": "inventory", "store_file": False,
                "push_url": receiver.url, "connector_id": self.planning.id})
            for user in (self.user, self.operator):
                with self.subTest(user=user.login), self.assertRaises(AccessError):
                    export.with_user(user).action_run_now()
            self.assertEqual(receiver.requests, [], "nothing was pushed")
            export.with_user(self.manager).action_run_now()
            self.assertTrue(export.last_run_ok, export.last_run_result)
            self.assertEqual(len(receiver.requests), 1)

    def test_operator_cannot_import_forecasts_into_another_plant(self):
        data = self.csv_file("product,location,period_start,period_end,qty,uom",
                             f"GEARBOX,WH-MAIN,{self.day(0)},{self.day(9)},100,EA")
        wizard = self.env["mfg.forecast.import"].with_user(self.operator).create({
            "connector_id": self.planning_b.id, "file": data, "filename": "forecast.csv"})
        with self.assertRaises(AccessError):
            wizard.action_import()
        self.assertFalse(self.Message.search([("source", "=", "PLAN-B")]))
        with self.assertRaises(AccessError):
            self.env["mfg.forecast.import"].with_user(self.user).create({
                "connector_id": self.planning.id, "file": data}).action_import()
