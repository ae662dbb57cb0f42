"""Fault injection, so the supervision of the stage threads can be tested on the real process.

``EDGE_BRIDGE_INJECT_FAULTS="forwarder:2"`` (comma-separated ``stage:count``) makes the named
stage raise ``InjectedFault`` the first ``count`` times it reaches its fault point - the same
path a bug in that stage would take. The variable is read once at import; when it is unset (as
in production) a fault point is one dictionary lookup. See README "Testing the supervision".
"""
import os
import threading

ENV_VAR = "EDGE_BRIDGE_INJECT_FAULTS"
# "point:n": the process exits at once (os._exit, no cleanup: as kill -9 would leave it) the n-th
# time it passes the named exit point. The return path's kill tests use it to die at exact steps.
EXIT_ENV_VAR = "EDGE_BRIDGE_EXIT_AT"


class InjectedFault(RuntimeError):
    """Raised by a fault point on request; never caught by the stage it is injected into."""


def _parse(text):
    faults = {}
    for item in filter(None, (part.strip() for part in (text or "").split(","))):
        stage, _, count = item.partition(":")
        faults[stage] = int(count or 1)
    return faults


_remaining = _parse(os.environ.get(ENV_VAR))
_exit_at = _parse(os.environ.get(EXIT_ENV_VAR))
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


def exit_point(name):
    """Exit the process abruptly when ``EDGE_BRIDGE_EXIT_AT`` asks for it at this pass of ``name``."""
    if not _exit_at.get(name):
        return
    with _lock:
        _exit_at[name] -= 1
        if _exit_at[name] == 0:
            os._exit(86)
