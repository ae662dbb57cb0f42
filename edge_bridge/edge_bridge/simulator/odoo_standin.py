"""A stand-in for Odoo's ingest contract (docs/ingest-api.md), for tests, demos and benchmarks.

Implements ``mfg.message.ingest`` over JSON-2 and /jsonrpc with (source, key) dedup and schema
validation through mfg_canonical, plus ``mfg.connector.edge_heartbeat``. It is not Odoo: it
stores in memory and applies nothing. Faults can be injected: answer with given HTTP statuses,
answer slowly (so the client times out after the batch was stored), or reject chosen envelopes.
"""
import gzip
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from mfg_canonical import EnvelopeError, validate_envelope

MAX_BATCH = 10000


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class OdooStandIn:
    def __init__(self, port=0, api_key="test-key", db="edge", reject_if=None, refuse_batch_if=None):
        self.api_key, self.db, self.requested_port = api_key, db, port
        self.reject_if = reject_if               # callable(envelope) -> error text or None
        # callable(envelope) -> (HTTP status, message) or None: the whole batch holding such an
        # envelope is refused with that status, as Odoo does when one value breaks the request.
        self.refuse_batch_if = refuse_batch_if
        self.refused_batches = 0
        self.lock = threading.Lock()
        self.events = {}                         # (source, key) -> envelope
        self.arrivals = {}                       # (source, key) -> time.time() when stored
        self.heartbeats = []
        self.ingest_calls = 0
        self.batch_sizes = []
        self.duplicates = 0
        self.rejected = 0
        self.fail_statuses = []                  # statuses to answer next, one per call
        self.delay_s = 0.0
        self.server = None
        self.port = port
        # The return path (Odoo -> plant), as mfg.connector.edge_fetch / edge_report do it.
        self.outbound = {}                       # id -> {"envelope", "state", "detail", "reports"}
        self.fetch_calls = 0
        self.report_calls = 0

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; with Nagle on, the body waits for the
            # client's delayed ACK (~40 ms per call) and every figure would measure that.
            disable_nagle_algorithm = True

            def do_POST(self):
                standin._handle(self)

            def log_message(self, *args):
                pass

        self.server = _Server(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True, name="odoo-standin").start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    # -- what tests look at -------------------------------------------------------------------
    def envelopes(self, type_name=None):
        with self.lock:
            return [e for e in self.events.values() if type_name is None or e["type"] == type_name]

    def count(self):
        with self.lock:
            return len(self.events)

    # -- contract -----------------------------------------------------------------------------
    def ingest(self, envelopes):
        if not isinstance(envelopes, list):
            raise ValueError("envelopes must be a list")
        if len(envelopes) > MAX_BATCH:
            raise ValueError(f"batch of {len(envelopes)} envelopes exceeds the maximum of {MAX_BATCH}")
        accepted = duplicates = 0
        rejected = []
        now = time.time()
        with self.lock:
            self.ingest_calls += 1
            self.batch_sizes.append(len(envelopes))
            for index, envelope in enumerate(envelopes):
                try:
                    validate_envelope(envelope)
                    problem = self.reject_if(envelope) if self.reject_if else None
                    if problem:
                        raise EnvelopeError(problem)
                except EnvelopeError as exc:
                    key = envelope.get("key") if isinstance(envelope, dict) else None
                    rejected.append({"index": index, "key": key, "error": str(exc)})
                    continue
                ident = (envelope["source"], envelope["key"])
                if ident in self.events:
                    duplicates += 1
                    continue
                self.events[ident] = envelope
                self.arrivals[ident] = now
                accepted += 1
            self.duplicates += duplicates
            self.rejected += len(rejected)
        return {"accepted": accepted, "duplicates": duplicates, "rejected": rejected}

    def edge_heartbeat(self, **kwargs):
        with self.lock:
            self.heartbeats.append(kwargs)
        return True

    def queue_outbound(self, envelopes):
        """Put envelopes in the outbox of the edge device; returns their ids."""
        with self.lock:
            ids = []
            for envelope in envelopes:
                message_id = len(self.outbound) + 1
                self.outbound[message_id] = {"envelope": envelope, "state": "waiting", "detail": None,
                                             "reports": 0}
                ids.append(message_id)
            return ids

    def cancel_outbound(self, message_id):
        """An operator cancels a message in Odoo (only one not handed over yet changes)."""
        with self.lock:
            row = self.outbound[message_id]
            if row["state"] == "waiting":
                row["state"] = "cancelled"

    def outbound_states(self):
        with self.lock:
            return {message_id: dict(row) for message_id, row in self.outbound.items()}

    def edge_fetch(self, code, ack=None, limit=500):
        if not isinstance(ack or [], list) or type(limit) is not int or not 1 <= limit <= 5000:
            raise ValueError("ack must be a list and limit an integer from 1 to 5000")
        with self.lock:
            self.fetch_calls += 1
            handed = 0
            withdrawn = []
            for message_id in ack or []:
                row = self.outbound.get(message_id)
                if row and row["state"] == "waiting":
                    row["state"], handed = "handed", handed + 1
                elif row and row["state"] == "cancelled":
                    withdrawn.append(message_id)
            waiting = [message_id for message_id, row in self.outbound.items() if row["state"] == "waiting"]
            return {"messages": [{"id": i, "envelope": self.outbound[i]["envelope"]} for i in waiting[:limit]],
                    "handed_over": handed, "withdrawn": withdrawn, "more": len(waiting) > limit}

    def edge_report(self, code, results):
        if not isinstance(results, list):
            raise ValueError("results must be a list")
        answer = {"done": 0, "exception": 0, "already": 0, "refused": []}
        with self.lock:
            self.report_calls += 1
            for index, item in enumerate(results):
                row = self.outbound.get(item.get("id")) if isinstance(item, dict) else None
                if row is None or type(item.get("ok")) is not bool:
                    answer["refused"].append({"index": index, "reason": "not understood"})
                    continue
                row["reports"] += 1
                if row["state"] not in ("waiting", "handed"):
                    answer["already"] += 1
                    continue
                row["state"] = "done" if item["ok"] else "exception"
                row["detail"] = item.get("detail")
                answer["done" if item["ok"] else "exception"] += 1
        return answer

    # -- HTTP ---------------------------------------------------------------------------------
    def _reply(self, handler, status, body):
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        if status == 429:
            handler.send_header("Retry-After", "0.2")
        handler.end_headers()
        handler.wfile.write(data)

    def _handle(self, handler):
        raw = handler.rfile.read(int(handler.headers.get("Content-Length", 0)))
        with self.lock:
            forced = self.fail_statuses.pop(0) if self.fail_statuses else None
        if forced:
            return self._reply(handler, forced, {"error": f"injected HTTP {forced}"})
        if handler.headers.get("Content-Encoding") == "gzip":
            raw = gzip.decompress(raw)
        try:
            body = json.loads(raw)
        except ValueError:
            return self._reply(handler, 400, {"error": "malformed JSON"})
        if handler.path == "/jsonrpc":
            result = self._jsonrpc(body)
        elif handler.path.startswith("/json/2/"):
            if handler.headers.get("Authorization", "") != f"bearer {self.api_key}":
                return self._reply(handler, 401, {"error": "invalid API key"})
            model, _, method = handler.path[len("/json/2/"):].partition("/")
            try:
                if (model, method) == ("mfg.message", "ingest"):
                    refusal = self._batch_refusal(body.get("envelopes"))
                    if refusal:
                        return self._reply(handler, refusal[0], {"name": "injected", "message": refusal[1]})
                    result = self.ingest(body.get("envelopes"))
                elif (model, method) == ("mfg.connector", "edge_heartbeat"):
                    result = self.edge_heartbeat(**body)
                elif (model, method) == ("mfg.connector", "edge_fetch"):
                    result = self.edge_fetch(**body)
                elif (model, method) == ("mfg.connector", "edge_report"):
                    result = self.edge_report(**body)
                else:
                    return self._reply(handler, 404, {"error": f"no method {model}.{method}"})
            except (ValueError, TypeError) as exc:
                return self._reply(handler, 422, {"error": str(exc)})
        else:
            return self._reply(handler, 404, {"error": "not found"})
        if self.delay_s:
            time.sleep(self.delay_s)     # stored already: a client timeout now loses only the answer
        self._reply(handler, 200, result)

    def _batch_refusal(self, envelopes):
        if not self.refuse_batch_if or not isinstance(envelopes, list):
            return None
        for envelope in envelopes:
            refusal = self.refuse_batch_if(envelope)
            if refusal:
                with self.lock:
                    self.refused_batches += 1
                return refusal
        return None

    def _jsonrpc(self, body):
        params = body.get("params", {})
        args = params.get("args", [])
        answer = {"jsonrpc": "2.0", "id": body.get("id")}
        if params.get("service") == "common" and params.get("method") in ("login", "authenticate"):
            answer["result"] = 2 if args[1:3] and args[2] == self.api_key else False
            return answer
        if params.get("service") == "object" and params.get("method") == "execute_kw":
            db, uid, key, model, method = args[:5]
            kwargs = args[6] if len(args) > 6 else {}
            if key != self.api_key:
                answer["error"] = {"message": "Access Denied", "data": {"name": "odoo.exceptions.AccessDenied",
                                                                        "message": "Access Denied"}}
            elif (model, method) == ("mfg.message", "ingest"):
                answer["result"] = self.ingest(kwargs.get("envelopes"))
            elif (model, method) == ("mfg.connector", "edge_heartbeat"):
                answer["result"] = self.edge_heartbeat(**kwargs)
            elif (model, method) == ("mfg.raw", "push"):        # the naive bridge of the benchmark
                with self.lock:
                    self.ingest_calls += 1
                    self.events[("raw", str(len(self.events)))] = kwargs
                answer["result"] = True
            else:
                answer["error"] = {"message": f"no method {model}.{method}", "data": {}}
            return answer
        answer["error"] = {"message": "unknown service", "data": {}}
        return answer
