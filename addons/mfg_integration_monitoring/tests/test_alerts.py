# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo.tests import tagged

from .common import MonitoringTestCase


@tagged("post_install", "-at_install")
class TestAlerts(MonitoringTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Flow = cls.env["mfg.flow"]
        cls.dead_type = cls.env.ref(
            "mfg_integration_monitoring.mail_activity_type_dead_letter_growth")
        cls.stale_type = cls.env.ref("mfg_integration_monitoring.mail_activity_type_stale_queue")
        cls.env["ir.config_parameter"].set_param(
            "mfg_integration_monitoring.alert_user_id", str(cls.manager.id))

    def activities(self, flow, activity_type):
        return self.env["mail.activity"].search([
            ("res_model", "=", "mfg.flow"), ("res_id", "=", flow.id),
            ("activity_type_id", "=", activity_type.id)])

    def alert_messages(self, flow):
        return flow.message_ids.filtered(lambda m: m.message_type == "comment")

    def test_dead_letter_growth_alerts_managers_once(self):
        self.put("dead-1", "dead", 5, attempts=5)
        self.assertEqual(self.Flow._cron_check_alerts(), {"dead_letter": 1, "stale_queue": 0})
        activity = self.activities(self.flow_alarm, self.dead_type)
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.manager, "the configured alert responsible")
        self.assertEqual(self.flow_alarm.alert_dead_seen, 1)
        message = self.alert_messages(self.flow_alarm)
        self.assertEqual(len(message), 1)
        self.assertIn("grew from 0 to 1", message.body)
        admin = self.env.ref("base.user_admin")
        self.assertIn(self.manager.partner_id, message.partner_ids)
        self.assertIn(admin.partner_id, message.partner_ids)
        self.assertFalse((self.user | self.operator).partner_id & message.partner_ids,
                         "only Integration Managers are notified")
        self.assertTrue(self.env["mail.notification"].search([
            ("mail_message_id", "=", message.id),
            ("res_partner_id", "=", self.manager.partner_id.id)]))

        # Next run, nothing new: no duplicate.
        self.assertEqual(self.Flow._cron_check_alerts(), {"dead_letter": 0, "stale_queue": 0})
        # More dead letters while the activity is open: still one activity, count followed.
        self.put("dead-2", "dead", 1, attempts=5)
        self.assertEqual(self.Flow._cron_check_alerts()["dead_letter"], 0)
        self.assertEqual(len(self.activities(self.flow_alarm, self.dead_type)), 1)
        self.assertEqual(len(self.alert_messages(self.flow_alarm)), 1)
        self.assertEqual(self.flow_alarm.alert_dead_seen, 2)

        # Once the manager closed the activity, new growth alerts again.
        activity.action_feedback(feedback="requeued")
        self.assertEqual(self.Flow._cron_check_alerts()["dead_letter"], 0, "no growth, no alert")
        self.put("dead-3", "dead", 1, attempts=5)
        self.assertEqual(self.Flow._cron_check_alerts()["dead_letter"], 1)
        self.assertEqual(len(self.activities(self.flow_alarm, self.dead_type)), 1)
        self.assertIn("grew from 2 to 3", self.alert_messages(self.flow_alarm)[0].body)

    def test_requeued_dead_letters_lower_the_baseline(self):
        first = self.put("dead-1", "dead", 5, attempts=5)
        self.put("dead-2", "dead", 5, attempts=5)
        self.Flow._cron_check_alerts()
        self.activities(self.flow_alarm, self.dead_type).action_feedback()
        first.with_user(self.operator).action_requeue()
        self.Flow._cron_check_alerts()
        self.assertEqual(self.flow_alarm.alert_dead_seen, 1)
        self.put("dead-3", "dead", 1, attempts=5)
        self.assertEqual(self.Flow._cron_check_alerts()["dead_letter"], 1,
                         "1 -> 2 is growth even though 2 were seen before")

    def test_stale_queue_alert(self):
        self.put("wait-1", "received", 10, type_name="machine.downtime")
        self.assertEqual(self.Flow._cron_check_alerts()["stale_queue"], 0, "10 min < 15 min")
        self.clock.tick(timedelta(minutes=6))
        self.assertEqual(self.Flow._cron_check_alerts(), {"dead_letter": 0, "stale_queue": 1})
        activity = self.activities(self.flow_quiet, self.stale_type)
        self.assertEqual(len(activity), 1)
        self.assertIn("waited 16 minutes", self.alert_messages(self.flow_quiet).body)
        self.clock.tick(timedelta(minutes=5))
        self.assertEqual(self.Flow._cron_check_alerts()["stale_queue"], 0, "still open")
        self.assertEqual(len(self.activities(self.flow_quiet, self.stale_type)), 1)

    def test_stale_threshold_is_per_flow_and_can_be_off(self):
        self.put("wait-1", "received", 20, type_name="machine.downtime")
        self.flow_quiet.with_user(self.manager).stale_after_min = 30
        self.assertEqual(self.Flow._cron_check_alerts()["stale_queue"], 0)
        self.flow_quiet.stale_after_min = 0
        self.clock.tick(timedelta(hours=5))
        self.assertEqual(self.Flow._cron_check_alerts()["stale_queue"], 0)

    def test_dead_letters_of_plant_b_alert_plant_b_managers_only(self):
        manager_b = self.env["res.users"].create({
            "name": "Manager B", "login": "mfg_manager_b", "company_id": self.plant_b.id,
            "company_ids": [(6, 0, self.plant_b.ids)],
            "group_ids": [(6, 0, [self.env.ref("mfg_integration.group_mfg_manager").id])]})
        self.put("b-dead", "dead", 5, attempts=5, source="EDGE-B1")
        self.Flow._cron_check_alerts()
        message = self.alert_messages(self.flow_b)
        self.assertIn(manager_b.partner_id, message.partner_ids)
        self.assertNotIn(self.manager.partner_id, message.partner_ids)
        activity = self.activities(self.flow_b, self.dead_type)
        self.assertEqual(activity.user_id, manager_b,
                         "the configured responsible does not manage plant B")
