"""Value rules every envelope obeys, whatever its type: the ones JSON Schema cannot say.

JSON Schema accepts NaN as a "number", a NUL character or a lone UTF-16 surrogate as part of a
"string", and any depth of nesting. None of these can be stored (PostgreSQL refuses NUL and
invalid UTF-8 in text/jsonb, and NaN is not JSON), so one such value used to fail a whole batch
with a server error. Checking them here, in the one package both Odoo and the edge bridge use,
turns each into a per-envelope reject with the path of the offending value.

The walk is iterative (an explicit stack) so that a hostile depth cannot exhaust the
interpreter's recursion limit before the depth rule is reached.
"""
import math
from datetime import datetime, timezone

MAX_DEPTH = 32
# Shop-floor events happen now-ish; these bounds leave room for replays of old history and
# clock drift while keeping every value convertible to UTC and storable by PostgreSQL.
MIN_OCCURRED_AT = datetime(1970, 1, 1, tzinfo=timezone.utc)
MAX_OCCURRED_AT = datetime(2200, 1, 1, tzinfo=timezone.utc)


def _child_path(path, key):
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def _string_problem(text):
    if "\x00" in text:
        return "NUL character not allowed"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "invalid Unicode (lone surrogate) not allowed"
    return None


def find_bad_value(value, path="", max_depth=MAX_DEPTH):
    """Return ``(path, reason)`` of a value no canonical message may carry, else None.

    ``path`` names the value as users read it: ``payload.items[2].qty``; a bad object key is
    reported at the path of its object.
    """
    stack = [(value, path, 0)]
    while stack:
        current, where, depth = stack.pop()
        if isinstance(current, str):
            problem = _string_problem(current)
            if problem:
                return where or "value", problem
        elif isinstance(current, float):
            if not math.isfinite(current):
                return where or "value", "not a finite number"
        elif isinstance(current, dict):
            if depth >= max_depth:
                return where or "value", f"nested deeper than {max_depth} levels"
            for key, item in current.items():
                if isinstance(key, str):
                    problem = _string_problem(key)
                    if problem:
                        return where or "value", f"object key: {problem}"
                stack.append((item, _child_path(where, key), depth + 1))
        elif isinstance(current, (list, tuple)):
            if depth >= max_depth:
                return where or "value", f"nested deeper than {max_depth} levels"
            stack.extend((item, _child_path(where, index), depth + 1)
                         for index, item in enumerate(current))
    return None


def storable_copy(value, max_depth=MAX_DEPTH):
    """A copy of ``value`` PostgreSQL can store: non-finite numbers become None, NUL and
    lone surrogates are dropped from strings, nesting past ``max_depth`` becomes None.
    For values that must be kept (an outbound message, with its problem named) rather than
    refused."""
    def clean(current, depth):
        if isinstance(current, str):
            return current.replace("\x00", "").encode("utf-8", "ignore").decode("utf-8") \
                if _string_problem(current) else current
        if isinstance(current, float):
            return current if math.isfinite(current) else None
        if isinstance(current, (dict, list, tuple)) and depth >= max_depth:
            return None
        if isinstance(current, dict):
            return {clean(str(key), depth): clean(item, depth + 1)
                    for key, item in current.items()}
        if isinstance(current, (list, tuple)):
            return [clean(item, depth + 1) for item in current]
        return current
    return clean(value, 0)


def occurred_at_in_range(parsed):
    """``parsed`` (aware datetime) converted to UTC, or None when outside the accepted range.

    Offsets such as +23:59 on 0001-01-01 move the instant outside what Python's datetime can
    hold; ``astimezone`` then raises OverflowError, which must become a reject, not a crash.
    """
    try:
        utc = parsed.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        return None
    if not MIN_OCCURRED_AT <= utc < MAX_OCCURRED_AT:
        return None
    return utc
