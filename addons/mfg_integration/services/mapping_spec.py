"""Which payload fields of each canonical type are external codes to translate.

Each rule is (payload field, mapping type, required). A required code without a mapping
puts the message in `exception`; an optional one is resolved when a mapping exists.
Addons add rules for their own types with ``register``.
"""
from ..exceptions import MissingMapping  # noqa: F401 (re-exported)

MAPPING_RULES = {
    "production.order": [("product", "product", True), ("uom", "uom", True)],
    "production.confirmation": [
        ("work_center", "work_center", True),
        ("uom", "uom", True),
        ("scrap_reason", "scrap_reason", False),
    ],
    "material.consumption": [
        ("product", "product", True),
        ("uom", "uom", True),
        ("location", "location", False),
    ],
    "production.scrap": [
        ("product", "product", True),
        ("uom", "uom", True),
        ("reason_code", "scrap_reason", True),
        ("work_center", "work_center", False),
        ("location", "location", False),
    ],
    "machine.downtime": [
        ("work_center", "work_center", True),
        ("reason_code", "downtime_reason", True),
        ("asset", "equipment", False),
    ],
    "machine.counter": [("asset", "equipment", False)],
    "machine.alarm": [("asset", "equipment", False)],
    "machine.measurement": [("asset", "equipment", False)],
    "quality.result": [("reason_code", "quality_reason", False)],
    "goods.receipt": [("product", "product", True), ("uom", "uom", True),
                      ("location", "location", False)],
    "inventory.move": [("product", "product", True), ("uom", "uom", True),
                       ("location_from", "location", True), ("location_to", "location", True)],
    "maintenance.request": [("equipment", "equipment", True)],
    "demand.forecast": [("product", "product", True), ("uom", "uom", True),
                        ("location", "location", False)],
}


def register(type_name, rules):
    """Let an addon declare (or extend) the mapping rules of a canonical type."""
    MAPPING_RULES.setdefault(type_name, [])
    for rule in rules:
        if rule not in MAPPING_RULES[type_name]:
            MAPPING_RULES[type_name].append(rule)


def resolve(type_name, payload, lookup):
    """Translate the external codes of ``payload``.

    ``lookup(mapping_type, external_code)`` returns the mapped value or None.
    Returns {field: value}; raises MissingMapping naming every missing required code at once,
    so the operator fixes them all in one go.
    """
    resolved, missing = {}, []
    for field, kind, required in MAPPING_RULES.get(type_name, ()):
        code = payload.get(field)
        if code in (None, ""):
            continue
        value = lookup(kind, str(code))
        if value is None:
            if required:
                missing.append((kind, str(code), field))
            continue
        resolved[field] = value
    if missing:
        raise MissingMapping(missing)
    return resolved
