# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Shared fixtures: a plant with connectors, flows and users of every integration role,
a real local HTTP receiver, and a way to run the queue jobs the code enqueued."""
import collections
import copy
import json
import secrets
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from freezegun import freeze_time

from odoo import fields
from odoo.tests import TransactionCase, new_test_user
from odoo.tools import config

from odoo.addons.queue_job.job import Job

from ..services import secret_box

# Connectors of the fixtures carry secrets, which need the server's encryption key. A
# server run without one (an old odoo.conf) gets a throw-away key for the test run only,
# so the suites test behaviour, not the machine's configuration.
if not secret_box.key_setting():
    config["mfg_secret_key"] = "test-run-only-" + secrets.token_urlsafe(32)


def nested_value(depth):
    """A payload value nested ``depth`` levels deep, built without recursion."""
    value = 1
    for _ in range(depth):
        value = {"n": value}
    return value


class Hostile(collections.namedtuple("Hostile", "name target json_text value reason")):
    """One hostile value: where it goes in an envelope (``key``, ``occurred_at`` or
    ``payload.<field>``), its JSON text as a client sends it, the Python value an in-process
    caller passes, and the reason the reject must give."""

    def apply(self, values):
        values = copy.deepcopy(values)
        field, _dot, sub = self.target.partition(".")
        if sub:
            values[field][sub] = self.value
        else:
            values[field] = self.value
        return values

    def json_text(self, values):
        """``values`` as JSON with this hostile value spliced in as the client's text."""
        marked = Hostile(*self[:3], HOSTILE_MARK, self.reason).apply(values)
        return json.dumps(marked).replace(json.dumps(HOSTILE_MARK), self[2], 1)


HOSTILE_MARK = "@@hostile@@"
DEEP_VALUE_3000 = nested_value(3000)
DEEP_VALUE_100K = nested_value(100_000)
# Every hostile value of issue 8, shared by the in-process, JSON-2, /jsonrpc and /mfg/in tests.
HOSTILE_VALUES = [
    Hostile("NaN", "payload.value", "NaN", float("nan"), "payload.value: not a finite number"),
    Hostile("Infinity", "payload.value", "Infinity", float("inf"),
            "payload.value: not a finite number"),
    Hostile("-Infinity", "payload.value", "-Infinity", float("-inf"),
            "payload.value: not a finite number"),
    Hostile("1e999", "payload.value", "1e999", float("inf"), "payload.value: not a finite number"),
    Hostile("NUL in key", "key", json.dumps("bad\x00key"), "bad\x00key",
            "key: NUL character not allowed"),
    Hostile("NUL in payload string", "payload.asset", json.dumps("PRESS\x00-1"), "PRESS\x00-1",
            "payload.asset: NUL character not allowed"),
    Hostile("lone surrogate in payload string", "payload.asset", '"\\ud800"', "\ud800",
            "payload.asset: invalid Unicode (lone surrogate) not allowed"),
    Hostile("lone surrogate in key", "key", '"k\\udc00"', "k\udc00",
            "key: invalid Unicode (lone surrogate) not allowed"),
    Hostile("lone surrogate in object key", "payload.extra", '{"\\ud800": 1}', {"\ud800": 1},
            "payload.extra: object key: invalid Unicode"),
    Hostile("occurred_at 0001 +23:59", "occurred_at", '"0001-01-01T00:00:00+23:59"',
            "0001-01-01T00:00:00+23:59", "occurred_at: out of range"),
    Hostile("occurred_at 9999 -23:59", "occurred_at", '"9999-12-31T23:59:59-23:59"',
            "9999-12-31T23:59:59-23:59", "occurred_at: out of range"),
    Hostile("payload nested 3,000 levels", "payload.deep",
            '{"n": ' * 3000 + "1" + "}" * 3000, DEEP_VALUE_3000,
            "nested deeper than 32 levels"),
    Hostile("payload nested 100,000 levels", "payload.deep",
            '{"n": ' * 100_000 + "1" + "}" * 100_000, DEEP_VALUE_100K,
            "nested deeper than 32 levels"),
]


def batch_with_hostile(hostile, prefix, bad_index=4, size=10, **values):
    """(envelopes, body text of {"envelopes": [...]}) of ``size`` good alarms with the one at
    ``bad_index`` carrying ``hostile``; keys are ``<prefix>-<index>``."""
    envelopes, texts = [], []
    for index in range(size):
        good = envelope(f"{prefix}-{index}", **values)
        if index == bad_index:
            envelopes.append(hostile.apply(good))
            texts.append(hostile.json_text(good))
        else:
            envelopes.append(good)
            texts.append(json.dumps(good))
    return envelopes, '{"envelopes": [' + ", ".join(texts) + "]}"


def envelope(key, type_name="machine.alarm", source="EDGE-T1",
             occurred_at="2026-11-23T08:00:00+01:00", payload=None, **extra):
    if payload is None:
        # "error" (OPC UA 700): a critical one would take the priority lane at ingest.
        payload = {"asset": "PRESS-1", "code": "E42", "severity": "error", "active": True}
    result = {"key": key, "type": type_name, "schema_version": 1, "source": source,
              "occurred_at": occurred_at, "payload": payload}
    result.update(extra)
    return result


