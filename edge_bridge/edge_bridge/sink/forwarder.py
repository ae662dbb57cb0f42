"""Forwarder: moves pending envelopes from the buffer into Odoo, batch by batch.

A batch leaves when ``batch_size`` events are pending, when the oldest has waited
``batch_max_age_s``, or at once when a critical event (alarm, critical stop) is pending. Rows are
marked delivered only after Odoo answered; a lost answer (timeout) means resending the same keys,
which Odoo counts as duplicates - delivered. Failures never drop data: transient ones back off
exponentially with jitter (or by Retry-After), configuration/auth errors are logged loudly and
retried slowly until an operator fixes them.

One envelope must never hold up the rest: when Odoo refuses a batch as a whole for a reason that
may be its content (400/413/422 at once, a 500 when the very same error comes back on the retry),
the batch is split in halves until the refused envelope stands alone. A lone envelope is
dead-lettered with Odoo's reason only after an empty ingest call proved Odoo healthy, so an Odoo
that fails every request (database down...) never empties the buffer into the dead letter.
Transient errors (connection, timeouts, 408/429/502/503/504) keep retrying the whole batch.
"""
import logging
import random
import threading
import time

from ..stage import Stage
from .odoo import PermanentError, PushError, refuses_content

log = logging.getLogger(__name__)


