"""Wires the stages together and runs them until SIGTERM/SIGINT.

sources -> Inbox -> AggregationWorker (aggregate + buffer commit + ack) -> Outbox -> Forwarder -> Odoo
plus Heartbeat and the /healthz + /metrics server. Shutdown order is what makes it lossless:
stop intake at the sources, let the worker commit and acknowledge what was handed over and flush
closable windows, close the sources, try a final push within a deadline, close the database.
Whatever is not delivered by then stays pending on disk for the next start.
"""
import logging
import signal
import threading
import time
from pathlib import Path

from . import __version__
from .aggregate import Aggregator
from .buffer import Outbox
from .buffer.watermark import HighWaterWatch
from .envelopes import EnvelopeFactory
from .heartbeat import Heartbeat
from .intake import AggregationWorker
from .observability import HealthServer, Metrics
from .sink.forwarder import Forwarder
from .sink.odoo import make_transport
from .sources import build_source
from .sources.inbox import Inbox

log = logging.getLogger(__name__)


def open_outbox(config):
    Path(config.buffer.path).parent.mkdir(parents=True, exist_ok=True)
    return Outbox(config.buffer.path, max_bytes=config.buffer.max_bytes, on_full=config.buffer.on_full,
                  synchronous=config.buffer.synchronous, high_water=config.buffer.high_water,
                  dead_letter_max=config.buffer.dead_letter_max)


class Bridge:
    def __init__(self, config, serve_http=True):
        self.config = config
        self.metrics = Metrics()
        self.outbox = open_outbox(config)
        self.outbox.on_dead_letters_dropped = self.metrics.dead_letters_dropped.inc
        # The worker validates every emitted envelope and dead-letters failures one by one; the
        # factory raising mid-aggregation would leave a half-applied reading instead.
        self.factory = EnvelopeFactory(config.device_code, config.plant, validate=False)
        self.aggregator = Aggregator(config.assets, config.aggregation.window_s, config.aggregation.grace_s,
                                     self.factory, self.outbox.load_states())
        self.inbox = Inbox()
        self.forwarder = Forwarder(self.outbox, make_transport(config.sink, __version__), config.sink,
                                   config.buffer, self.metrics)
        self.worker = AggregationWorker(
            self.inbox, self.aggregator, self.outbox,
            HighWaterWatch(self.outbox, config.buffer, self.factory, self.metrics), self.metrics,
            config.buffer, self.forwarder.notify)
        self.sources = [build_source(source, self.inbox, self.outbox, self.metrics) for source in config.sources]
        self.heartbeat = (Heartbeat(make_transport(config.sink, __version__), config.device_code, self.outbox,
                                    config.heartbeat.interval_s, self.metrics)
                          if config.heartbeat.enabled else None)
        self.health = (HealthServer(config.observability.host, config.observability.port, self.metrics,
                                    self.health_check) if serve_http else None)
        self._stopped = threading.Event()

    def health_check(self):
        status = {
            "worker": self.worker.alive(), "forwarder": self.forwarder.alive(),
            "sources": {source.name: source.connected for source in self.sources},
            "buffer_pending": self.outbox.pending_count(), "sink_failures": self.forwarder.failures,
            "sink_last_error": self.forwarder.last_error, "backpressure": self.worker.holding_back,
        }
        return status["worker"] and status["forwarder"], status

    def start(self):
        self.metrics.buffer_depth.set(self.outbox.pending_count())
        if self.health:
            self.health.start()
        self.worker.start()
        self.forwarder.start()
        if self.heartbeat:
            self.heartbeat.start()
        for source in self.sources:
            source.start()
        log.info("edge bridge started", extra={"device": self.config.device_code, "version": __version__,
                                               "pending": self.outbox.pending_count(),
                                               "health_port": self.health.port if self.health else None})

    def stop(self, push_deadline_s=10.0):
        if self._stopped.is_set():
            return
        self._stopped.set()
        log.info("edge bridge stopping")
        for source in self.sources:
            source.stop_intake()
        self.worker.stop()          # commits + acknowledges what was handed over, flushes windows
        for source in self.sources:
            source.close()
        self.forwarder.stop()
        if self.heartbeat:
            self.heartbeat.stop()
        drained = self.forwarder.drain(time.time() + push_deadline_s)
        log.info("edge bridge stopped", extra={"pending": self.outbox.pending_count(), "drained": drained})
        if self.health:
            self.health.stop()
        self.outbox.close()

    def run_forever(self):
        stop_requested = threading.Event()

        def request_stop(signum, frame):
            stop_requested.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        self.start()
        while not stop_requested.wait(1.0):
            if not self.worker.alive():
                log.error("aggregation worker died; stopping so the service manager restarts us")
                break
        self.stop()
