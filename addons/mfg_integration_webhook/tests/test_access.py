# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Issue 8, access findings of the webhook addon: deliveries are only acted on through the
buttons (the job signs whatever body is stored), subscriptions stay in their plant."""
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import WebhookTestCase


@tagged("post_install", "-at_install")
class TestWebhookAccess(WebhookTestCase):
    def test_operator_cannot_rewrite_a_delivery(self):
        subscription = self.subscribe("http://127.0.0.1:9/down", max_attempts=1)
        message = self.ingest_and_process("acc-1")
        self.run_deliveries()
        delivery = self.Delivery.search([("message_id", "=", message.id)])
        self.assertEqual(delivery.state, "dead")
        body = delivery.body
        other = self.Subscription.create({"name": "other", "target_url": "http://127.0.0.1:9/x",
                                          "company_id": self.plant.id})
        forged = {"body": '{"forged": true}', "state": "pending", "attempts": 0,
                  "company_id": self.plant_b.id, "subscription_id": other.id,
                  "next_retry_at": "2000-01-01 00:00:00", "message_id": False}
        for field, value in forged.items():
            with self.subTest(field=field), self.assertRaises(AccessError):
                delivery.with_user(self.operator).write({field: value})
        self.assertEqual((delivery.body, delivery.subscription_id), (body, subscription))
        delivery.with_user(self.operator).action_requeue()
        self.assertEqual((delivery.state, delivery.attempts, delivery.body),
                         ("pending", 0, body), "the button still works, body untouched")

    def test_subscription_stays_in_the_plants_of_its_manager(self):
        Subscription = self.Subscription.with_user(self.manager)
        with self.assertRaises(AccessError):
            Subscription.create({"name": "spy", "target_url": "http://127.0.0.1:9/spy",
                                 "company_id": self.plant_b.id})
        mine = Subscription.create({"name": "mine", "target_url": "http://127.0.0.1:9/mine"})
        with self.assertRaises(AccessError):
            mine.write({"company_id": self.plant_b.id})
        self.assertEqual(mine.company_id, self.plant)

    def test_manager_cannot_rewrite_or_delete_a_delivery_but_requeues_it(self):
        """The job signs the stored body: not even a manager changes it outside the code."""
        subscription = self.subscribe("http://127.0.0.1:9/down", max_attempts=1)
        message = self.ingest_and_process("acc-m1")
        self.run_deliveries()
        delivery = self.Delivery.search([("message_id", "=", message.id)])
        self.assertEqual(delivery.state, "dead")
        body = delivery.body
        forged = {"body": '{"forged": true}', "state": "pending", "attempts": 0,
                  "company_id": self.plant.id, "subscription_id": subscription.id,
                  "next_retry_at": "2000-01-01 00:00:00", "message_id": False,
                  "delivery_uid": "forged", "canonical_type": "machine.counter",
                  "trigger_state": "dead", "response_status": 200, "error": False,
                  "delivered_at": "2000-01-01 00:00:00"}
        for field, value in forged.items():
            with self.subTest(field=field), self.assertRaises(AccessError):
                delivery.with_user(self.manager).write({field: value})
        with self.assertRaises(AccessError):
            delivery.with_user(self.manager).unlink()
        with self.assertRaises(AccessError):
            self.Delivery.with_user(self.manager).create({
                "subscription_id": subscription.id, "company_id": self.plant.id,
                "body": '{"forged": true}'})
        self.assertEqual((delivery.body, delivery.state), (body, "dead"))
        delivery.with_user(self.manager).action_requeue()
        self.assertEqual((delivery.state, delivery.attempts, delivery.body),
                         ("pending", 0, body), "the button still works, body untouched")
        subscription.with_user(self.manager).unlink()
        self.assertFalse(delivery.exists(), "deliveries go away with their subscription")
