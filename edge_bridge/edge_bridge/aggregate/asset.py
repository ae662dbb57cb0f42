"""Shop-floor aggregation for one asset: windows of counters, scrap and measurements, the
machine state machine and alarms.

Windows are in event time (the source timestamp), aligned to multiples of ``window_s``, so the
same readings always fall into the same windows and produce the same keys. A window closes when
a reading of a later window arrives, or when the wall clock passes its end plus ``grace_s``.
Readings that arrive after their window closed count in the open window; a new window never
reopens a closed one, so no two different windows can ever share a key.

All state is a JSON-able dict (``state``) that the runtime stores in the buffer database in the
same transaction as the events it produced.
"""
from datetime import datetime, timezone

from . import alarms, machine_state, measurements
from .counters import counter_delta

COUNTER_ROLES = ("counter", "good", "scrap")
NUMERIC_ROLES = COUNTER_ROLES + ("measurement",)


class SignalRejected(ValueError):
    """The reading cannot be used (wrong type, unknown tag); it goes to the dead-letter store."""


def _iso(epoch):
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="milliseconds")


def _ms(epoch):
    return str(int(round(epoch * 1000)))


def new_state():
    return {"seq": {}, "counters": {}, "window": None, "last_closed_end": None, "measure_prev": {},
            "scrap_reason": None, "state_reason": None, "order": None,
            "machine": machine_state.initial_state(), "alarms": {}}


