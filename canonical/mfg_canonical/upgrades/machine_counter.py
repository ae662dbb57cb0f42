"""machine.counter v1 -> v2: the counter's kind as PackML names it, read from its v1 name
(good/ok: good; reject, scrap, defect, bad, nok: defective; consum: consumed; processed,
count, total, produced: processed; anything else: other), counts in C62 (one)."""
import re

from ._common import extensions, identifier, to_v2

TYPE = "machine.counter"
KNOWN = {"asset", "counter", "delta", "window_start", "window_end", "value", "resets"}
KINDS = (("defective", r"reject|scrap|defect|bad|nok|fail"), ("good", r"good|\bok\b"),
         ("consumed", r"consum"), ("processed", r"process|count|total|produced|cycle"))


def counter_kind(name):
    lowered = (name or "").lower()
    return next((kind for kind, pattern in KINDS if re.search(pattern, lowered)), "other")


def v1_to_v2(envelope):
    old = envelope["payload"]
    value = old.get("value")
    extra = extensions(old, KNOWN) or {}
    if value is not None and value < 0:
        # A v1 absolute value below zero (a PLC's signed wrap) is no v2 quantity: kept aside.
        extra["value"] = value
    payload = {
        "equipment_id": identifier(old["asset"]),
        "counter_kind": counter_kind(old["counter"]),
        "counter_name": old["counter"],
        "delta": {"value": old["delta"], "unit_code": "C62"},
        "value": {"value": value, "unit_code": "C62"} if value is not None and value >= 0
        else None,
        "window_start": old["window_start"], "window_end": old["window_end"],
        "resets": old.get("resets"),
        "extensions": extra or None,
    }
    return to_v2(envelope, payload, verb="Notify")
