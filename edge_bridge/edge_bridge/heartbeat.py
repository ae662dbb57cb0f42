"""Heartbeat to Odoo: ``mfg.connector.edge_heartbeat`` with version and buffer figures.

It runs in its own thread on its own HTTP session, so a slow or failing heartbeat never delays
a delivery; failures are counted and logged, nothing else.
"""
import logging
from datetime import datetime, timezone

from . import __version__
from .stage import Stage

log = logging.getLogger(__name__)


class Heartbeat(Stage):
    restart_on_crash = True      # it holds no state; beat() already swallows the call's failures

    def __init__(self, transport, device_code, outbox, interval_s, metrics):
        super().__init__("heartbeat", metrics)
        self.transport = transport
        self.device_code = device_code
        self.outbox = outbox
        self.interval_s = interval_s
        self.last_ok_at = None

    def payload(self):
        status = self.outbox.status()
        oldest = status["oldest_pending_at"]
        return {"code": self.device_code, "version": __version__, "buffer_depth": status["pending"],
                "oldest_pending": datetime.fromtimestamp(oldest, timezone.utc).isoformat() if oldest else None,
                "rejected_count": status["rejected"]}

    def beat(self):
        try:
            self.transport.call("mfg.connector", "edge_heartbeat", **self.payload())
            self.last_ok_at = datetime.now(timezone.utc)
        except Exception as exc:   # whatever happens here must not reach the delivery path
            self.metrics.heartbeat_failures.inc()
            log.warning("heartbeat failed", extra={"error": str(exc)})

    def run(self):
        while not self.stopping.is_set():
            self.beat()
            self.stopping.wait(self.interval_s)
