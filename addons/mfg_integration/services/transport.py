"""HTTP transport helpers shared by connectors (authentication headers, outbound POST)."""
import base64
import hashlib
import hmac
import json
import time
import uuid
from urllib.parse import urlsplit

import requests

# Defined in exceptions.py; imported from here by older code.
from ..exceptions import (  # noqa: F401
    ForeignHostError,
    MfgBusinessError,
    PeerRejected,
    TransportError,
)

# OAuth2 tokens per (database, connector id): re-used until shortly before they expire
# instead of fetching one per message. The key also holds a digest of the credentials, so
# a token fetched with old credentials is never served after they change, in any worker
# (the connector's write drops the entry of the worker that saved it at once).
_TOKENS = {}


def origin(url):
    """(scheme, host, port) of ``url``, the default port filled in; None when unparsable."""
    try:
        parts = urlsplit(url or "")
        port = parts.port
    except ValueError:
        return None
    scheme = (parts.scheme or "").lower()
    if not parts.hostname or scheme not in ("http", "https"):
        return None
    return scheme, parts.hostname.lower(), port or (443 if scheme == "https" else 80)


def check_same_origin(allowed_urls, url, what="connector",
                      reason="a next link, __next or redirect pointed there"):
    """Raise ForeignHostError unless ``url`` has the scheme+host+port of one of
    ``allowed_urls`` (the connector's own endpoint, its token URL...)."""
    target = origin(url)
    allowed = {origin(item) for item in allowed_urls if item}
    allowed.discard(None)
    if target is None or target not in allowed:
        host = f"{target[0]}://{target[1]}:{target[2]}" if target else repr(url)
        own = ", ".join(sorted(f"{a[0]}://{a[1]}:{a[2]}" for a in allowed)) or "none"
        raise ForeignHostError(
            f"Refused to send the {what}'s credentials to {host}: it is not the "
            f"{what}'s own host ({own}); {reason}. Nothing was sent to it.")


class OriginBoundSession(requests.Session):
    """A requests session that only talks to the given origins.

    requests follows redirects by default and keeps custom headers (X-Api-Key, an
    Authorization set by hand, cookies of the session) on the next hop; every hop goes
    through ``send``, so checking there stops a redirect to another host before it is
    sent, and same-host redirects still work. (Environment proxies still apply: the
    check is on the target URL, whatever route the request takes.)
    """

    def __init__(self, allowed_urls, what="connector"):
        super().__init__()
        self.allowed_urls = [url for url in allowed_urls if url]
        self.what = what

    def send(self, request, **kwargs):
        check_same_origin(self.allowed_urls, request.url, self.what)
        return super().send(request, **kwargs)


def connector_session(connector, extra_urls=()):
    """A session bound to the connector's endpoint origin (plus ``extra_urls``)."""
    return OriginBoundSession([connector.endpoint_url, *extra_urls],
                              what=f"connector {connector.code}")


def _token_cache_key(connector):
    digest = hashlib.sha256("\x00".join([
        connector.token_url or "", connector.client_id or "",
        connector._mfg_secret("client_secret") or ""]).encode()).hexdigest()
    return (connector.env.cr.dbname, connector.id, digest)


def _oauth2_token(connector):
    cache_key = _token_cache_key(connector)
    token, expires_at = _TOKENS.get(cache_key, (None, 0))
    if token and expires_at - 30 > time.time():
        return token
    # The token endpoint may live on another host than the API; the client secret goes
    # to that one host only (no redirect elsewhere).
    session = OriginBoundSession([connector.token_url],
                                 what=f"connector {connector.code} (token URL)")
    try:
        response = session.post(
            connector.token_url,
            data={"grant_type": "client_credentials"},
            auth=(connector.client_id or "", connector._mfg_secret("client_secret") or ""),
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
    """Drop the cached tokens of ``connector`` (the peer said it is no longer valid, or
    its credentials changed)."""
    for key in [key for key in _TOKENS if key[:2] == (connector.env.cr.dbname, connector.id)]:
        _TOKENS.pop(key, None)


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
    Network errors raise TransportError. The request, and every redirect hop, must stay
    on the scheme+host+port of the connector's endpoint: anything else raises
    ForeignHostError before it is sent (``url`` included, e.g. a next link).
    """
    kwargs.setdefault("timeout", connector.timeout_s or 10)
    kwargs.setdefault("verify", connector.verify_tls)
    attempts = 2 if connector.auth_method == "oauth2_cc" else 1
    session = connector_session(connector)
    for attempt in range(attempts):
        all_headers = dict(headers or {})
        all_headers.update(build_auth_headers(connector))
        try:
            response = session.request(method, url, headers=all_headers, **kwargs)
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
        raw = f"{connector.username or ''}:{connector._mfg_secret('password') or ''}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}
    if method == "api_key":
        return {"X-Api-Key": connector._mfg_secret("api_key") or ""}
    if method == "bearer":
        return {"Authorization": f"Bearer {connector._mfg_secret('api_key') or ''}"}
    if method == "oauth2_cc":
        return {"Authorization": f"Bearer {_oauth2_token(connector)}"}
    return {}


def sign(secret, timestamp, body):
    """HMAC-SHA256 over "timestamp.body" as in docs/webhooks.md."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def encode_envelope(envelope, message_format="canonical"):
    """(body bytes, content type) of an envelope in a connector's outbound format."""
    if message_format == "canonical":
        return json.dumps(envelope, separators=(",", ":"), sort_keys=True).encode(), \
            "application/json"
    from mfg_canonical.b2mml import B2mmlError, export  # lxml only where B2MML is used
    try:
        if message_format == "b2mml_xml":
            return export(envelope, "xml"), "application/xml"
        return json.dumps(export(envelope, "json"), separators=(",", ":")).encode(), \
            "application/json"
    except B2mmlError as exc:
        raise MfgBusinessError(f"B2MML: {exc}") from None


def post_envelope(connector, envelope, url=None):
    """POST one canonical envelope (in the connector's outbound format); return (status,
    elapsed_ms, response text)."""
    body, content_type = encode_envelope(envelope, connector.message_format or "canonical")
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": content_type,
        "X-Mfg-Event": envelope.get("type", ""),
        "X-Mfg-Delivery": str(uuid.uuid4()),
        "X-Mfg-Timestamp": timestamp,
    }
    hmac_secret = connector._mfg_secret("hmac_secret")
    if hmac_secret:
        headers["X-Mfg-Signature"] = sign(hmac_secret, timestamp, body)
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
