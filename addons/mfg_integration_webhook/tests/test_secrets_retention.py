# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Webhook secrets are ciphertext in the database; delivered messages are kept while a
delivery points at them."""
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import tagged

from odoo.addons.mfg_integration.services import partitioning, secret_box

from .common import SECRET, Receiver, WebhookTestCase, expected_signature


@tagged("post_install", "-at_install")
class TestWebhookSecrets(WebhookTestCase):
    def _row_text(self, table, record_id):
        self.env.flush_all()
        self.env.cr.execute(f'SELECT row_to_json(t)::text FROM "{table}" t WHERE id = %s',
                            (record_id,))
        return self.env.cr.fetchone()[0]

    def test_subscription_secret_is_ciphertext_and_still_signs_deliveries(self):
        with Receiver() as receiver:
            subscription = self.subscribe(receiver.url)
            self.assertNotIn(SECRET, self._row_text("mfg_webhook_subscription",
                                                    subscription.id))
            self.assertTrue(subscription.secret_enc.startswith(secret_box.PREFIX))
            self.ingest_and_process("ws-1")
            self.run_deliveries()
        request = receiver.requests[0]
        self.assertEqual(request["headers"]["X-Mfg-Signature"], expected_signature(
            SECRET, request["headers"]["X-Mfg-Timestamp"], request["body"]))

    def test_generated_subscription_secret_is_encrypted_too(self):
        subscription = self.Subscription.create({
            "name": "Generated", "target_url": "http://127.0.0.1:9/x",
            "company_id": self.plant.id})
        plain = subscription._mfg_secret("secret")
        self.assertGreaterEqual(len(plain), 32)
        self.assertNotIn(plain, self._row_text("mfg_webhook_subscription", subscription.id))

    def test_inbound_key_is_ciphertext_and_hidden_from_non_managers(self):
        self.connector.inbound_api_key = "inbound-plain-777"
        self.assertNotIn("inbound-plain-777", self._row_text("mfg_connector", self.connector.id))
        self.assertEqual(self.connector._inbound_accepted_keys(), [("inbound-plain-777", None)])
        for name in ("inbound_api_key", "inbound_api_key_enc", "inbound_api_key_previous",
                     "inbound_api_key_previous_enc"):
            with self.assertRaises(AccessError):
                self.connector.with_user(self.operator).read([name])

    def test_a_delivery_with_an_unreadable_secret_fails_instead_of_crashing_the_job(self):
        with Receiver() as receiver:
            subscription = self.subscribe(receiver.url, max_attempts=1)
            self.env.cr.execute("UPDATE mfg_webhook_subscription SET secret_enc = %s "
                                "WHERE id = %s", (secret_box.PREFIX + "tampered", subscription.id))
            subscription.invalidate_recordset()
            messages = self.ingest_and_process("ws-2")
            self.run_deliveries()
        delivery = self.deliveries_of(messages)
        self.assertEqual(delivery.state, "dead")
        self.assertIn("cannot be decrypted", delivery.error)
        self.assertEqual(receiver.requests, [])


@tagged("post_install", "-at_install")
class TestRetentionKeepsReferencedMessages(WebhookTestCase):
    def test_a_message_a_delivery_points_at_is_not_purged(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "mfg_integration.done_retention_days", 30)
        # Retention drops whole partitions: the test's messages get one of their own.
        partitioning.close_current(self.env.cr, 1000)
        with Receiver() as receiver:
            self.subscribe(receiver.url)
            referenced = self.ingest_and_process("keep-1")
            self.run_deliveries()
        self.Subscription.search([]).write({"active": False})
        alone = self.ingest_and_process("drop-1")
        old = fields.Datetime.now() - timedelta(days=60)
        (referenced | alone).sudo().write({"done_at": old, "received_at": old})
        self.assertTrue(self.deliveries_of(referenced))
        self.assertFalse(self.deliveries_of(alone))
        self.env.flush_all()
        partitioning.close_current(self.env.cr, 1000)
        self.env["mfg.message.partition"]._maintain()
        self.assertTrue(referenced.exists())
        self.assertFalse(alone.exists())
