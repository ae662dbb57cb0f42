# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import MfgTestCase, envelope


@tagged("post_install", "-at_install")
class TestSecurity(MfgTestCase):
    def test_only_managers_read_credentials(self):
        connector = self.connector.with_user(self.user)
        self.assertEqual(connector.name, "Edge test line")
        with self.assertRaises(AccessError):
            connector.read(["api_key"])
        with self.assertRaises(AccessError):
            connector.search_read([("id", "=", connector.id)], ["password"])
        self.operator.write({"group_ids": [(4, self.env.ref("base.group_allow_export").id)]})
        with self.assertRaises(AccessError):
            self.connector.with_user(self.operator).export_data(["api_key"])
        self.assertNotIn("api_key", connector.read()[0], "default read hides secrets")
        self.assertEqual(self.connector.with_user(self.manager).api_key, "s3cret-key")

    def test_operator_cannot_configure_connectors_or_flows(self):
        with self.assertRaises(AccessError):
            self.connector.with_user(self.operator).write({"endpoint_url": "http://evil"})
        with self.assertRaises(AccessError):
            self.flow_alarm.with_user(self.operator).write({"max_attempts": 99})
        self.connector.with_user(self.manager).write({"endpoint_url": "http://mes.local"})

    def test_api_user_is_bound_to_its_sources(self):
        Message = self.Message.with_user(self.api_user)
        result = Message.ingest([envelope("api-1")])
        self.assertEqual(result["accepted"], 1)
        with self.assertRaisesRegex(AccessError, "not bound to source"):
            Message.ingest([envelope("api-2"), envelope("api-3", source="EDGE-B1")])
        self.assertFalse(self.message("api-2"), "a refused call stores nothing")
        with self.assertRaises(AccessError):
            Message.search([])  # ingest-only: no read access to the inbox

    def test_user_without_ingest_group_is_refused(self):
        with self.assertRaisesRegex(AccessError, "Ingest"):
            self.Message.with_user(self.user).ingest([envelope("u-1")])

    def test_plant_isolation(self):
        self.Message.ingest([envelope("a-1"), envelope("b-1", source="EDGE-B1")])
        visible_a = self.Message.with_user(self.user).search([]).mapped("key")
        visible_b = self.Message.with_user(self.user_b).search([]).mapped("key")
        self.assertIn("a-1", visible_a)
        self.assertNotIn("b-1", visible_a)
        self.assertEqual(visible_b, ["b-1"])
        visible = self.env["mfg.connector"].with_user(self.user).search([])
        self.assertNotIn(self.connector_b, visible)

    def test_configuration_changes_are_tracked(self):
        connector = self.connector.with_context(tracking_disable=False)
        connector.with_user(self.manager).write({"endpoint_url": "http://mes.plant-a.local"})
        self.env.flush_all()
        self.env.cr.precommit.run()  # tracking values are written at commit time
        tracked = connector.message_ids.tracking_value_ids.filtered(
            lambda t: t.field_id.name == "endpoint_url")
        self.assertTrue(tracked)
        self.assertEqual(tracked[0].new_value_char, "http://mes.plant-a.local")
