"""The aggregation worker: inbox -> aggregation -> one buffer transaction -> acknowledgements.

This is the only thread that changes aggregation state, so the state needs no locks. Each loop
takes what the sources handed over, runs it through the aggregator, and commits the resulting
events together with the changed state, checkpoints and input dead letters. Only then are the
sources acknowledged. If the commit fails the in-memory state is reloaded from the database and
the same batch is tried again, so memory never runs ahead of disk.
"""
import json
import logging
import math
import sqlite3
import time

from mfg_canonical import EnvelopeError, find_bad_value, validate_envelope

from .aggregate import SignalRejected, is_critical
from .stage import Stage

log = logging.getLogger(__name__)


def _describe(signal):
    value = signal.value
    if isinstance(value, float) and not math.isfinite(value):
        value = repr(value)            # keep the dead letter valid JSON: "nan", "inf"
    try:
        return json.dumps({"asset": signal.asset, "tag": signal.tag, "value": value,
                           "timestamp": signal.timestamp.isoformat(), "sequence": signal.sequence}, default=str)
    except (ValueError, RecursionError):
        return repr(signal)[:4000]


def _bad_reading(signal):
    """(reason text, metric reason) when the reading's value breaks a canonical value rule.

    The rules are mfg_canonical's (the same ones Odoo applies to envelopes), checked per reading
    so that one NaN from a faulty sensor is dead-lettered here instead of poisoning the window
    average that would then make Odoo refuse the whole batch.
    """
    bad = find_bad_value(signal.value, path=f"{signal.asset}.{signal.tag}")
    if bad is None:
        return None
    return f"{bad[0]}: {bad[1]}", bad[1]


def _dump_envelope(envelope):
    try:
        return json.dumps(envelope, default=str)[:4000]
    except (ValueError, RecursionError):
        return repr(envelope)[:4000]


class AggregationWorker(Stage):
    # Not restarted in place: after a crash, what it took from the inbox is neither committed nor
    # acknowledged and the aggregation state in memory may be half-applied. The runtime sees the
    # dead stage and exits non-zero; a fresh process resumes from the buffer and the broker.
    restart_on_crash = False
    join_timeout_s = 30.0

    def __init__(self, inbox, aggregator, outbox, metrics, buffer_config, on_committed,
                 max_batch=5000, idle_wait_s=0.02):
        super().__init__("worker", metrics)
        self.inbox = inbox
        self.aggregator = aggregator
        self.outbox = outbox
        self.buffer_config = buffer_config
        self.on_committed = on_committed        # callable(critical: bool) -> wakes the sink
        self.max_batch = max_batch
        self.idle_wait_s = idle_wait_s
        self.holding_back = False
        self.batches = 0

    def stop(self, timeout=None):
        """Process everything already handed over, flush closable windows, then return."""
        super().stop(timeout)

    # -- loop ---------------------------------------------------------------------------------
    def _has_room(self):
        if self.outbox.pending_count() >= self.buffer_config.max_pending:
            return False
        return self.outbox.make_room()

    def run(self):
        while True:
            if not self._has_room():
                self._hold_back()
                if self.stopping.is_set():
                    break
                continue
            deliveries = self.inbox.take(self.max_batch, self.idle_wait_s)
            if not deliveries and self.stopping.is_set() and self.inbox.empty():
                break
            self._process(deliveries, flush_all=False)
        self._process([], flush_all=True)

    def _hold_back(self):
        if not self.holding_back:
            log.warning("buffer full or sink lagging: holding sources back",
                        extra={"pending": self.outbox.pending_count()})
        self.holding_back = True
        self.metrics.backpressure.set(1)
        self.stopping.wait(0.2)

    def _process(self, deliveries, flush_all):
        while True:
            try:
                self._process_once(deliveries, flush_all)
                break
            except sqlite3.Error as exc:
                # Disk full, I/O error...: nothing was committed or acknowledged. Rewind memory
                # to what is on disk and retry the same batch.
                log.error("buffer commit failed, retrying", extra={"error": str(exc)})
                self.aggregator.restore(self.outbox.load_states())
                if self.stopping.wait(1.0) and not deliveries:
                    return
        if self.holding_back:
            self.holding_back = False
            self.metrics.backpressure.set(0)

    def _valid_only(self, events, rejects):
        """Every envelope is checked against the canonical rules before it is buffered.

        One that fails (a bug, or a value no reading rule caught) is dead-lettered with the
        reason; the others go on. Odoo would refuse it anyway, and it would hold up its batch.
        """
        valid = []
        for envelope in events:
            try:
                validate_envelope(envelope)
            except (EnvelopeError, ValueError, TypeError, RecursionError) as exc:
                self.metrics.readings_rejected.labels("invalid envelope").inc()
                rejects.append(("aggregation", _dump_envelope(envelope), f"invalid envelope: {exc}"))
                log.error("emitted envelope failed validation, dead-lettered",
                          extra={"key": envelope.get("key"), "error": str(exc)})
                continue
            valid.append(envelope)
        return valid

    def _process_once(self, deliveries, flush_all):
        events, rejects, checkpoints, acks = [], [], {}, []
        aggregator = self.aggregator
        before_dups = aggregator.duplicates_skipped
        metrics = self.metrics
        for delivery in deliveries:
            for signal in delivery.signals:
                value = signal.value
                # Fast path for the usual finite number; anything else gets the canonical walk.
                if type(value) is float:
                    bad = None if math.isfinite(value) else _bad_reading(signal)
                else:
                    bad = None if type(value) in (int, bool) else _bad_reading(signal)
                if bad is not None:
                    metrics.messages_rejected_in.labels(signal.source).inc()
                    metrics.readings_rejected.labels(bad[1]).inc()
                    rejects.append((signal.source, _describe(signal), bad[0]))
                    log.warning("reading dead-lettered", extra={"source": signal.source, "error": bad[0]})
                    continue
                try:
                    aggregator.apply(signal, events)
                except SignalRejected as exc:
                    metrics.messages_rejected_in.labels(signal.source).inc()
                    metrics.readings_rejected.labels("unmapped or wrong type").inc()
                    rejects.append((signal.source, _describe(signal), str(exc)))
                    log.warning("reading dead-lettered", extra={"source": signal.source, "error": str(exc)})
            rejects.extend(delivery.rejects)
            if delivery.checkpoint:
                checkpoints[delivery.checkpoint[0]] = delivery.checkpoint[1]
            if delivery.ack:
                acks.append(delivery.ack)
        closed_before = aggregator.windows_closed()
        if flush_all:
            aggregator.flush_all(events)
        else:
            aggregator.flush_due(time.time(), events)
        events = self._valid_only(events, rejects)
        states = aggregator.take_dirty_states()
        if events or states or rejects or checkpoints:
            self.outbox.commit(events, states, checkpoints, rejects, critical_of=is_critical)
            self.batches += 1
        for ack in acks:
            ack()
        self.metrics.duplicates_in.inc(aggregator.duplicates_skipped - before_dups)
        self.metrics.windows_open.set(aggregator.open_windows())
        self.metrics.windows_closed.inc(aggregator.windows_closed() - closed_before)
        for envelope in events:
            self.metrics.events_out.labels(envelope["type"]).inc()
        if events:
            self.metrics.buffer_depth.set(self.outbox.pending_count())
            self.on_committed(any(is_critical(e) for e in events))
