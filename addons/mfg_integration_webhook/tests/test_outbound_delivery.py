# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Outbound webhooks: what is sent, when, to whom, and how failures are retried."""
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import SECRET, Receiver, SlowReceiver, WebhookTestCase, envelope, expected_signature


@tagged("post_install", "-at_install")
class TestOutboundDelivery(WebhookTestCase):
    @staticmethod
    def delay_s(delivery):
        return (delivery.next_retry_at - delivery.last_attempt_at).total_seconds()

    def test_done_message_is_posted_with_a_valid_signature(self):
        with Receiver(statuses=[200]) as receiver:
            subscription = self.subscribe(receiver.url, event_type_ids=self.alarm_type.ids)
            message = self.ingest_and_process("w1")
            self.assertEqual(message.state, "done")
            delivery = self.deliveries_of(message)
            self.assertEqual((len(delivery), delivery.state), (1, "pending"))
            self.assertEqual(self.run_deliveries(), 1)

        self.assertEqual(len(receiver.requests), 1)
        request = receiver.requests[0]
        headers = request["headers"]
        self.assertEqual(headers["X-Mfg-Event"], "machine.alarm")
        self.assertEqual(headers["X-Mfg-Delivery"], delivery.delivery_uid)
        self.assertEqual(headers["X-Mfg-Signature"],
                         expected_signature(SECRET, headers["X-Mfg-Timestamp"], request["body"]))
        self.assertNotEqual(headers["X-Mfg-Signature"],
                            expected_signature("other-secret", headers["X-Mfg-Timestamp"],
                                               request["body"]))
        self.assertEqual(self.parsed(request), message.as_envelope())
        self.assertEqual((delivery.state, delivery.attempts, delivery.response_status),
                         ("done", 1, 200))
        self.assertIn('"ok"', delivery.response_excerpt)
        self.assertTrue(delivery.delivered_at)
        self.assertTrue(subscription.last_success_at)

    def test_failures_back_off_then_dead_then_requeue_succeeds(self):
        with Receiver(statuses=[500]) as receiver:
            subscription = self.subscribe(receiver.url, max_attempts=3, backoff_base_s=10,
                                          backoff_factor=3, backoff_cap_s=60)
            message = self.ingest_and_process("w2")
            delivery = self.deliveries_of(message)
            self.run_deliveries()
            self.assertEqual((delivery.state, delivery.attempts), ("failed", 1))
            self.assertEqual(delivery.response_status, 500)
            self.assertEqual(delivery.error, "HTTP 500")
            self.assertAlmostEqual(self.delay_s(delivery), 10, delta=1)
            self.assertEqual(self.run_deliveries(), 0, "the retry waits for its eta")
            self.run_deliveries(ignore_eta=True)
            self.assertEqual((delivery.state, delivery.attempts), ("failed", 2))
            self.assertAlmostEqual(self.delay_s(delivery), 30, delta=1,
                                   msg="base 10 s x factor 3")
            self.run_deliveries(ignore_eta=True)
            self.assertEqual((delivery.state, delivery.attempts), ("dead", 3))
            self.assertFalse(delivery.next_retry_at)
            self.assertEqual(self.run_deliveries(ignore_eta=True), 0, "dead: no more jobs")
            self.assertEqual(len(receiver.requests), 3)
            uids = {request["headers"]["X-Mfg-Delivery"] for request in receiver.requests}
            self.assertEqual(uids, {delivery.delivery_uid}, "one delivery id across retries")
            self.assertEqual(subscription.consecutive_failures, 3)

            receiver.statuses = [204]  # the receiver is fixed
            delivery.with_user(self.operator).action_requeue()
            self.assertEqual((delivery.state, delivery.attempts), ("pending", 0))
            self.run_deliveries()
        self.assertEqual((delivery.state, delivery.attempts, delivery.response_status),
                         ("done", 1, 204))
        self.assertEqual(receiver.requests[-1]["body"], receiver.requests[0]["body"])
        self.assertEqual(subscription.consecutive_failures, 0, "a success resets the streak")

    def test_timeout_counts_as_a_failure(self):
        # Odoo's test harness raises every requests timeout to at least 10 s.
        with SlowReceiver(delay_s=11) as receiver:
            self.subscribe(receiver.url, timeout_s=1)
            message = self.ingest_and_process("w3")
            self.run_deliveries()
        delivery = self.deliveries_of(message)
        self.assertEqual((delivery.state, delivery.attempts), ("failed", 1))
        self.assertIn("timeout", delivery.error)
        self.assertFalse(delivery.response_status)

    def test_unreachable_receiver_is_not_hammered_within_one_job(self):
        subscription = self.subscribe("http://127.0.0.1:9/down", max_attempts=5)
        messages = self.ingest_and_process("u1", "u2", "u3")
        self.run_deliveries()
        deliveries = self.deliveries_of(messages).sorted("id")
        self.assertEqual(deliveries.mapped("state"), ["failed"] * 3)
        self.assertEqual(deliveries.mapped("attempts"), [1, 0, 0],
                         "after a connection error the others wait, without using an attempt")
        self.assertEqual(len(set(deliveries.mapped("next_retry_at"))), 1)
        self.assertIn("connection error", deliveries[0].error)
        self.assertEqual(subscription.consecutive_failures, 1)

    def test_event_types_domain_and_plant_are_respected(self):
        with Receiver(statuses=[200]) as receiver:
            self.subscribe(receiver.url, event_type_ids=self.alarm_type.ids,
                           message_domain="[('key', '=like', 'hot-%')]")
            scrap_type = self.env["mfg.webhook.event.type"].search(
                [("name", "=", "production.scrap")])
            self.subscribe(receiver.url, name="scrap only", event_type_ids=scrap_type.ids)
            self.subscribe(receiver.url, name="plant B", company_id=self.plant_b.id)
            messages = self.ingest_and_process("hot-1", "cold-1")
            self.assertEqual(set(messages.mapped("state")), {"done"})
            self.run_deliveries()
        delivered = [self.parsed(request)["key"] for request in receiver.requests]
        self.assertEqual(delivered, ["hot-1"])
        self.assertEqual(len(self.deliveries_of(messages)), 1)

    def test_no_subscription_means_no_delivery_and_no_bookkeeping(self):
        self.assertEqual(self.Subscription._active_trigger_states(), frozenset())
        messages = self.ingest_and_process("n1", "n2")
        self.assertEqual(set(messages.mapped("state")), {"done"})
        self.assertFalse(self.deliveries_of(messages))
        self.assertFalse(self.pending_jobs(model="mfg.webhook.delivery", method="_job_deliver"))

    def test_trigger_states_and_one_delivery_per_state(self):
        with Receiver(statuses=[200]) as receiver:
            self.subscribe(receiver.url, trigger_on_done=False, trigger_on_cancelled=True)
            self.assertEqual(self.Subscription._active_trigger_states(),
                             frozenset({"cancelled"}))
            done = self.ingest_and_process("s1")
            self.assertFalse(self.deliveries_of(done), "done is not a trigger state here")
            self.Message.ingest([envelope("s2")])
            cancelled = self.message("s2")
            cancelled.with_user(self.operator).action_cancel()
            self.env.cr.flush()
            delivery = self.deliveries_of(cancelled)
            self.assertEqual((delivery.trigger_state, delivery.canonical_type),
                             ("cancelled", "machine.alarm"))
            self.run_deliveries()
            self.assertEqual(receiver.requests[0]["headers"]["X-Mfg-Message-State"], "cancelled")
            # Cancelled again after a requeue: the same state is not delivered twice.
            cancelled.with_user(self.operator).action_requeue()
            cancelled.with_user(self.operator).action_cancel()
            self.env.cr.flush()
            self.assertEqual(len(self.deliveries_of(cancelled)), 1)

    def test_operator_buttons_and_access(self):
        subscription = self.subscribe("http://127.0.0.1:9/down", max_attempts=1)
        message = self.ingest_and_process("a1")
        self.run_deliveries()
        delivery = self.deliveries_of(message)
        self.assertEqual(delivery.state, "dead")
        with self.assertRaises(AccessError):
            delivery.with_user(self.user).action_requeue()
        with self.assertRaises(UserError):
            delivery.with_user(self.operator).action_retry_now()
        with self.assertRaises(AccessError):
            subscription.with_user(self.operator).read(["secret"])
        self.assertTrue(subscription.with_user(self.manager).secret)
        self.assertEqual(delivery.with_user(self.user).read(["state"])[0]["state"], "dead")
        self.assertFalse(self.Delivery.with_user(self.user_b).search([("id", "=", delivery.id)]),
                         "plant B users do not see plant A deliveries")
        subscription.active = False
        with self.assertRaises(UserError):
            delivery.with_user(self.operator).action_requeue()

    def test_retry_now_sends_a_failed_delivery_at_once(self):
        with Receiver(statuses=[502, 200]) as receiver:
            self.subscribe(receiver.url, backoff_base_s=3600)
            message = self.ingest_and_process("r1")
            self.run_deliveries()
            delivery = self.deliveries_of(message)
            self.assertEqual(delivery.state, "failed")
            delivery.with_user(self.operator).action_retry_now()
            self.run_deliveries()
        self.assertEqual((delivery.state, delivery.attempts), ("done", 2))