class LocalHttpServer:
    """Base of the real HTTP peers the tests run (receivers, MES and SAP simulators): a
    threaded server on 127.0.0.1 at a free port, used as a context manager.
    Subclasses build their request handler class and call ``_serve(handler_class)``."""

    def _serve(self, handler_class, server_class=ThreadingHTTPServer):
        self.server = server_class(("127.0.0.1", 0), handler_class)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class Receiver(LocalHttpServer):
    """A real HTTP server on 127.0.0.1 standing in for an MES/webhook endpoint.

    ``statuses`` is consumed one per request (the last one repeats); every request body
    and its headers are recorded in arrival order.
    """

    def __init__(self, statuses=(200,)):
        self.statuses = list(statuses)
        self.requests = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server API
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    parsed = json.loads(body or b"null")
                except ValueError:  # an XML body (B2MML)
                    parsed = None
                receiver.requests.append({"headers": dict(self.headers), "body": body,
                                          "json": parsed})
                status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 \
                    else receiver.statuses[0]
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}' if status < 400 else b'{"error": "refused"}')

            def do_GET(self):  # noqa: N802
                self.send_response(receiver.statuses[0])
                self.end_headers()

            def log_message(self, *args):
                pass

        self._serve(Handler)
        self.url = self.base_url + "/events"


class MfgTestCase(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.plant = cls.env.company
        cls.plant_b = cls.env["res.company"].create({"name": "Plant B"})
        cls.connector = cls.env["mfg.connector"].create({
            "name": "Edge test line", "code": "EDGE-T1", "connector_type": "edge",
            "company_id": cls.plant.id, "api_key": "s3cret-key", "auth_method": "api_key",
        })
        cls.connector_b = cls.env["mfg.connector"].create({
            "name": "Edge plant B", "code": "EDGE-B1", "connector_type": "edge",
            "company_id": cls.plant_b.id,
        })
        cls.flow_alarm = cls._flow("machine.alarm")
        cls.flow_scrap = cls._flow("production.scrap", ordering_key_field="order_ref")
        cls.flow_b = cls._flow("machine.alarm", connector=cls.connector_b)
        cls.user = new_test_user(cls.env, "mfg_user", groups="mfg_integration.group_mfg_user",
                                 company_ids=[(6, 0, cls.plant.ids)])
        cls.operator = new_test_user(cls.env, "mfg_operator",
                                     groups="mfg_integration.group_mfg_operator")
        cls.manager = new_test_user(cls.env, "mfg_manager",
                                    groups="mfg_integration.group_mfg_manager")
        cls.api_user = new_test_user(cls.env, "edge_api", groups="mfg_integration.group_mfg_ingest")
        cls.connector.ingest_user_ids = [(4, cls.api_user.id)]
        cls.user_b = new_test_user(cls.env, "mfg_user_b", groups="mfg_integration.group_mfg_user",
                                   company_id=cls.plant_b.id,
                                   company_ids=[(6, 0, cls.plant_b.ids)])
        cls.Message = cls.env["mfg.message"]

    @classmethod
    def _flow(cls, type_name, connector=None, **values):
        connector = connector or cls.connector
        return cls.env["mfg.flow"].create(dict({
            "name": f"{type_name} from {connector.code}", "connector_id": connector.id,
            "canonical_type": type_name, "backoff_jitter": False,
        }, **values))

    def message(self, key, source="EDGE-T1"):
        return self.Message.search([("source", "=", source), ("key", "=", key)])

    def pending_jobs(self, model="mfg.message", method="_job_process"):
        return self.env["queue.job"].search([
            ("model_name", "=", model), ("method_name", "=", method),
            ("state", "in", ("pending", "enqueued"))], order="id")

    def run_jobs(self, ignore_eta=False, model="mfg.message"):
        """Run the pending queue jobs of ``model`` synchronously, as the runner would.

        Jobs whose eta is in the future are left alone unless ``ignore_eta``: then the
        clock is moved to their eta (freezegun), which is how a test lets time pass for a
        retry without sleeping.
        """
        now = fields.Datetime.now()
        ran = 0
        for record in self.env["queue.job"].search([
                ("model_name", "=", model), ("state", "in", ("pending", "enqueued"))],
                order="priority, id"):
            if record.eta and record.eta > now and not ignore_eta:
                continue
            at = max(now, record.eta or now) + timedelta(seconds=1)
            with freeze_time(at):
                job = Job.load(self.env, record.uuid)
                job.set_started()
                job.perform()
                job.set_done()
                job.store()
            ran += 1
        return ran


class ScriptedPeer(LocalHttpServer):
    """A real HTTP peer whose answers come from ``respond(peer, method, path, headers,
    body) -> (status, headers, body)``; every request is recorded with its headers.

    Two of them on different ports are two different origins: the tests use one as the
    connector's peer and one as the "foreign" host that must never see a credential.
    """

    def __init__(self, respond=None):
        self.requests = []
        self.respond = respond or (lambda peer, method, path, headers, body: (200, {}, {}))
        peer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                peer.requests.append({"method": self.command, "path": self.path,
                                      "headers": dict(self.headers), "body": body})
                status, headers, out = peer.respond(peer, self.command, self.path,
                                                    dict(self.headers), body)
                raw = out if isinstance(out, bytes) else json.dumps(out).encode()
                self.send_response(status)
                headers = dict({"Content-Type": "application/json"}, **(headers or {}))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle  # noqa: N815

            def log_message(self, *args):
                pass

        self._serve(Handler)

    def credentials_seen(self):
        """Requests that carried any credential header."""
        names = {"authorization", "x-api-key", "cookie", "x-csrf-token"}
        return [request for request in self.requests
                if names & {name.lower() for name in request["headers"]}]
