"""Pure helpers of the shop-floor handlers (no ORM writes).

The logic that changes Odoo documents lives on the models it changes, as ``_mfg_apply_*``
methods other addons extend with ``super()`` (docs/extending.md): ``mrp.production``
(orders, confirmations, consumption), ``mrp.workorder`` (start/pause/finish),
``stock.scrap``, ``mrp.workcenter`` (downtime) and ``maintenance.request``,
``mfg.quality.hold``. ``mfg.message`` of this addon maps each canonical type to them.
"""
import re
from datetime import datetime, timezone

# Odoo's "mark done" may chain wizards (consumption warning, backorder): answer at most
# this many before asking a person.
MAX_WIZARD_STEPS = 4


def utc_naive(value):
    """An ISO 8601 timestamp of a payload as the naive UTC datetime Odoo stores."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed.astimezone(timezone.utc).replace(tzinfo=None) if parsed.tzinfo else parsed


# Paths into v2 payloads (ISA-95), as the mapping rules of mfg_integration name them.
PRODUCED = "material_requirements[use=Produced]"
ACTUALS = "segment_responses[].material_actuals[]"
EQUIPMENT = "segment_responses[].equipment_actuals[].equipment_id.value"
# B2MML material uses Odoo books as output of the order, and as its consumption.
PRODUCED_USES = ("Produced", "Yield Produced", "Material Produced")
CONSUMED_USES = ("Consumed", "Material Consumed", "Consumable")

_DURATION = re.compile(r"^P(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?"
                       r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$")


def duration_seconds(value):
    """Seconds of an ISO 8601 duration as the v2 schemas allow it for stops (days and
    time; years, months and weeks have no fixed length and are refused)."""
    if not value:
        return None
    match = _DURATION.match(value)
    if not match:
        raise ValueError(f"duration {value!r}: use days, hours, minutes and seconds "
                         "(PT90S, PT1H30M, P1DT2H)")
    parts = {name: float(number) for name, number in match.groupdict().items() if number}
    return (parts.get("days", 0) * 86400 + parts.get("hours", 0) * 3600
            + parts.get("minutes", 0) * 60 + parts.get("seconds", 0))
