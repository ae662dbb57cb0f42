"""Helpers the v1 -> v2 upgrades share."""
from ..units import quantity

__all__ = ["extensions", "identifier", "iso_duration", "quantity", "to_v2"]


def to_v2(envelope, payload, verb="Process", **fields):
    """The v2 envelope of a v1 one: same key, source, plant, times and correlation."""
    upgraded = {name: value for name, value in envelope.items()
                if name not in ("payload", "schema_version")}
    upgraded.update(schema_version=2, verb=verb, payload=_without_none(payload), **fields)
    return upgraded


def identifier(value, scheme=None):
    # Not cut to fit: a value v2 cannot take is refused with its path, never changed.
    found = {"value": str(value)}
    if scheme:
        found["scheme"] = scheme
    return found


def extensions(v1_payload, known):
    """The v1 fields v2 has no place for (v1 payloads allowed any extra field): kept."""
    extra = {name: value for name, value in v1_payload.items() if name not in known}
    return extra or None


def iso_duration(amount, designator="S"):
    """ISO 8601 duration of a v1 number of seconds ("S") or minutes ("M"); None for none."""
    if amount is None:
        return None
    text = f"{float(amount):.3f}".rstrip("0").rstrip(".")
    return f"PT{text}{designator}"


def _without_none(value):
    """None means "not given" in v1; v2 leaves such fields out."""
    if isinstance(value, dict):
        return {key: _without_none(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_none(item) for item in value]
    return value
