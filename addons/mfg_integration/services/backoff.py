"""The one retry policy of the suite: when to try again, and what a failure leads to.

Used by the message pipeline (a flow's policy, models/mfg_message_processing.py) and by
webhook deliveries (a subscription's policy, mfg_integration_webhook). Both read the same
fields (``max_attempts``, ``backoff_base_s``, ``backoff_factor``, ``backoff_cap_s``,
``backoff_jitter``) into a ``RetryPolicy``; ``RetryPolicy.decide`` is the one place that
turns an error and an attempt count into what happens next. How this relates to
queue_job's own retries: docs/extending.md, "Retries".
"""
import random
from typing import NamedTuple

from ..exceptions import BUSINESS_ERRORS, OutboundRateLimited

# What a failure leads to (``Decision.action``).
RETRY = "retry"  # state failed, next attempt after ``delay_s``
DEAD = "dead"  # no attempt left: dead letter
EXCEPTION = "exception"  # a business error: a person must act, no automatic retry
DEFER = "defer"  # not an attempt (rate limit): try again after ``delay_s``


def retry_delay_seconds(attempt, base, factor, cap, jitter, rng=random):
    """Delay before retry number ``attempt`` (1 = first retry).

    base * factor ** (attempt - 1), capped at ``cap``. With jitter the delay is drawn
    uniformly from [delay/2, delay] ("equal jitter"): retries of many messages that failed
    together spread out, yet never come sooner than half the nominal delay.
    """
    attempt = max(1, int(attempt))
    delay = min(float(cap), float(base) * float(factor) ** (attempt - 1))
    if jitter:
        delay = rng.uniform(delay / 2.0, delay)
    return max(0.0, delay)


def classify(exc):
    """What an error means whatever the attempt count: EXCEPTION for a business error
    (``BUSINESS_ERRORS``), DEFER for the connector's rate limit, RETRY for anything else
    (technical: TransportError, a timeout, a bug)."""
    if isinstance(exc, BUSINESS_ERRORS):
        return EXCEPTION
    if isinstance(exc, OutboundRateLimited):
        return DEFER
    return RETRY


class Decision(NamedTuple):
    action: str
    delay_s: float = 0.0


class RetryPolicy(NamedTuple):
    """Exponential backoff with a cap and optional jitter, and a maximum of attempts.

    The default (one attempt) is what a message without a flow gets: dead at once.
    """

    max_attempts: int = 1
    base_s: float = 10.0
    factor: float = 2.0
    cap_s: float = 3600.0
    jitter: bool = True

    @classmethod
    def of(cls, record):
        """The policy of a record carrying the standard fields (a flow, a subscription)."""
        if not record:
            return cls()
        return cls(record.max_attempts, record.backoff_base_s, record.backoff_factor,
                   record.backoff_cap_s, record.backoff_jitter)

    def delay_seconds(self, attempt, retry_after_s=None, rng=random):
        """Delay before retry number ``attempt``; never sooner than a peer's Retry-After."""
        delay = retry_delay_seconds(attempt, self.base_s, self.factor, self.cap_s,
                                    self.jitter, rng=rng)
        if retry_after_s and retry_after_s > delay:
            delay = float(retry_after_s)
        return delay

    def decide(self, attempts, exc=None, rng=random):
        """What a failure leads to. ``attempts``: the attempts made, this one included;
        ``exc``: the error met (None: a technical failure without one, e.g. a webhook
        receiver answering 5xx)."""
        action = classify(exc) if exc is not None else RETRY
        if action == EXCEPTION:
            return Decision(EXCEPTION)
        if action == DEFER:
            return Decision(DEFER, float(exc.wait_s))
        if attempts >= self.max_attempts:
            return Decision(DEAD)
        return Decision(RETRY, self.delay_seconds(
            attempts, getattr(exc, "retry_after_s", None), rng=rng))