class AssetAggregator:
    def __init__(self, asset, window_s, grace_s, factory, state=None):
        self.asset = asset
        self.window_s = window_s
        self.grace_s = grace_s
        self.factory = factory
        self.state = state or new_state()
        self.windows_closed = 0

    # -- entry points -------------------------------------------------------------------------
    def apply(self, signal, out):
        """Apply one reading; append emitted envelopes to ``out``. Returns False if a duplicate."""
        rule = self.asset.tags.get(signal.tag)
        if rule is None:
            raise SignalRejected(f"asset {self.asset.name!r} has no tag {signal.tag!r} configured")
        if signal.sequence is not None:
            stream = f"{signal.source}|{signal.tag}"
            last = self.state["seq"].get(stream)
            if last is not None and signal.sequence <= last:
                return False     # redelivered after a crash between commit and broker ack
        value = signal.value
        if rule.role in NUMERIC_ROLES and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise SignalRejected(f"{self.asset.name}.{signal.tag}: role {rule.role} needs a number, "
                                 f"got {type(value).__name__} {value!r}")
        at = signal.timestamp.timestamp()
        handler = getattr(self, f"_on_{rule.role}")
        handler(rule, value, at, signal, out)
        if signal.sequence is not None:
            self.state["seq"][f"{signal.source}|{signal.tag}"] = signal.sequence
        return True

    def flush_due(self, now, out):
        window = self.state["window"]
        if window and now >= window["start"] + self.window_s + self.grace_s:
            self._close_window(out)

    def flush(self, out):
        if self.state["window"]:
            self._close_window(out)

    # -- windows ------------------------------------------------------------------------------
    def _window_for(self, at, out):
        start = (at // self.window_s) * self.window_s
        window = self.state["window"]
        if window is not None:
            if start <= window["start"]:
                return window          # same or late reading: count it in the open window
            self._close_window(out)
        closed_end = self.state["last_closed_end"]
        if closed_end is not None and start < closed_end:
            start = closed_end         # never reopen a window that was already emitted
        window = {"start": start, "counters": {}, "confirm": {}, "scrap": {}, "measure": {}}
        self.state["window"] = window
        return window

    def _close_window(self, out):
        window = self.state["window"]
        self.state["window"] = None
        self.windows_closed += 1
        start, end = window["start"], window["start"] + self.window_s
        self.state["last_closed_end"] = end
        name, start_iso, end_iso, wkey = self.asset.name, _iso(start), _iso(end), "w" + _ms(start)
        occurred = datetime.fromtimestamp(end, timezone.utc)
        for tag, counter in sorted(window["counters"].items()):
            if counter["delta"] <= 0:
                continue
            out.append(self.factory.build("machine.counter", (name, "machine.counter", tag, wkey), occurred, {
                "asset": name, "counter": tag, "delta": counter["delta"], "window_start": start_iso,
                "window_end": end_iso, "value": counter["value"], "resets": counter["resets"]}))
        for order, (good, scrap) in sorted(window["confirm"].items()):
            if good + scrap <= 0:
                continue
            out.append(self.factory.build("production.confirmation",
                                          (name, "production.confirmation", order, wkey), occurred, {
                "order_ref": order, "work_center": self.asset.work_center, "qty_good": good,
                "qty_scrap": scrap, "uom": self.asset.uom, "final": False, "event": "quantity",
                "window_start": start_iso, "window_end": end_iso}))
        for reason_order, qty in sorted(window["scrap"].items()):
            reason, order = reason_order.split("\x1f", 1)
            out.append(self.factory.build("production.scrap", (name, "production.scrap", reason, order, wkey),
                                          occurred, {
                "product": self.asset.product, "qty": qty, "uom": self.asset.uom, "reason_code": reason,
                "order_ref": order or None, "work_center": self.asset.work_center}))
        for tag, stats in sorted(window["measure"].items()):
            rule = self.asset.tags[tag]
            previous = self.state["measure_prev"].get(tag)
            if measurements.should_report(stats, previous, rule):
                out.append(self.factory.build("machine.measurement", (name, "machine.measurement", tag, wkey),
                                              occurred, measurements.payload(name, tag, stats, start_iso,
                                                                             end_iso, rule.unit)))
                self.state["measure_prev"][tag] = {"last": stats["last"], "silent": 0}
            else:
                previous["silent"] += 1

    # -- roles --------------------------------------------------------------------------------
    def _count(self, rule, value, at, out):
        tracked = self.state["counters"].setdefault(rule.name, {"last": None, "resets": 0})
        delta, reset = counter_delta(tracked["last"], value, rule.rollover_at)
        tracked["last"] = value
        window = self._window_for(at, out)
        entry = window["counters"].setdefault(rule.name, {"delta": 0, "resets": 0, "value": value})
        entry["delta"] += delta
        entry["value"] = value
        if reset:
            tracked["resets"] += 1
            entry["resets"] += 1
        return window, delta

    def _order(self):
        return self.state["order"] or self.asset.order_ref

    def _on_counter(self, rule, value, at, signal, out):
        self._count(rule, value, at, out)

    def _on_good(self, rule, value, at, signal, out):
        window, delta = self._count(rule, value, at, out)
        if delta and self._order():
            window["confirm"].setdefault(self._order(), [0, 0])[0] += delta

    def _on_scrap(self, rule, value, at, signal, out):
        window, delta = self._count(rule, value, at, out)
        if not delta:
            return
        if self._order():
            window["confirm"].setdefault(self._order(), [0, 0])[1] += delta
        reason = self.state["scrap_reason"] or rule.default_reason
        slot = f"{reason}\x1f{self._order() or ''}"
        window["scrap"][slot] = window["scrap"].get(slot, 0) + delta

    def _on_scrap_reason(self, rule, value, at, signal, out):
        self.state["scrap_reason"] = str(value) if value not in (None, "") else None

    def _on_order(self, rule, value, at, signal, out):
        self.state["order"] = str(value) if value not in (None, "") else None

    def _on_measurement(self, rule, value, at, signal, out):
        window = self._window_for(at, out)
        window["measure"][rule.name] = measurements.add_sample(window["measure"].get(rule.name), value)

    def _on_state_reason(self, rule, value, at, signal, out):
        reason = str(value) if value not in (None, "") else None
        self.state["state_reason"] = reason
        machine_state.on_reason(self.state["machine"], reason)

    def _on_state(self, rule, value, at, signal, out):
        if isinstance(value, (dict, list)) or value is None:
            raise SignalRejected(f"{self.asset.name}.{rule.name}: a state must be a scalar, got {value!r}")
        stop = machine_state.on_state(self.state["machine"], value, at, self.state["state_reason"], rule)
        if stop is None:
            return
        name = self.asset.name
        out.append(self.factory.build("machine.downtime", (name, "machine.downtime", _ms(stop["start"])),
                                      datetime.fromtimestamp(stop["end"], timezone.utc), {
            "work_center": self.asset.work_center, "asset": name, "start": _iso(stop["start"]),
            "end": _iso(stop["end"]), "duration_s": stop["duration_s"], "reason_code": stop["reason_code"],
            "critical": stop["critical"]}))

    def _on_alarm(self, rule, value, at, signal, out):
        try:
            alarm = alarms.normalise(value, rule)
        except alarms.AlarmValueError as exc:
            raise SignalRejected(f"{self.asset.name}.{rule.name}: {exc}") from None
        if not isinstance(value, dict):
            previous = self.state["alarms"].get(alarm["code"])
            self.state["alarms"][alarm["code"]] = alarm["active"]
            if previous == alarm["active"] or (previous is None and not alarm["active"]):
                return   # unchanged, or the first reading says "no alarm": not an alarm event
        occurrence = f"{signal.source}-{signal.sequence}" if signal.sequence is not None else _ms(at)
        out.append(self.factory.build(
            "machine.alarm",
            (self.asset.name, "machine.alarm", alarm["code"], occurrence, "on" if alarm["active"] else "off"),
            signal.timestamp, {"asset": self.asset.name, **alarm}))
