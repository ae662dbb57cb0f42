"""Fault injection, so the supervision of the stage threads can be tested on the real process.

``EDGE_BRIDGE_INJECT_FAULTS="forwarder:2"`` (comma-separated ``stage:count``) makes the named
stage raise ``InjectedFault`` the first ``count`` times it reaches its fault point - the same
path a bug in that stage would take. The variable is read once at import; when it is unset (as
in production) a fault point is one dictionary lookup. See README "Testing the supervision".
"""
import os
import threading

ENV_VAR = "EDGE_BRIDGE_INJECT_FAULTS"


class InjectedFault(RuntimeError):
    """Raised by a fault point on request; never caught by the stage it is injected into."""


def _parse(text):
    faults = {}
    for item in filter(None, (part.strip() for part in (text or "").split(","))):
        stage, _, count = item.partition(":")
        faults[stage] = int(count or 1)
    return faults


_remaining = _parse(os.environ.get(ENV_VAR))
_lock = threading.Lock()


def point(stage):
    """Raise ``InjectedFault`` when a fault is still requested for ``stage``."""
    if not _remaining.get(stage):
        return
    with _lock:
        left = _remaining.get(stage, 0)
        if left <= 0:
            return
        _remaining[stage] = left - 1
    raise InjectedFault(f"fault injected into stage {stage} ({ENV_VAR}), {left - 1} more to come")
