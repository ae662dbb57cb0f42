# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A receiver that keeps failing gets its subscription disabled and the managers alerted."""
from odoo.tests import tagged

from .common import Receiver, WebhookTestCase, envelope


@tagged("post_install", "-at_install")
class TestOutboundHealth(WebhookTestCase):
    def test_consecutive_failures_disable_subscription_and_alert_managers(self):
        with Receiver(statuses=[503]) as receiver:
            subscription = self.subscribe(receiver.url, max_attempts=1,
                                          max_consecutive_failures=3)
            messages = self.ingest_and_process("h1", "h2", "h3")
            self.run_deliveries()
            self.assertEqual(len(receiver.requests), 3)
        self.assertEqual(self.deliveries_of(messages).mapped("state"), ["dead"] * 3)
        self.assertFalse(subscription.active)
        self.assertEqual(subscription.consecutive_failures, 3)
        self.assertIn("3 consecutive failed deliveries", subscription.disabled_reason)

        activities = subscription.activity_ids
        self.assertIn(self.manager, activities.user_id)
        self.assertNotIn(self.operator, activities.user_id, "only managers are alerted")
        alert = subscription.message_ids.filtered(
            lambda m: self.manager.partner_id in m.partner_ids)
        self.assertTrue(alert, "the managers are notified in the chatter (mail / inbox)")

        later = self.ingest_and_process("h4")
        self.assertFalse(self.deliveries_of(later), "a disabled subscription sends nothing")

        subscription.with_user(self.manager).active = True
        self.assertEqual((subscription.consecutive_failures, subscription.disabled_reason),
                         (0, False), "re-enabling starts a new failure count")

    def test_a_success_in_between_resets_the_streak(self):
        with Receiver(statuses=[500, 500, 200, 500]) as receiver:
            subscription = self.subscribe(receiver.url, max_attempts=1,
                                          max_consecutive_failures=3)
            self.ingest_and_process("k1", "k2", "k3", "k4")
            self.run_deliveries()
            self.assertEqual(len(receiver.requests), 4)
        self.assertTrue(subscription.active)
        self.assertEqual(subscription.consecutive_failures, 1)

    def test_matching_and_insert_are_batched(self):
        """10 subscriptions x 300 messages: queries per subscription and job, not per message."""
        for index in range(10):
            self.subscribe(f"http://127.0.0.1:9/down-{index}",
                           message_domain="[('source', '=', 'EDGE-T1')]")
        keys = [f"b{index}" for index in range(300)]
        self.Message.ingest([envelope(key) for key in keys])
        self.run_jobs()
        before = self.env.cr.sql_log_count
        self.env.cr.flush()
        queries = self.env.cr.sql_log_count - before
        messages = self.Message.search([("key", "in", keys)])
        self.assertEqual(len(self.deliveries_of(messages)), 3000)
        jobs = self.pending_jobs(model="mfg.webhook.delivery", method="_job_deliver")
        self.assertEqual(len(jobs), 60, "50 deliveries per job")
        self.assertLess(queries, 400, "far fewer queries than the 3,000 deliveries")
