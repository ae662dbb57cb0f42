# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from mfg_canonical import EnvelopeError

from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

from ..exceptions import (
    MfgBusinessError,
    MissingMapping,
    OutboundRateLimited,
    PeerRejected,
    TransportError,
)
from ..services.backoff import DEAD, DEFER, EXCEPTION, RETRY, RetryPolicy

POLICY = RetryPolicy(max_attempts=3, base_s=10, factor=3, cap_s=60, jitter=False)


@tagged("post_install", "-at_install")
class TestRetryPolicy(TransactionCase):
    def test_business_errors_go_to_exception_whatever_the_attempts_left(self):
        for exc in (MfgBusinessError("x"), PeerRejected("x"), MissingMapping([]),
                    EnvelopeError("x"), UserError("x")):
            self.assertEqual(POLICY.decide(1, exc).action, EXCEPTION, type(exc).__name__)

    def test_rate_limit_defers_for_its_wait_without_being_an_attempt(self):
        decision = POLICY.decide(3, OutboundRateLimited(42))
        self.assertEqual((decision.action, decision.delay_s), (DEFER, 42.0))

    def test_technical_errors_retry_with_backoff_then_die_at_max_attempts(self):
        self.assertEqual(POLICY.decide(1, TransportError("x")), (RETRY, 10.0))
        self.assertEqual(POLICY.decide(2, ValueError("bug")), (RETRY, 30.0))
        self.assertEqual(POLICY.decide(3, TransportError("x")).action, DEAD)
        self.assertEqual(POLICY.decide(3).action, DEAD, "a failure without exception too")

    def test_retry_after_longer_than_the_backoff_wins_a_shorter_one_does_not(self):
        self.assertEqual(POLICY.decide(1, TransportError("x", retry_after_s=25)).delay_s, 25.0)
        self.assertEqual(POLICY.decide(2, TransportError("x", retry_after_s=5)).delay_s, 30.0)

    def test_delay_is_capped_and_jitter_stays_between_half_and_full_delay(self):
        self.assertEqual(POLICY.delay_seconds(10), 60.0)
        jittered = POLICY._replace(jitter=True)
        for attempt in range(1, 6):
            nominal = POLICY.delay_seconds(attempt)
            self.assertTrue(nominal / 2 <= jittered.delay_seconds(attempt) <= nominal)

    def test_flows_and_webhook_subscriptions_share_the_policy_of_their_fields(self):
        connector = self.env["mfg.connector"].create({
            "name": "Policy", "code": "POLICY-1", "connector_type": "edge"})
        flow = self.env["mfg.flow"].create({
            "name": "policy", "connector_id": connector.id, "canonical_type": "machine.alarm",
            "max_attempts": 3, "backoff_base_s": 10, "backoff_factor": 3, "backoff_cap_s": 60,
            "backoff_jitter": False})
        self.assertEqual(RetryPolicy.of(flow), POLICY)
        self.assertEqual(flow.retry_delay(2).total_seconds(), 30.0)
        self.assertEqual(RetryPolicy.of(self.env["mfg.flow"]).max_attempts, 1,
                         "a message without a flow is dead at its first failure")
