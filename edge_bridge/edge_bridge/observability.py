"""Metrics (Prometheus), ``/healthz`` and structured JSON logs.

Each bridge instance owns its own ``CollectorRegistry`` so several can live in one process
(tests, benchmark) without clashing on metric names.
"""
import json
import logging
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST


class Metrics:
    def __init__(self):
        self.registry = registry = CollectorRegistry()
        self.messages_in = Counter("edge_messages_in", "Raw readings received", ["source"], registry=registry)
        self.messages_rejected_in = Counter("edge_messages_rejected_in",
                                            "Raw inputs that were malformed or unmapped (dead-lettered)",
                                            ["source"], registry=registry)
        # Why each input or emitted envelope was dead-lettered before reaching the buffer
        # ("not a finite number", "malformed input", "invalid envelope", ...); a short, fixed set.
        self.readings_rejected = Counter("edge_readings_rejected", "Readings and emitted envelopes dead-lettered "
                                         "at intake, by reason", ["reason"], registry=registry)
        self.dead_letters_dropped = Counter("edge_dead_letters_dropped", "Oldest dead letters dropped to keep "
                                            "the dead letter within buffer.dead_letter_max", registry=registry)
        self.stage_restarts = Counter("edge_stage_restarts", "Supervised restarts of a stage thread after a crash",
                                      ["stage"], registry=registry)
        self.duplicates_in = Counter("edge_input_duplicates", "Redelivered readings skipped by sequence",
                                     registry=registry)
        self.events_out = Counter("edge_events_emitted", "Envelopes produced by aggregation", ["type"],
                                  registry=registry)
        self.windows_closed = Counter("edge_aggregation_windows_closed", "Aggregation windows closed",
                                      registry=registry)
        self.windows_open = Gauge("edge_aggregation_windows_open", "Aggregation windows open", registry=registry)
        self.buffer_depth = Gauge("edge_buffer_pending", "Envelopes waiting for delivery", registry=registry)
        self.buffer_bytes = Gauge("edge_buffer_bytes", "Bytes used by the buffer database", registry=registry)
        self.buffer_high_water = Gauge("edge_buffer_high_water", "1 while the buffer is above its high-water mark",
                                       registry=registry)
        self.delivered = Counter("edge_events_delivered", "Envelopes Odoo accepted", registry=registry)
        self.duplicates_out = Counter("edge_events_duplicate", "Envelopes Odoo already had (delivered)",
                                      registry=registry)
        self.rejected = Counter("edge_events_rejected", "Envelopes Odoo rejected (dead-lettered)", registry=registry)
        self.push_latency = Histogram("edge_push_seconds", "Duration of one ingest call", registry=registry,
                                      buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
        self.push_retries = Counter("edge_push_retries", "Failed ingest calls that will be retried", ["kind"],
                                    registry=registry)
        self.heartbeat_failures = Counter("edge_heartbeat_failures", "Heartbeats that failed", registry=registry)
        self.source_connected = Gauge("edge_source_connected", "1 when the source is connected", ["source"],
                                      registry=registry)
        self.backpressure = Gauge("edge_backpressure", "1 while sources are held back", registry=registry)
        # The return path (Odoo -> plant).
        self.return_path_fetched = Counter("edge_return_fetched", "Messages Odoo handed to the bridge",
                                           registry=registry)
        self.return_path_done = Counter("edge_return_finished", "Return-path messages delivered or refused, by "
                                        "target", ["target", "state"], registry=registry)
        self.return_path_unavailable = Counter("edge_return_target_unavailable", "Delivery attempts that found "
                                               "the target unavailable", ["target"], registry=registry)
        self.return_path_failures = Counter("edge_return_odoo_failures", "Failed fetch/report calls to Odoo",
                                            registry=registry)


class HealthServer:
    """Serves /metrics and /healthz on 127.0.0.1 (configurable) in a daemon thread."""

    def __init__(self, host, port, metrics, health_check):
        metrics_registry = metrics.registry

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path.startswith("/metrics"):
                    body, status, kind = generate_latest(metrics_registry), 200, CONTENT_TYPE_LATEST
                elif self.path.startswith("/healthz"):
                    healthy, detail = health_check()
                    body, status, kind = json.dumps(detail).encode(), 200 if healthy else 503, "application/json"
                else:
                    body, status, kind = b"not found\n", 404, "text/plain"
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass   # scrapes every few seconds would drown the real log

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, name="health-http", daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class JsonFormatter(logging.Formatter):
    _STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}

    def format(self, record):
        entry = {"ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
                 "level": record.levelname, "logger": record.name, "msg": record.getMessage()}
        entry.update({k: v for k, v in vars(record).items() if k not in self._STANDARD})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def setup_logging(log_format="json", level="INFO"):
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json"
                         else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # asyncua logs every reconnect attempt at INFO/WARNING with tracebacks; ours are enough.
    logging.getLogger("asyncua").setLevel(logging.ERROR)
