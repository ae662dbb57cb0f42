"""One outbound webhook delivery over HTTP (docs/webhooks.md).

No ORM here: the caller passes the URL, the exact body bytes and the secret, and gets an
outcome back. The body is serialized once when the delivery is created, so every retry
sends the same bytes (receivers can de-duplicate on X-Mfg-Delivery and verify the
signature against what they got).
"""
import collections
import time

import requests

from odoo.addons.mfg_integration.services.transport import sign

EXCERPT_CHARS = 1000

DeliveryOutcome = collections.namedtuple(
    "DeliveryOutcome", "ok status duration_ms excerpt error unreachable")


def build_headers(event, delivery_uid, secret, body, timestamp=None, extra=None):
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "odoo-mfg-integration-webhook/1",
        "X-Mfg-Event": event,
        "X-Mfg-Delivery": delivery_uid,
        "X-Mfg-Timestamp": timestamp,
        "X-Mfg-Signature": sign(secret or "", timestamp, body),
    }
    headers.update(extra or {})
    return headers


def post(url, body, headers, timeout):
    """POST ``body``; any 2xx is a success, everything else (3xx included) a failure.

    ``unreachable`` tells a timeout or connection error apart from an HTTP answer: the
    caller then stops sending the rest of its batch to that URL for this run.
    """
    started = time.perf_counter()
    try:
        response = requests.post(url, data=body, headers=headers, timeout=timeout,
                                 allow_redirects=False)
    except requests.Timeout:
        elapsed = (time.perf_counter() - started) * 1000
        return DeliveryOutcome(False, None, elapsed, "", f"timeout after {timeout:g} s", True)
    except requests.RequestException as exc:
        elapsed = (time.perf_counter() - started) * 1000
        return DeliveryOutcome(False, None, elapsed, "", f"connection error: {exc}", True)
    elapsed = (time.perf_counter() - started) * 1000
    excerpt = response.text[:EXCERPT_CHARS]
    if 200 <= response.status_code < 300:
        return DeliveryOutcome(True, response.status_code, elapsed, excerpt, None, False)
    return DeliveryOutcome(False, response.status_code, elapsed, excerpt,
                           f"HTTP {response.status_code}", False)
