"""Transport to Odoo: JSON-2 (Odoo 19+) or legacy /jsonrpc, selected by configuration.

Both expose ``ingest(body_json_list)`` returning the contract's answer and ``heartbeat(**kw)``.
Errors are classified, because the forwarder reacts differently:
- ``TransientError``: network trouble, timeouts, 5xx, 408, 429, and any answer that breaks the
  contract (not JSON, nested too deep, counts that are not counts...) -> retry with backoff;
- ``PermanentError``: any other 4xx / access or configuration error for the whole batch -> the
  data stays pending, an operator must act; we keep retrying slowly, never drop.
``status`` tells the forwarder whether the refusal may be about the content of the batch (400,
413, 422, 500: see ``refuses_content``), which it then isolates envelope by envelope.
"""
import gzip
import itertools
import json
import logging

import requests

log = logging.getLogger(__name__)


class PushError(Exception):
    def __init__(self, message, retry_after=None, status=None):
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status


class TransientError(PushError):
    pass


class PermanentError(PushError):
    pass


# A batch refused with one of these may hold one envelope Odoo cannot take; 401/403/404 are
# configuration (every envelope would fail alike) and 408/429/502/503/504 are transient.
CONTENT_STATUSES = frozenset({400, 413, 422, 500})


def refuses_content(error):
    return isinstance(error, PushError) and error.status in CONTENT_STATUSES


def _json_of(response):
    """The body's JSON, or raise ValueError: also for nesting too deep to parse (RecursionError)."""
    try:
        return response.json()
    except RecursionError:
        raise ValueError("JSON nested too deep") from None


def _error_text(response):
    """Odoo's own message when the body is its JSON error, else the start of the body."""
    try:
        body = _json_of(response)
    except ValueError:
        return response.text[:300]
    if isinstance(body, dict):
        message = body.get("message") or body.get("error")
        if isinstance(message, str) and message:
            return message[:300]
    return response.text[:300]


def _retry_after(response):
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None     # HTTP-date form: fall back to our own backoff


def _count(answer, name):
    value = answer.get(name)
    if type(value) is not int or value < 0:      # bool, float (NaN, 1e999), str: not a count
        raise TransientError(f"ingest answer: {name} is not a count: {str(value)[:50]}")
    return value


def check_answer(answer, count):
    """The contract: accepted + duplicates + len(rejected) == number of envelopes sent, and each
    rejected item is an object naming one sent envelope by its index (once).

    Anything else is not an answer we can act on - marking rows delivered or dead on its
    strength could lose data - so it is a transient error: the batch stays pending and is sent
    again (Odoo counts what it already holds as duplicates).
    """
    if not isinstance(answer, dict):
        raise TransientError(f"ingest answered {type(answer).__name__}, expected an object")
    accepted, duplicates = _count(answer, "accepted"), _count(answer, "duplicates")
    rejected = answer.get("rejected")
    if not isinstance(rejected, list):
        raise TransientError(f"ingest answer: rejected is {type(rejected).__name__}, expected a list")
    indexes = set()
    for item in rejected:
        index = item.get("index") if isinstance(item, dict) else None
        if type(index) is not int or not 0 <= index < count or index in indexes:
            raise TransientError(f"ingest answer: rejected item {str(item)[:100]} names no sent envelope "
                                 "(or one twice)")
        indexes.add(index)
    total = accepted + duplicates + len(rejected)
    if total != count:
        raise TransientError(f"ingest answer counts {total} envelopes, {count} were sent")
    return answer


# Answers of a node that is going away or overloaded: the next node may take the call.
FAILOVER_STATUSES = frozenset({502, 503, 504})


