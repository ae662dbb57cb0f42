# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Fixtures of the webhook tests: a subscription pointing at a real local receiver, and
helpers that move messages to done and run the delivery jobs the way the runner would."""
import hashlib
import hmac
import json
import time
from http.server import BaseHTTPRequestHandler

from odoo.addons.mfg_integration.tests.common import (  # noqa: F401 - re-exported
    LocalHttpServer,
    MfgTestCase,
    Receiver,
    envelope,
)

SECRET = "whsec-test-0123456789"


def expected_signature(secret, timestamp, body):
    """Computed here, independently of the code under test."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


class SlowReceiver(LocalHttpServer):
    """A receiver that answers only after ``delay_s``: makes the sender time out."""

    def __init__(self, delay_s):
        self.requests = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server API
                receiver.requests.append(self.rfile.read(int(self.headers["Content-Length"])))
                time.sleep(delay_s)
                try:
                    self.send_response(200)
                    self.end_headers()
                except OSError:  # pylint: disable=except-pass
                    pass  # the client gave up: that is the point

            def log_message(self, *args):
                pass

        self._serve(Handler)
        self.url = self.base_url + "/slow"



class WebhookTestCase(MfgTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Demo data (subscriptions, messages waiting in queue jobs) must not take part in
        # these tests: run_jobs() would process the demo's jobs too.
        cls.env["mfg.webhook.subscription"].search([]).write({"active": False})
        cls.env["queue.job"].search([("state", "in", ("pending", "enqueued"))]).write(
            {"state": "cancelled"})
        cls.Subscription = cls.env["mfg.webhook.subscription"]
        cls.Delivery = cls.env["mfg.webhook.delivery"]
        cls.alarm_type = cls.env["mfg.webhook.event.type"].search(
            [("name", "=", "machine.alarm")])

    def subscribe(self, url, **values):
        return self.Subscription.create(dict({
            "name": "Test receiver", "target_url": url, "secret": SECRET,
            "company_id": self.plant.id, "backoff_jitter": False, "timeout_s": 5,
        }, **values))

    def ingest_and_process(self, *keys, **envelope_values):
        """Ingest alarms, run their processing jobs (-> done) and commit-time hooks."""
        result = self.Message.ingest([envelope(key, **envelope_values) for key in keys])
        self.assertEqual(result["accepted"], len(keys), result)
        self.run_jobs()
        self.env.cr.flush()  # runs the precommit hook that creates the deliveries
        return self.Message.search([("key", "in", list(keys))])

    def run_deliveries(self, ignore_eta=False):
        return self.run_jobs(ignore_eta=ignore_eta, model="mfg.webhook.delivery")

    def deliveries_of(self, messages):
        return self.Delivery.search([("message_id", "in", messages.ids)])

    @staticmethod
    def parsed(request):
        return json.loads(request["body"])