class Forwarder(Stage):
    # The buffer is its only state, so a restart after an unexpected error (a bug) loses nothing;
    # the count and the last error show in /healthz.
    restart_on_crash = True

    def __init__(self, outbox, transport, sink_config, buffer_config, metrics):
        super().__init__("forwarder", metrics)
        self.join_timeout_s = sink_config.timeout_s + 5
        self.outbox = outbox
        self.transport = transport
        self.config = sink_config
        self.retention_s = buffer_config.retention_s
        self._wake = threading.Event()
        self._urgent = False
        self.failures = 0            # consecutive failed pushes
        self.last_error = None
        self.last_success_at = outbox.meta("last_push_at")
        self._last_logged_error = None
        self._last_refusal = None    # (first row id, error text) of the last content refusal
        self.isolations = 0
        self._next_prune = 0.0

    def notify(self, critical=False):
        if critical:
            self._urgent = True
        self._wake.set()

    def wake(self):
        self._wake.set()

    @property
    def lagging(self):
        return self.failures > 0

    # -- loop ---------------------------------------------------------------------------------
    def _ready(self):
        pending = self.outbox.pending_count()
        if pending <= 0:
            return False, 1.0
        if pending >= self.config.batch_size or self._urgent:
            return True, 0
        oldest = self.outbox.oldest_pending_at()
        if oldest is None:
            return False, 1.0
        age = time.time() - oldest
        if age >= self.config.batch_max_age_s:
            return True, 0
        return False, self.config.batch_max_age_s - age

    def run(self):
        while not self.stopping.is_set():
            ready, wait = self._ready()
            if not ready:
                self._wake.wait(min(wait, 1.0))
                self._wake.clear()
                self._maybe_prune()
                continue
            self._urgent = False
            outcome = self.push_once()
            if outcome is not True:
                self.stopping.wait(self._backoff(outcome))

    def _backoff(self, error):
        if error.retry_after is not None:
            return min(error.retry_after, self.config.backoff_max_s)
        ceiling = min(self.config.backoff_max_s, self.config.backoff_initial_s * 2 ** min(self.failures - 1, 20))
        # Jitter spreads the retries of many edge devices after an Odoo restart.
        return random.uniform(ceiling / 2, ceiling)

    def _maybe_prune(self):
        now = time.time()
        if now >= self._next_prune:
            self._next_prune = now + 60
            pruned = self.outbox.prune_delivered(self.retention_s)
            if pruned:
                log.info("pruned delivered events", extra={"rows": pruned})

    def push_once(self):
        """Push one batch. Returns True, or the PushError when it failed (data stays pending)."""
        rows = self.outbox.fetch_pending(self.config.batch_size)
        if not rows:
            return True
        started = time.perf_counter()
        try:
            answer = self.transport.ingest([row.body for row in rows])
        except PushError as exc:
            if refuses_content(exc):
                refusal = (rows[0].id, str(exc))
                # 4xx about the content is deterministic; a 500 is isolated only when it repeats.
                if exc.status != 500 or refusal == self._last_refusal:
                    self._last_refusal = None
                    return self._isolate(rows, exc)
                self._last_refusal = refusal
            self.failures += 1
            self.last_error = str(exc)
            kind = "permanent" if isinstance(exc, PermanentError) else "transient"
            self.metrics.push_retries.labels(kind).inc()
            if kind == "permanent":
                if str(exc) != self._last_logged_error:
                    log.error("Odoo refuses the batch; keeping the data and retrying slowly - fix the sink "
                              "configuration or the user's access", extra={"error": str(exc), "rows": len(rows)})
                self._last_logged_error = str(exc)
                exc.retry_after = exc.retry_after or self.config.backoff_max_s
            else:
                log.warning("push failed, will retry", extra={"error": str(exc), "rows": len(rows),
                                                              "attempt": self.failures})
            return exc
        self.metrics.push_latency.observe(time.perf_counter() - started)
        self._recorded(rows, answer)
        self._last_refusal = None
        self.metrics.buffer_depth.set(self.outbox.pending_count())
        return True

    def _recorded(self, rows, answer):
        self.outbox.record_result(rows, answer["rejected"])
        self.failures = 0
        self.last_error = None
        self._last_logged_error = None
        self.last_success_at = time.time()
        self.metrics.delivered.inc(answer["accepted"])
        self.metrics.duplicates_out.inc(answer["duplicates"])
        if answer["rejected"]:
            self.metrics.rejected.inc(len(answer["rejected"]))
            for item in answer["rejected"][:5]:
                log.warning("Odoo rejected an event (dead-lettered)", extra={"key": item.get("key"),
                                                                             "error": item.get("error")})

    def _isolate(self, rows, first_error):
        """Split a refused batch until the refused envelopes stand alone; deliver the rest.

        Returns True when every row got its outcome, or the PushError that interrupted it
        (transient, or Odoo not healthy); what was delivered so far stays delivered.
        """
        self.isolations += 1
        log.warning("Odoo refuses the batch as a whole; splitting it to isolate the refused envelope(s)",
                    extra={"error": str(first_error), "rows": len(rows)})
        parts = [rows[:len(rows) // 2], rows[len(rows) // 2:]] if len(rows) > 1 else [rows]
        while parts:
            part = parts.pop(0)
            try:
                answer = self.transport.ingest([row.body for row in part])
            except PushError as exc:
                if not refuses_content(exc):
                    return self._failed(exc, part)
                if len(part) > 1:
                    parts[0:0] = [part[:len(part) // 2], part[len(part) // 2:]]
                    continue
                if not self._odoo_healthy():
                    return self._failed(exc, part)
                reason = f"Odoo refused this envelope alone: {exc}"
                self.outbox.record_result(part, [{"index": 0, "key": part[0].key, "error": reason}])
                self.metrics.rejected.inc()
                log.error("Odoo refuses one envelope; moved to the dead letter, the rest goes on",
                          extra={"key": part[0].key, "error": str(exc)})
                continue
            self._recorded(part, answer)
        self.metrics.buffer_depth.set(self.outbox.pending_count())
        return True

    def _odoo_healthy(self):
        """An empty ingest call: Odoo answers it only when it works at all."""
        try:
            self.transport.ingest([])
            return True
        except PushError:
            return False

    def _failed(self, exc, rows):
        self.failures += 1
        self.last_error = str(exc)
        self.metrics.push_retries.labels("permanent" if isinstance(exc, PermanentError) else "transient").inc()
        log.warning("push failed while isolating a refused envelope, will retry",
                    extra={"error": str(exc), "rows": len(rows), "attempt": self.failures})
        if isinstance(exc, PermanentError) and not refuses_content(exc):
            exc.retry_after = exc.retry_after or self.config.backoff_max_s
        self.metrics.buffer_depth.set(self.outbox.pending_count())
        return exc

    def drain(self, deadline):
        """Final pushes at shutdown: until nothing is pending, a push fails, or ``deadline``."""
        while self.outbox.pending_count() > 0 and time.time() < deadline:
            try:
                if self.push_once() is not True:
                    return False
            except Exception:              # noqa: BLE001 - shutdown must finish; the data stays pending
                log.exception("final push failed unexpectedly; pending events stay in the buffer")
                return False
        return self.outbox.pending_count() == 0
