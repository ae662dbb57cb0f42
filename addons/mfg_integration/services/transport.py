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
    """Technical failure talking to a peer; the message is retried with the flow's backoff.

    ``retry_after_s``: the peer asked us to wait at least this long (HTTP Retry-After);
    the retry is then never scheduled sooner, even when the flow's backoff is shorter.
    """

    def __init__(self, *args, retry_after_s=None):
        super().__init__(*args)
        self.retry_after_s = retry_after_s


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
    if response.status_code in (400, 401, 403):
        # invalid_client / unauthorized_client: wrong credentials, a person must fix them.
        raise PeerRejected(f"OAuth2 token request refused: HTTP {response.status_code}: "
                           f"{response.text[:300]}")
    if response.status_code != 200:
        raise TransportError(f"OAuth2 token request failed: HTTP {response.status_code}")
    body = response.json()
    token = body["access_token"]
    _TOKENS[cache_key] = (token, time.time() + float(body.get("expires_in", 300)))
    return token


def forget_oauth2_token(connector):
    """Drop the cached token of ``connector`` (the peer said it is no longer valid)."""
    _TOKENS.pop((connector.token_url, connector.client_id), None)


def retry_after_seconds(response):
    """Seconds of an HTTP Retry-After header (delta-seconds or HTTP-date), else None."""
    value = (response.headers.get("Retry-After") or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    from email.utils import parsedate_to_datetime
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def send_with_auth(connector, method, url, headers=None, **kwargs):
    """requests.request with the connector's authentication, timeout and TLS settings.

    An OAuth2 token can expire or be revoked before its announced expiry: on a 401 the
    cached token is dropped, a new one fetched and the request sent once more.
    Network errors raise TransportError.
    """
    kwargs.setdefault("timeout", connector.timeout_s or 10)
    kwargs.setdefault("verify", connector.verify_tls)
    attempts = 2 if connector.auth_method == "oauth2_cc" else 1
    for attempt in range(attempts):
        all_headers = dict(headers or {})
        all_headers.update(build_auth_headers(connector))
        try:
            response = requests.request(method, url, headers=all_headers, **kwargs)
        except requests.RequestException as exc:
            raise TransportError(f"{method} {url}: {exc}") from exc
        if response.status_code != 401 or attempt == attempts - 1:
            return response
        forget_oauth2_token(connector)
    return response


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
    if connector.hmac_secret:
        headers["X-Mfg-Signature"] = sign(connector.hmac_secret, timestamp, body)
    started = time.monotonic()
    response = send_with_auth(connector, "POST", url or connector.endpoint_url, headers=headers,
                              data=body)
    elapsed_ms = (time.monotonic() - started) * 1000
    text = response.text[:2000]
    if response.status_code in (408, 425, 429) or response.status_code >= 500:
        raise TransportError(f"HTTP {response.status_code}: {text[:500]}",
                             retry_after_s=retry_after_seconds(response))
    if response.status_code >= 400:
        raise PeerRejected(f"HTTP {response.status_code}: {text[:500]}")
    return response.status_code, elapsed_ms, text
