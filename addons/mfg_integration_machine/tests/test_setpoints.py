# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Setpoints sent from a work center reach the edge device's outbox as machine.setpoint v2."""

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import MfgMachineCase


@tagged("post_install", "-at_install")
class TestSetpoints(MfgMachineCase):
    def test_setpoints_go_to_the_edge_device_outbox_validated_and_audited(self):
        self._flow("machine.setpoint", direction="out", schema_version=2)
        self.env["mfg.mapping"].create({"mapping_type": "work_center", "external_code": "PRESS1",
                                        "workcenter_id": self.press.id,
                                        "connector_id": self.connector.id})
        planner = new_test_user(self.env, "planner", groups="mrp.group_mrp_user")
        wizard = self.env["mfg.setpoint.send"].with_user(planner).create({
            "workcenter_id": self.press.id, "recipe": "BRK-HOT",
            "line_ids": [(0, 0, {"name": "temperature", "value": 185, "unit_code": "cel"})]})
        wizard.action_send()
        message = self.Message.search([("canonical_type", "=", "machine.setpoint")])
        self.assertEqual(message.connector_id, self.connector)
        payload = message.payload
        self.assertEqual(payload["equipment_id"], {"value": "PRESS1"}, "the machine's own code")
        self.assertEqual(payload["parameters"],
                         [{"id": "temperature", "value": 185.0, "unit": {"unit_code": "CEL"}}])
        fetched = self.env["mfg.connector"].with_user(self.api_user).edge_fetch("EDGE-T1")
        self.assertEqual([m["id"] for m in fetched["messages"]], message.ids, "a valid v2 envelope")
        self.assertIn("Setpoints sent by", self.press.message_ids[:1].body)

    def test_only_manufacturing_users_of_the_plant_send(self):
        self._flow("machine.setpoint", direction="out", schema_version=2)
        values = {"workcenter_id": self.press.id,
                  "line_ids": [(0, 0, {"name": "speed", "value": 1})]}
        with self.assertRaises(AccessError):
            self.env["mfg.setpoint.send"].with_user(self.user).create(values)
        outsider = new_test_user(self.env, "planner_b", groups="mrp.group_mrp_user",
                                 company_id=self.plant_b.id, company_ids=[(6, 0, self.plant_b.ids)])
        with self.assertRaises(AccessError):
            self.env["mfg.setpoint.send"].with_user(outsider).create(values).action_send()
        self.assertFalse(self.Message.search([("canonical_type", "=", "machine.setpoint")]))
