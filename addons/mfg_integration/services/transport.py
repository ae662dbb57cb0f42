"""HTTP transport helpers shared by connectors (authentication headers, outbound POST)."""
import base64
import hashlib
import hmac
import json
import time
import uuid

import requests

# A cache of OAuth2 tokens per (token_url, client_id): tokens are re-used until shortly
# before they expire instead of fetching one per message.
_TOKENS = {}


class TransportError(Exception):
    """Technical failure talking to a peer; the message is retried with the flow's backoff."""


class PeerRejected(Exception):
    """The peer answered with a business refusal (4xx); retrying the same content is pointless."""


def _oauth2_token(connector):
    cache_key = (connector.token_url, connector.client_id)
    token, expires_at = _TOKENS.get(cache_key, (None, 0))
    if token and expires_at - 30 > time.time():
        return token
    try:
        response = requests.post(
            connector.token_url,
            data={"grant_type": "client_credentials"},
            auth=(connector.client_id or "", connector.client_secret or ""),
            timeout=connector.timeout_s or 10,
            verify=connector.verify_tls,
        )
    except requests.RequestException as exc:
        raise TransportError(f"OAuth2 token endpoint unreachable: {exc}") from exc
    if response.status_code != 200:
        raise TransportError(f"OAuth2 token request failed: HTTP {response.status_code}")
    body = response.json()
    token = body["access_token"]
    _TOKENS[cache_key] = (token, time.time() + float(body.get("expires_in", 300)))
    return token


def build_auth_headers(connector):
    """Authentication headers for ``connector`` (read with sudo: needs the credentials)."""
    method = connector.auth_method
    if method == "basic":
        raw = f"{connector.username or ''}:{connector.password or ''}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}
    if method == "api_key":
        return {"X-Api-Key": connector.api_key or ""}
    if method == "bearer":
        return {"Authorization": f"Bearer {connector.api_key or ''}"}
    if method == "oauth2_cc":
        return {"Authorization": f"Bearer {_oauth2_token(connector)}"}
    return {}


def sign(secret, timestamp, body):
    """HMAC-SHA256 over "timestamp.body" as in CONTRACT.md §4."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def post_envelope(connector, envelope, url=None):
    """POST one canonical envelope; return (status, elapsed_ms, response text)."""
    body = json.dumps(envelope, separators=(",", ":"), sort_keys=True).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-Mfg-Event": envelope.get("type", ""),
        "X-Mfg-Delivery": str(uuid.uuid4()),
        "X-Mfg-Timestamp": timestamp,
    }
    headers.update(build_auth_headers(connector))
    if connector.hmac_secret:
        headers["X-Mfg-Signature"] = sign(connector.hmac_secret, timestamp, body)
    started = time.monotonic()
    try:
        response = requests.post(url or connector.endpoint_url, data=body, headers=headers,
                                 timeout=connector.timeout_s or 10, verify=connector.verify_tls)
    except requests.RequestException as exc:
        raise TransportError(f"{url or connector.endpoint_url}: {exc}") from exc
    elapsed_ms = (time.monotonic() - started) * 1000
    text = response.text[:2000]
    if response.status_code in (408, 425, 429) or response.status_code >= 500:
        raise TransportError(f"HTTP {response.status_code}: {text[:500]}")
    if response.status_code >= 400:
        raise PeerRejected(f"HTTP {response.status_code}: {text[:500]}")
    return response.status_code, elapsed_ms, text
