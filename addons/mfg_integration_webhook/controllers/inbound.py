# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Inbound HTTP endpoint for systems that push webhooks (docs/inbound-endpoint.md).

Reads top-down: size (read in bounded chunks) -> connector and credentials -> connector
state -> rate limit (before parsing) -> body shape -> idempotency -> rate limit (per
envelope) -> ingest -> answer. Every refusal is a 4xx with a JSON reason;
only a genuine server fault gives 500, and then nothing is stored.
"""
import hashlib
import json
import logging
import time

from werkzeug.wsgi import get_input_stream

from odoo import SUPERUSER_ID, api, http
from odoo.http import request

from odoo.addons.mfg_integration.exceptions import MfgSecretError
from odoo.addons.mfg_integration.services.ingest import is_storable_text

from ..services.inbound_auth import InboundAuthError, authenticate
from ..services.inbound_payload import (
    PayloadError,
    assign_source,
    merge_result,
    parse_b2mml,
    parse_envelopes,
)

_logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_ENVELOPES = 10000
CHUNK_BYTES = 64 * 1024
MAX_IDEMPOTENCY_KEY = 255


class Refusal(Exception):
    def __init__(self, status, error, headers=None, **extra):
        super().__init__(error)
        self.status = status
        self.body = dict({"error": error, "status": status}, **extra)
        self.headers = headers or {}


def _int_param(env, key, default):
    try:
        return int(env["ir.config_parameter"].sudo().get_param(key, default))
    except (TypeError, ValueError):
        return default


class MfgInboundController(http.Controller):
    @http.route("/mfg/in/<string:code>", type="http", auth="none", methods=["POST"],
                csrf=False, save_session=False, readonly=False)
    def inbound(self, code, **_params):
        try:
            status, body, headers = self._handle(code)
        except Refusal as refusal:
            _logger.info("POST /mfg/in/%s refused with %s: %s", code, refusal.status,
                         refusal.body["error"])
            status, body, headers = refusal.status, refusal.body, refusal.headers
        except Exception:
            _logger.exception("POST /mfg/in/%s failed", code)
            if request.db:
                request.env.cr.rollback()
            status, headers = 500, {}
            body = {"error": "internal server error; nothing was stored", "status": 500}
        return request.make_json_response(body, status=status, headers=list(headers.items()))

    def _handle(self, code):
        if not request.db:
            raise Refusal(400, "no database selected: send the X-Odoo-Database header")
        env = api.Environment(request.env.cr, SUPERUSER_ID, {})
        body = self._read_body(env)
        connector = self._authenticate(env, code, body)
        if not connector._inbound_accepts_pushes():
            raise Refusal(403, f"connector {code!r} is archived or does not accept pushes "
                               f"(type {connector.connector_type})")
        # Rate limit before parsing: a client over its budget costs no JSON parse, and a
        # body that does not parse still spends one envelope of the budget.
        self._check_rate_open(env, connector)
        unreadable = []
        try:
            b2mml = parse_b2mml(body, connector.code)
            if b2mml is not None:
                envelopes, unreadable = b2mml
                if not envelopes:
                    raise PayloadError("B2MML: no noun could be read: " + "; ".join(
                        entry["error"] for entry in unreadable))
            else:
                envelopes = parse_envelopes(body)
        except PayloadError as exc:
            self._charge_junk(env, connector)
            raise Refusal(400, str(exc)) from None
        max_envelopes = min(_int_param(env, "mfg_integration_webhook.inbound_max_envelopes",
                                       DEFAULT_MAX_ENVELOPES),
                            env["mfg.message"]._max_batch_size())
        if len(envelopes) > max_envelopes:
            raise Refusal(413, f"{len(envelopes)} envelopes exceed the maximum of "
                               f"{max_envelopes} per request; nothing was stored")
        idempotency_key = self._idempotency_key()
        body_sha256 = hashlib.sha256(body).hexdigest()
        if idempotency_key:
            stored = env["mfg.inbound.idempotency"]._lookup(connector.id, idempotency_key)
            if stored:
                if stored.body_sha256 != body_sha256:
                    raise Refusal(422, "Idempotency-Key was already used with a different "
                                       "body in the last 24 hours")
                return stored.status_code, json.loads(stored.response_body), \
                    {"Idempotent-Replayed": "true"}
        self._check_rate(env, connector, len(envelopes))
        status, answer = self._ingest(env, connector, envelopes, unreadable)
        if idempotency_key:
            env["mfg.inbound.idempotency"]._store(connector.id, idempotency_key, body_sha256,
                                                  status, answer)
        return status, answer, {}

    def _read_body(self, env):
        """The raw body, read in bounded chunks; 413 as soon as it passes the cap.

        With Content-Length the size is known up front; a chunked body has none, and
        werkzeug's ``get_data`` would read all of it before any check. So the WSGI input
        stream is read here, CHUNK_BYTES at a time, and reading stops at max_bytes + 1
        whatever the transfer encoding: a 200 MiB push costs at most the cap.
        """
        max_bytes = _int_param(env, "mfg_integration_webhook.inbound_max_bytes",
                               DEFAULT_MAX_BYTES)
        httprequest = request.httprequest
        length = httprequest.content_length
        too_large = Refusal(413, f"body larger than {max_bytes} bytes; nothing was stored",
                            {"Connection": "close"})
        if length is not None and length > max_bytes:
            raise too_large
        # Odoo's request wrapper exposes no stream; the bus addon reaches the WSGI environ
        # the same way (websocket.py).
        stream = get_input_stream(httprequest._HTTPRequest__environ)
        body = bytearray()
        while True:
            chunk = stream.read(min(CHUNK_BYTES, max_bytes + 1 - len(body)))
            if not chunk:
                return bytes(body)
            body += chunk
            if len(body) > max_bytes:
                raise too_large

    def _authenticate(self, env, code, body):
        """The connector, once the request proved it may speak for it.

        An unknown code answers exactly like a wrong key (401), so the endpoint does not
        tell outsiders which connector codes exist.
        """
        Connector = env["mfg.connector"].with_context(active_test=False)
        # A code PostgreSQL cannot compare (NUL) is no connector's code: unknown, not a 500.
        connector = Connector.search([("code", "=", code)], limit=1) \
            if is_storable_text(code) else Connector
        headers = request.httprequest.headers
        try:
            if not connector:
                authenticate("api_key", headers, body, [], "", time.time())
            authenticate(connector.inbound_auth, headers, body,
                         connector._inbound_accepted_keys(), connector._inbound_hmac_secret(),
                         time.time())
        except InboundAuthError as exc:
            raise Refusal(401, str(exc), {"WWW-Authenticate": "Bearer"}) from None
        except MfgSecretError as exc:
            # Our key configuration, not the caller's fault: transient for the sender.
            _logger.error("/mfg/in/%s: %s", code, exc)
            raise Refusal(503, "credentials of this connector cannot be read on the server; "
                          "retry later") from None
        return connector

    def _idempotency_key(self):
        key = (request.httprequest.headers.get("Idempotency-Key") or "").strip()
        if len(key) > MAX_IDEMPOTENCY_KEY:
            raise Refusal(400, f"Idempotency-Key longer than {MAX_IDEMPOTENCY_KEY} characters")
        # Stored and looked up in PostgreSQL, which refuses NUL: printable ASCII only.
        if not all(" " <= char <= "~" for char in key):
            raise Refusal(400, "Idempotency-Key must be printable ASCII")
        return key or None

    def _rate_refusal(self, connector, retry_after):
        return Refusal(429, f"rate limit of {connector.rate_limit_per_min} envelopes per "
                            f"minute for connector {connector.code!r} reached; retry in "
                            f"{retry_after} s",
                       {"Retry-After": str(retry_after)}, retry_after=retry_after)

    def _check_rate_open(self, env, connector):
        """429 before the body is parsed when this minute's budget is already spent."""
        limit = connector.rate_limit_per_min
        if limit <= 0:
            return
        spent, retry_after = env["mfg.inbound.rate.window"]._spent(connector.id, limit)
        if spent:
            raise self._rate_refusal(connector, retry_after)

    def _charge_junk(self, env, connector):
        if connector.rate_limit_per_min > 0:
            env["mfg.inbound.rate.window"]._consume(connector.id, connector.rate_limit_per_min,
                                                    1)

    def _check_rate(self, env, connector, envelope_count):
        limit = connector.rate_limit_per_min
        if limit <= 0:
            return
        allowed, retry_after = env["mfg.inbound.rate.window"]._consume(
            connector.id, limit, envelope_count)
        if not allowed:
            raise self._rate_refusal(connector, retry_after)

    def _ingest(self, env, connector, envelopes, unreadable=()):
        forwarded, indexes, own_rejected = assign_source(envelopes, connector.code)
        # A B2MML noun that could not be read: reported after the envelopes it produced.
        own_rejected += [dict(entry, index=len(envelopes) + position)
                         for position, entry in enumerate(unreadable)]
        result = {"accepted": 0, "duplicates": 0, "rejected": []}
        if forwarded:
            user = connector._inbound_ingest_env_user()
            result = env["mfg.message"].with_user(user).sudo().ingest(forwarded)
        answer = merge_result(result, indexes, own_rejected)
        if answer["accepted"] or answer["duplicates"]:
            return 202, answer
        answer["error"] = "every envelope was rejected; nothing was stored"
        answer["status"] = 400
        return 400, answer
