# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields
from odoo.tests import tagged

from .common import RestTestCase


@tagged("post_install", "-at_install")
class TestPush(RestTestCase):
    def test_mes_rest_connectors_are_declared_to_push_to_odoo_by_this_addon(self):
        self.assertIn("mes_rest", self.env["mfg.connector"]._mfg_push_types())

    def test_confirmation_is_posted_with_the_template_and_an_oauth2_token(self):
        message = self.send("c1")
        self.run_jobs()
        self.assertEqual(message.state, "done", message.last_error)
        request = self.server.api_requests("POST")[0]
        self.assertEqual(request["path"], "/api/orders/MO-7/confirmations")
        self.assertEqual(request["json"], {
            "orderId": "MO-7", "workCenter": "ASSY-1", "yield": 40.0, "scrap": 2,
            "final": False, "note": "ref c1", "shift": None})
        self.assertEqual(request["headers"]["Authorization"], "Bearer tok-1")
        self.assertEqual(request["headers"]["Idempotency-Key"], "c1")
        self.assertIn("reference CONF-1", message.result_summary)

    def test_token_is_cached_then_refreshed_once_when_the_mes_revokes_it(self):
        self.send("t1", minute=1)
        self.run_jobs()
        self.assertEqual(self.server.token_requests, 1)
        self.send("t2", minute=2)
        self.run_jobs()
        self.assertEqual(self.server.token_requests, 1, "the cached token is reused")
        self.server.tokens.clear()  # expired / revoked on the MES side
        message = self.send("t3", minute=3)
        self.run_jobs()
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(self.server.token_requests, 2, "one new token after the 401")
        self.assertEqual(self.server.api_requests("POST")[-1]["headers"]["Authorization"],
                         "Bearer tok-2")

    def test_short_lived_tokens_are_fetched_again_before_they_expire(self):
        self.server.token_ttl = 20  # inside the 30 s safety margin: never reused
        self.send("s1", minute=1)
        self.send("s2", minute=2, order_ref="MO-8")
        self.run_jobs()
        self.assertEqual(self.server.token_requests, 2)

    def test_wrong_client_secret_is_an_exception_with_the_token_endpoint_answer(self):
        self.mes.client_secret = "wrong"
        message = self.send("a1")
        self.run_jobs()
        self.assertEqual(message.state, "exception")
        self.assertIn("OAuth2 token request refused: HTTP 401", message.last_error)
        self.assertIn("invalid_client", message.last_error)
        self.assertFalse(self.server.api_requests(), "nothing sent without a token")

    def test_api_key_refused_by_the_mes_is_an_exception(self):
        self.mes.write({"auth_method": "api_key", "api_key": "not-a-token"})
        message = self.send("a2")
        self.run_jobs()
        self.assertEqual(message.state, "exception")
        self.assertIn("HTTP 401", message.last_error)
        self.assertIn("invalid_token", message.last_error)

    def test_429_retry_after_longer_than_the_backoff_is_honoured(self):
        self.server.script = [(429, {"Retry-After": "120"}, {"error": "slow down"})]
        message = self.send("r1")
        before = fields.Datetime.now()
        self.run_jobs()
        self.assertEqual((message.state, message.attempts), ("failed", 1))
        self.assertIn("HTTP 429", message.last_error)
        delay = (message.next_retry_at - before).total_seconds()
        self.assertTrue(118 <= delay <= 122, f"Retry-After 120 s beats the 10 s backoff: {delay}")
        self.run_jobs(ignore_eta=True)
        self.assertEqual(message.state, "done", message.last_error)

    def test_429_retry_after_shorter_than_the_backoff_keeps_the_backoff(self):
        self.server.script = [(429, {"Retry-After": "1"}, {"error": "slow down"})]
        message = self.send("r2")
        before = fields.Datetime.now()
        self.run_jobs()
        delay = (message.next_retry_at - before).total_seconds()
        self.assertTrue(9 <= delay <= 12, delay)

    def test_5xx_is_retried_with_the_flow_backoff_then_delivered_once(self):
        self.server.script = [(503, {}, {"error": "maintenance"}),
                              (502, {}, b"<html>bad gateway</html>")]
        message = self.send("f1")
        self.run_jobs()
        self.assertEqual((message.state, message.attempts), ("failed", 1))
        self.assertIn("HTTP 503", message.last_error)
        self.run_jobs(ignore_eta=True)
        self.assertEqual((message.state, message.attempts), ("failed", 2))
        self.assertIn("bad gateway", message.last_error)
        self.assertEqual(round((message.next_retry_at - message.failed_at).total_seconds()), 20)
        self.run_jobs(ignore_eta=True)
        self.assertEqual(message.state, "done")
        self.assertEqual(len(self.server.api_requests("POST")), 3)

    def test_business_refusal_is_an_exception_with_the_mes_text(self):
        message = self.send("b1", order_ref="CLOSED")
        self.run_jobs()
        self.assertEqual(message.state, "exception")
        self.assertIn("HTTP 422", message.last_error)
        self.assertIn("order CLOSED is already closed", message.last_error)
        self.assertEqual((message.attempts, message.next_retry_at), (0, False),
                         "a refusal is not retried")

    def test_timeout_is_retried_and_nothing_is_lost(self):
        self.server.script = [(201, {}, self.server.hang(1.5))]
        message = self.send("to1")
        self.run_jobs()
        self.assertEqual(message.state, "failed")
        self.assertIn("timed out", message.last_error.lower())
        self.run_jobs(ignore_eta=True)
        self.assertEqual(message.state, "done", message.last_error)

    def test_malformed_answer_to_an_accepted_request_needs_a_person(self):
        self.server.script = [(201, {}, b"{not json")]
        message = self.send("m1")
        self.run_jobs()
        self.assertEqual(message.state, "exception")
        self.assertIn("the answer is not JSON", message.last_error)
        self.assertIn("{not json", message.last_error)
        # After checking the MES, the operator requeues: the Idempotency-Key lets the MES
        # answer with the same document instead of a second one.
        message.with_user(self.operator).action_requeue()
        self.run_jobs()
        self.assertEqual(message.state, "done")
        self.assertIn("CONF-1", message.result_summary)

    def test_unexpected_success_status_is_not_taken_for_delivery(self):
        self.server.script = [(200, {}, {"queued": True})]
        message = self.send("u1")
        self.run_jobs()
        self.assertEqual(message.state, "exception")
        self.assertIn("Unexpected HTTP 200", message.last_error)

    def test_mapping_error_is_an_exception_naming_the_path(self):
        message = self.send("p1", payload={"order_ref": "MO-9", "work_center": "W", "qty_good": 1,
                                           "qty_scrap": 0, "uom": "EA", "final": True,
                                           "shift": "A"})
        self.push.body_template = '{"good": "{{ payload.qty_goods }}"}'
        self.run_jobs()
        self.assertEqual(message.state, "exception")
        self.assertIn("payload.qty_goods: no value at 'qty_goods'", message.last_error)
        self.assertFalse(self.server.api_requests())

    def test_flow_without_endpoint_falls_back_to_posting_the_envelope(self):
        self.push.active = False
        self.mes.endpoint_url = f"{self.server.url}/api/orders/X/confirmations"
        message = self.send("e1")
        self.run_jobs()
        self.assertEqual(message.state, "done", message.last_error)
        self.assertEqual(self.server.api_requests("POST")[0]["json"]["key"], "e1")
