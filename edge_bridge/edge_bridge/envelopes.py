"""Building canonical envelopes (docs/contract/README.md) with deterministic keys.

A key is derived only from what identifies the event at the source (device, asset, type, window
start or source sequence), never from wall-clock time or a random id: a restart or a replay then
re-emits the very same key and Odoo's (source, key) dedup makes the second copy a no-op.
"""
import hashlib
from datetime import datetime, timezone

from mfg_canonical import MAX_KEY_LENGTH, available_types, validate_envelope
from mfg_canonical.upgrades import upgrade

# The aggregators build v1 payloads; the factory upgrades them to the configured version
# with mfg_canonical's own upgrade steps, so the bridge and Odoo cannot disagree on v2.
SCHEMA_VERSION = 1
DEFAULT_SCHEMA_VERSION = 2


def iso(moment):
    """ISO-8601 with explicit offset, millisecond precision (what the contract asks for)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.isoformat(timespec="milliseconds")


def compact_time(moment):
    """Stable, short text for a key: UTC milliseconds since the epoch."""
    return str(int(round(moment.timestamp() * 1000)))


def make_key(*parts):
    key = "/".join(str(part) for part in parts)
    if len(key) <= MAX_KEY_LENGTH:
        return key
    # Long asset/tag names: keep a readable head and make the tail unique with a hash.
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"{key[:MAX_KEY_LENGTH - 33]}~{digest}"


class EnvelopeFactory:
    """Stamps envelopes with this device's code and plant and checks them against the schemas."""

    def __init__(self, device_code, plant=None, validate=True,
                 schema_version=DEFAULT_SCHEMA_VERSION):
        self.device_code = device_code
        self.plant = plant
        self.validate = validate
        self.schema_version = schema_version

    def build(self, type_name, key_parts, occurred_at, payload, correlation_id=None):
        envelope = {
            "key": make_key(self.device_code, *key_parts),
            "type": type_name,
            "schema_version": SCHEMA_VERSION,
            "source": self.device_code,
            "occurred_at": iso(occurred_at) if isinstance(occurred_at, datetime) else occurred_at,
            "payload": payload,
        }
        if self.plant:
            envelope["plant"] = self.plant
        if correlation_id:
            envelope["correlation_id"] = correlation_id
        target = min(self.schema_version, available_types().get(type_name, [1])[-1])
        if target > SCHEMA_VERSION:
            envelope = upgrade(envelope, target=target, validate=self.validate)
            if self.plant:
                envelope["hierarchy_scope"] = {"equipment_id": self.plant, "level": "Site"}
        if self.validate:
            # A bug here must surface at once, not as a rejected batch hours later in Odoo.
            validate_envelope(envelope)
        return envelope
