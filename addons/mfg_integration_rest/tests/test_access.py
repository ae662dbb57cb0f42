# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Issue 8, access findings of the REST addon: a pull (superuser, connector credentials)
needs an operator of the endpoint's plant; endpoints stay on flows of their plant."""
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import RestTestCase


@tagged("post_install", "-at_install")
class TestRestAccess(RestTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mes_b = cls.env["mfg.connector"].create({
            "name": "MES plant B", "code": "MES-B", "connector_type": "mes_rest",
            "company_id": cls.plant_b.id, "endpoint_url": "http://127.0.0.1:9/b"})
        cls.flow_b_in = cls._flow("machine.alarm", connector=cls.mes_b, sync_mode="scheduled")
        cls.pull_b = cls.env["mfg.rest.endpoint"].create({
            "name": "Alarms B", "flow_id": cls.flow_b_in.id, "pull_path": "/alarms",
            "items_path": "data", "key_template": "{{ item.id }}"})

    def test_read_only_user_cannot_pull_and_operator_only_in_his_plant(self):
        with self.assertRaises(AccessError):
            self.pull.with_user(self.user).action_pull_now()
        with self.assertRaises(AccessError):
            self.pull_b.with_user(self.operator).action_pull_now()
        self.assertFalse(self.pull_b.last_pull_at)

    def test_endpoint_cannot_hang_on_a_flow_of_another_plant(self):
        with self.assertRaises(AccessError):
            self.env["mfg.rest.endpoint"].with_user(self.manager).create({
                "name": "B via A", "flow_id": self.flow_b_in.id, "pull_path": "/x",
                "items_path": "data", "key_template": "{{ item.id }}"})
        with self.assertRaises(AccessError):
            self.pull.with_user(self.manager).write({"flow_id": self.flow_b_in.id})
        self.assertEqual(self.pull.flow_id, self.flow_in)
