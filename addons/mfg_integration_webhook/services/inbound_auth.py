"""Authentication of pushes to /mfg/in/<code>: API key and/or HMAC signature.

Secrets are compared with ``hmac.compare_digest`` (constant time), and a signed request
must carry a timestamp within MAX_SKEW_S of the server clock, so a captured request
cannot be replayed later.
"""
import hmac
from datetime import datetime, timezone

from odoo.addons.mfg_integration.services.transport import sign

MAX_SKEW_S = 300
MODES = ("api_key", "hmac", "api_key_hmac")


class InboundAuthError(Exception):
    """The request is not authenticated (HTTP 401); the text says why, never a secret."""


def presented_api_key(headers):
    """The key from ``Authorization: Bearer <key>`` or ``X-Api-Key: <key>``, or None."""
    authorization = headers.get("Authorization") or ""
    scheme, _sep, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    key = (headers.get("X-Api-Key") or "").strip()
    return key or None


def _same(presented, expected):
    return bool(presented) and bool(expected) and hmac.compare_digest(
        presented.encode(), expected.encode())


def check_api_key(headers, keys, now):
    """Accept the presented key if it equals one of ``keys``: [(key, expires_at or None)]
    (``expires_at`` in Unix seconds). During a rotation the previous key is accepted until
    it expires; after that it is refused with a reason, so its holder knows to switch."""
    presented = presented_api_key(headers)
    if not presented:
        raise InboundAuthError("missing API key: send 'Authorization: Bearer <key>' or "
                               "'X-Api-Key: <key>'")
    # Compare with every key (no early exit): the time taken does not say which one matched.
    matches = [expires_at for key, expires_at in keys if _same(presented, key)]
    if not matches:
        raise InboundAuthError("invalid API key")
    if all(expires_at is not None and expires_at <= now for expires_at in matches):
        expired = datetime.fromtimestamp(max(matches), timezone.utc)
        raise InboundAuthError(f"API key expired at {expired:%Y-%m-%d %H:%M} UTC (it was "
                               "replaced by a key rotation): use the current inbound key")


def check_signature(headers, body, secret, now):
    timestamp = (headers.get("X-Mfg-Timestamp") or "").strip()
    signature = (headers.get("X-Mfg-Signature") or "").strip()
    if not timestamp or not signature:
        raise InboundAuthError("missing X-Mfg-Timestamp or X-Mfg-Signature header")
    try:
        stamp = int(timestamp)
    except ValueError:
        raise InboundAuthError("X-Mfg-Timestamp must be Unix seconds") from None
    if abs(now - stamp) > MAX_SKEW_S:
        raise InboundAuthError(f"X-Mfg-Timestamp is more than {MAX_SKEW_S} s away from the "
                               "server clock (replayed or clock skew)")
    if not signature.startswith("sha256="):
        signature = "sha256=" + signature
    if not _same(signature, sign(secret or "", timestamp, body)):
        raise InboundAuthError("invalid signature")


def authenticate(mode, headers, body, api_keys, hmac_secret, now):
    """Raise InboundAuthError unless the request satisfies ``mode``.

    ``api_keys``: the connector's inbound keys, [(key, expires_at or None)] - never its
    outbound credentials. A signature sent to an API-key connector that has an HMAC secret
    is checked too: a client that signs must sign correctly.
    """
    if mode in ("api_key", "api_key_hmac"):
        check_api_key(headers, api_keys, now)
    signed = headers.get("X-Mfg-Signature") or headers.get("X-Mfg-Timestamp")
    if mode in ("hmac", "api_key_hmac") or (signed and hmac_secret):
        if not hmac_secret:
            raise InboundAuthError("invalid signature")
        check_signature(headers, body, hmac_secret, now)
