"""Retry delays of a flow: exponential backoff with a cap and optional full jitter."""
import random


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
