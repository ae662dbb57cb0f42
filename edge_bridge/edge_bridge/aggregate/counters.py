"""Deltas of monotonically increasing PLC counters, robust to resets and roll-over.

PLC counters are read as absolute values. Going backwards means one of two things:
- roll-over: a fixed-width register wrapped past ``rollover_at`` back to 0;
- reset: someone (or a PLC restart) set the counter back to 0.
With a configured ``rollover_at`` we pick the shorter modular distance, as SNMP pollers do: a
wrapped delta smaller than half the range is a roll-over, anything else a reset. After a reset
the counter has counted ``value`` parts since 0, so that is the delta.
"""


def counter_delta(last, value, rollover_at=None):
    """Return (delta, was_reset) for a new absolute reading ``value`` after ``last``."""
    if last is None:
        return 0, False          # first reading ever: only a baseline, nothing counted yet
    if value >= last:
        return value - last, False
    if rollover_at is not None:
        wrapped = (rollover_at - last) + value + 1
        if 0 < wrapped <= (rollover_at + 1) / 2:
            return wrapped, False
    return value, True
