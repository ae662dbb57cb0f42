"""Wires the stages together and runs them until SIGTERM/SIGINT.

sources -> Inbox -> AggregationWorker (aggregate + buffer commit + ack) -> Outbox -> Forwarder -> Odoo
plus Heartbeat, HighWaterWatch and the /healthz + /metrics server. Worker, forwarder, heartbeat
and watch are supervised stage threads (stage.py); sources come from the registry (sources/).
Shutdown order is what makes it lossless:
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
from .returnpath import CommandStore, ReturnPath
from .sink.forwarder import Forwarder
from .sink.odoo import make_transport
from .sources import build_source
from .sources.inbox import Inbox
from .targets import target_types

log = logging.getLogger(__name__)

# Exit status when a stage that cannot be restarted in place died: non-zero, so systemd
# (Restart=on-failure) starts a fresh process, which resumes from the buffer and the broker.
EXIT_STAGE_DIED = 70


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
        self.factory = EnvelopeFactory(config.device_code, config.plant, validate=False,
                                       schema_version=config.schema_version)
        self.aggregator = Aggregator(config.assets, config.aggregation.window_s, config.aggregation.grace_s,
                                     self.factory, self.outbox.load_states())
        self.inbox = Inbox()
        self.forwarder = Forwarder(self.outbox, make_transport(config.sink, __version__), config.sink,
                                   config.buffer, self.metrics)
        self.worker = AggregationWorker(self.inbox, self.aggregator, self.outbox, self.metrics, config.buffer,
                                        self.forwarder.notify)
        self.watch_stage = HighWaterWatch(self.outbox, config.buffer, self.factory, self.metrics,
                                          self.forwarder.notify)
        self.sources = [build_source(source, self.inbox, self.outbox, self.metrics) for source in config.sources]
        self.heartbeat = (Heartbeat(make_transport(config.sink, __version__), config.device_code, self.outbox,
                                    config.heartbeat.interval_s, self.metrics)
                          if config.heartbeat.enabled else None)
        self.return_path = self._return_path(config)
        self.health = (HealthServer(config.observability.host, config.observability.port, self.metrics,
                                    self.health_check) if serve_http else None)
        self._stopped = threading.Event()
        self._started = False

    def _return_path(self, config):
        """The return path stage (Odoo -> plant), when the configuration routes any type."""
        if config.return_path is None:
            return None
        targets = {target.name: target_types()[target.type](target.name, target.settings)
                   for target in config.targets}
        store = CommandStore(config.buffer.path, synchronous=config.buffer.synchronous)
        return ReturnPath(config.return_path, config.device_code, make_transport(config.sink, __version__), store,
                          targets, self.metrics)

    def _stage_threads(self):
        return [self.worker, self.forwarder, self.watch_stage] + ([self.heartbeat] if self.heartbeat else []) \
            + ([self.return_path] if self.return_path else [])

    def stages(self):
        """Every stage thread: alive?, supervised restarts, last error. /healthz shows this."""
        stages = {stage.name: stage.status() for stage in self._stage_threads()}
        for source in self.sources:
            thread = getattr(source, "_thread", None)
            if thread is not None:
                stages[f"source:{source.name}"] = {"alive": thread.is_alive(), "restarts": 0, "error": None}
        return stages

    def dead_stages(self):
        """Names of stage threads that died (only once started, and not while stopping)."""
        if not self._started or self._stopped.is_set():
            return []
        return [name for name, stage in self.stages().items() if not stage["alive"]]

    def health_check(self):
        stages = self.stages()
        dead = self.dead_stages()
        status = {
            "worker": stages["worker"]["alive"], "forwarder": stages["forwarder"]["alive"],
            "stages": stages, "failed_stages": dead,
            "sources": {source.name: source.connected for source in self.sources},
            "buffer_pending": self.outbox.pending_count(), "sink_failures": self.forwarder.failures,
            "sink_last_error": self.forwarder.last_error, "backpressure": self.worker.holding_back,
            "dead_letters_dropped": self.outbox.dead_letters_dropped,
        }
        return not dead, status

    def start(self):
        self.metrics.buffer_depth.set(self.outbox.pending_count())
        if self.health:
            self.health.start()
        for stage in self._stage_threads():
            stage.start()
        for source in self.sources:
            source.start()
        self._started = True
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
        for stage in self._stage_threads()[1:]:
            stage.stop()
        drained = self.forwarder.drain(time.time() + push_deadline_s)
        log.info("edge bridge stopped", extra={"pending": self.outbox.pending_count(), "drained": drained})
        if self.health:
            self.health.stop()
        if self.return_path:         # after /healthz, which reads the command store
            for target in self.return_path.targets.values():
                target.close()
            self.return_path.store.close()
        self.outbox.close()

    def watch(self, stop_requested, interval_s=1.0):
        """Until a stop is requested (returns 0) or a stage died (returns EXIT_STAGE_DIED).

        The forwarder restarts itself; the aggregation worker is not restarted in place (what
        it had taken from the inbox is neither committed nor acknowledged), so the process
        exits non-zero and the service manager starts it afresh.
        """
        while not stop_requested.wait(interval_s):
            dead = self.dead_stages()
            if dead:
                log.error("stage thread died; stopping so the service manager restarts us",
                          extra={"stages": dead, "detail": {name: self.stages()[name]["error"] for name in dead}})
                return EXIT_STAGE_DIED
        return 0

    def run_forever(self):
        """Run until SIGTERM/SIGINT (returns 0) or until a stage dies (returns non-zero)."""
        stop_requested = threading.Event()

        def request_stop(signum, frame):
            stop_requested.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        self.start()
        code = self.watch(stop_requested)
        self.stop()
        return code
