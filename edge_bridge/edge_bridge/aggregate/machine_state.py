"""Machine state machine: running <-> stopped, emitting one ``machine.downtime`` per stop.

A stop is reported when it ends, complete with start, end, duration and reason, so Odoo gets one
immutable record per stop (a record sent at the start and again at the end would need two keys
or an update, and the contract is insert-only). The reason is the last non-empty reason seen
while stopped: PLCs often write the reason a moment after the state changes.
"""


def initial_state():
    return {"running": None, "stop_start": None, "stop_reason": None, "stop_state": None}


def on_state(machine, value, at, current_reason, rule):
    """Apply a state reading; return a finished stop dict or None."""
    running = str(value) in rule.running_values
    finished = None
    if machine["running"] is None:
        # First reading: if already stopped, the stop starts now (its true start is unknown).
        if not running:
            machine.update(stop_start=at, stop_reason=current_reason or None, stop_state=str(value))
    elif machine["running"] and not running:
        machine.update(stop_start=at, stop_reason=current_reason or None, stop_state=str(value))
    elif not machine["running"] and running and machine["stop_start"] is not None:
        duration = max(0.0, at - machine["stop_start"])
        finished = {
            "start": machine["stop_start"], "end": at, "duration_s": round(duration, 3),
            "reason_code": machine["stop_reason"] or rule.default_reason,
            "critical": rule.critical_after_s is not None and duration > rule.critical_after_s,
        }
        machine.update(stop_start=None, stop_reason=None, stop_state=None)
    machine["running"] = running
    return finished


def on_reason(machine, reason):
    if machine["running"] is False and machine["stop_start"] is not None and reason:
        machine["stop_reason"] = reason
