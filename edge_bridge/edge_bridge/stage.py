"""The supervised thread every long-running stage is built on (aggregation worker, forwarder,
heartbeat, high-water watch).

A stage implements ``run()``: its loop, which returns once ``self.stopping`` is set. The base
runs it in a daemon thread and decides what a crash (an exception out of ``run``) means:

- ``restart_on_crash = True``: the crash is counted (``edge_stage_restarts_total{stage=...}``),
  logged with its traceback and ``run`` starts again after a short, growing pause. Right for a
  stage whose only state is on disk (the forwarder: the buffer) or in nothing at all;
- ``restart_on_crash = False``: the thread ends and keeps the error. Right for a stage whose
  memory cannot be trusted after a crash (the aggregation worker: what it took from the inbox
  is neither committed nor acknowledged); the runtime sees the dead stage and exits non-zero.

Either way ``status()`` gives /healthz the stage's liveness, restarts and last error, and every
stage has a fault point (``edge_bridge.faults``) at the start of each run, for the tests.
"""
import logging
import threading

from . import faults

log = logging.getLogger(__name__)


class Stage:
    restart_on_crash = False
    join_timeout_s = 5.0

    def __init__(self, name, metrics):
        self.name = name
        self.metrics = metrics
        self.stopping = threading.Event()
        self.restarts = 0
        self.error = None            # the exception of the last crash
        self._thread = threading.Thread(target=self._supervise, name=name, daemon=True)

    def run(self):
        raise NotImplementedError

    def start(self):
        self._thread.start()

    def alive(self):
        return self._thread.is_alive()

    def stop(self, timeout=None):
        self.stopping.set()
        self.wake()
        self._thread.join(self.join_timeout_s if timeout is None else timeout)

    def wake(self):
        """Interrupt a wait of the loop at once (stages that wait on their own event override it)."""

    @property
    def last_crash(self):
        return f"{type(self.error).__name__}: {self.error}"[:500] if self.error else None

    def status(self):
        return {"alive": self.alive(), "restarts": self.restarts, "error": self.last_crash}

    def _supervise(self):
        # ``run`` is entered at least once, even when a stop came first: the worker's run is
        # what commits and acknowledges what was handed over before the stop.
        while True:
            try:
                faults.point(self.name)
                self.run()
                return
            except Exception as exc:        # whatever it is, the stage's own policy decides, below
                self.error = exc
                if not self.restart_on_crash:
                    log.exception("%s stage stopped by an error", self.name, extra={"stage": self.name})
                    return
                self.restarts += 1
                self.metrics.stage_restarts.labels(self.name).inc()
                log.exception("%s stage crashed; restarting it", self.name,
                              extra={"stage": self.name, "restarts": self.restarts})
                if self.stopping.wait(min(30.0, 0.1 * 2 ** min(self.restarts, 8))):
                    return
