"""Heartbeat to Odoo: ``mfg.connector.edge_heartbeat`` with version and buffer figures.

It runs in its own thread on its own HTTP session, so a slow or failing heartbeat never delays
a delivery; failures are counted and logged, nothing else.
"""
import logging
import threading
from datetime import datetime, timezone

from . import __version__

log = logging.getLogger(__name__)


class Heartbeat:
    def __init__(self, transport, device_code, outbox, interval_s, metrics):
        self.transport = transport
        self.device_code = device_code
        self.outbox = outbox
        self.interval_s = interval_s
        self.metrics = metrics
        self.last_ok_at = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def start(self):
        self._thread.start()

    def alive(self):
        return self._thread.is_alive()

    def stop(self):
        self._stop.set()
        self._thread.join(5)

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

    def _run(self):
        while not self._stop.is_set():
            self.beat()
            self._stop.wait(self.interval_s)