class _HttpTransport:
    """One HTTP session to Odoo; with several ``sink.url`` (Odoo nodes of one database) a call
    that cannot reach its node, or that the node answers 502/503/504, moves the next calls to the
    next node. The call itself still fails (TransientError): the forwarder retries the batch,
    which Odoo deduplicates by key, so a batch half-stored on the node that died is not doubled."""

    def __init__(self, config, version):
        self.config = config
        self.urls = list(config.urls or (config.url,))
        self.active = 0
        self.failovers = 0
        self.version = version
        self.session = requests.Session()
        self.session.verify = config.ca_file or config.verify_tls
        self.session.headers["User-Agent"] = f"edge-bridge/{version}"

    def _post(self, path, body_bytes, headers):
        headers = {"Content-Type": "application/json", **headers}
        if self.config.gzip:
            body_bytes = gzip.compress(body_bytes, compresslevel=5)
            headers["Content-Encoding"] = "gzip"
        url = self.urls[self.active]
        try:
            response = self.session.post(url + path, data=body_bytes, headers=headers, timeout=self.config.timeout_s)
        except requests.exceptions.SSLError as exc:
            raise PermanentError(f"TLS error talking to {url}: {exc}") from None
        except requests.RequestException as exc:
            self._fail_over(url)
            raise TransientError(f"cannot reach {url}: {exc.__class__.__name__}: {exc}") from None
        status = response.status_code
        if status in FAILOVER_STATUSES:
            self._fail_over(url)
        if status in (408, 429) or status >= 500:
            raise TransientError(f"HTTP {status} from {path}: {_error_text(response)}",
                                 retry_after=_retry_after(response), status=status)
        if status >= 400:
            hint = "" if status in CONTENT_STATUSES else " (check url, db, API key and access rights)"
            raise PermanentError(f"HTTP {status} from {path}{hint}: {_error_text(response)}", status=status)
        try:
            return _json_of(response)
        except ValueError as exc:
            raise TransientError(f"{path} answered non-JSON ({exc}): {response.text[:200]}") from None

    def _fail_over(self, url):
        if len(self.urls) > 1:
            self.active = (self.active + 1) % len(self.urls)
            self.failovers += 1
            log.warning("Odoo node unavailable, next calls go to the next one",
                        extra={"node": url, "next": self.urls[self.active]})

    def close(self):
        self.session.close()


class Json2Transport(_HttpTransport):
    def _headers(self):
        headers = {"Authorization": f"bearer {self.config.api_key.reveal()}"}
        if self.config.db:
            headers["X-Odoo-Database"] = self.config.db
        return headers

    def ingest(self, bodies):
        # Rows are stored as JSON text already; splice them instead of parsing and re-dumping.
        data = ('{"envelopes":[' + ",".join(bodies) + "]}").encode()
        return check_answer(self._post("/json/2/mfg.message/ingest", data, self._headers()), len(bodies))

    def call(self, model, method, **kwargs):
        return self._post(f"/json/2/{model}/{method}", json.dumps(kwargs).encode(), self._headers())


class JsonRpcTransport(_HttpTransport):
    _ids = itertools.count(1)

    def __init__(self, config, version):
        super().__init__(config, version)
        self.uid = None

    def _rpc(self, service, method, args_json):
        data = (f'{{"jsonrpc":"2.0","method":"call","id":{next(self._ids)},'
                f'"params":{{"service":"{service}","method":"{method}","args":{args_json}}}}}').encode()
        answer = self._post("/jsonrpc", data, {})
        if not isinstance(answer, dict):
            raise TransientError("/jsonrpc answered something that is not an object")
        if answer.get("error"):
            error = answer["error"] if isinstance(answer["error"], dict) else {"message": answer["error"]}
            data = error.get("data") if isinstance(error.get("data"), dict) else {}
            detail = str(data.get("message") or error.get("message"))[:300]
            name = data.get("name") if isinstance(data.get("name"), str) else ""
            if "AccessDenied" in name or "AccessError" in name:
                raise PermanentError(f"Odoo refused {method}: {detail}", status=403)
            if "ValidationError" in name or "UserError" in name:
                raise PermanentError(f"Odoo refused {method}: {detail}", status=422)
            # A server error inside the call: may be transient, may be one envelope; the
            # forwarder isolates only when the very same error repeats.
            raise TransientError(f"Odoo error in {method}: {detail}", status=500)
        return answer.get("result")

    def _login(self):
        if self.uid is None:
            args = json.dumps([self.config.db, self.config.login, self.config.api_key.reveal()])
            uid = self._rpc("common", "login", args)
            if uid is not False and uid is not None and type(uid) is not int:
                raise TransientError(f"login answered {str(uid)[:50]}, expected a user id")
            if not uid:
                raise PermanentError(f"login of {self.config.login!r} on database {self.config.db!r} failed "
                                     "(check login and API key)")
            self.uid = uid
        return self.uid

    def _execute_kw(self, model, method, kwargs_json):
        head = json.dumps([self.config.db, self._login(), self.config.api_key.reveal(), model, method, []])
        return self._rpc("object", "execute_kw", head[:-1] + "," + kwargs_json + "]")

    def ingest(self, bodies):
        answer = self._execute_kw("mfg.message", "ingest", '{"envelopes":[' + ",".join(bodies) + "]}")
        return check_answer(answer, len(bodies))

    def call(self, model, method, **kwargs):
        return self._execute_kw(model, method, json.dumps(kwargs))


def make_transport(config, version):
    return (Json2Transport if config.protocol == "json2" else JsonRpcTransport)(config, version)
