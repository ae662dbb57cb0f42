"""Aggregation stage: raw ``Signal`` readings in, canonical envelopes out.

``Aggregator`` only routes readings to the per-asset logic in ``asset.py`` and keeps track of
which assets changed, so the runtime persists just those states with the events they produced.
"""
import copy

from .asset import AssetAggregator, SignalRejected, new_state  # noqa: F401

CRITICAL_TYPES = ("machine.alarm",)


def is_critical(envelope):
    """Critical events jump the queue in the buffer and wake the sink at once."""
    return envelope["type"] in CRITICAL_TYPES or bool(envelope["payload"].get("critical"))


class Aggregator:
    def __init__(self, assets, window_s, grace_s, factory, states=None):
        states = states or {}
        self.assets = {name: AssetAggregator(asset, window_s, grace_s, factory, states.get(name))
                       for name, asset in assets.items()}
        self.dirty = set()
        self.duplicates_skipped = 0

    def apply(self, signal, out):
        target = self.assets.get(signal.asset)
        if target is None:
            raise SignalRejected(f"unknown asset {signal.asset!r}")
        self.dirty.add(signal.asset)
        if not target.apply(signal, out):
            self.duplicates_skipped += 1

    def flush_due(self, now, out):
        for name, target in self.assets.items():
            before = len(out)
            if target.state["window"] is not None:
                target.flush_due(now, out)
                if len(out) != before or target.state["window"] is None:
                    self.dirty.add(name)

    def flush_all(self, out):
        for name, target in self.assets.items():
            if target.state["window"] is not None:
                target.flush(out)
                self.dirty.add(name)

    def restore(self, states):
        """Forget in-memory changes and continue from ``states`` (what the database holds)."""
        for name, target in self.assets.items():
            target.state = states.get(name) or new_state()
        self.dirty = set()

    def windows_closed(self):
        return sum(target.windows_closed for target in self.assets.values())

    def open_windows(self):
        return sum(1 for target in self.assets.values() if target.state["window"] is not None)

    def take_dirty_states(self):
        """States changed since the last call, as {asset: state}; the caller persists them."""
        changed = {name: self.assets[name].state for name in self.dirty}
        self.dirty = set()
        return changed

    def snapshot(self):
        return {name: copy.deepcopy(target.state) for name, target in self.assets.items()}
