"""machine.measurement v1 -> v2: v1 aggregated good samples only and sent them live, so
quality is good and is_historical false; the unit becomes a Rec 20 code when it has one
meaning, else stays the sender's text."""
from ..units import unit_code
from ._common import extensions, identifier, to_v2

TYPE = "machine.measurement"
KNOWN = {"asset", "tag", "window_start", "window_end", "min", "max", "avg", "last", "count",
         "unit"}


def v1_to_v2(envelope):
    old = envelope["payload"]
    unit = old.get("unit")
    code = unit_code(unit)
    payload = {
        "equipment_id": identifier(old["asset"]), "tag": old["tag"],
        "window_start": old["window_start"], "window_end": old["window_end"],
        "min": old["min"], "max": old["max"], "avg": old["avg"], "last": old["last"],
        "count": old["count"],
        "unit_code": code, "unit_text": None if code or not unit else str(unit),
        "quality": "good", "is_historical": False,
        "extensions": extensions(old, KNOWN),
    }
    return to_v2(envelope, payload, verb="Notify")
