"""Pure helpers of the shop-floor handlers (no ORM writes).

The logic that changes Odoo documents lives on the models it changes, as ``_mfg_apply_*``
methods other addons extend with ``super()`` (docs/extending.md): ``mrp.production``
(orders, confirmations, consumption), ``mrp.workorder`` (start/pause/finish),
``stock.scrap``, ``mrp.workcenter`` (downtime) and ``maintenance.request``,
``mfg.quality.hold``. ``mfg.message`` of this addon maps each canonical type to them.
"""
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
