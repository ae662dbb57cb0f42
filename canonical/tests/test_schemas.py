"""The canonical contract itself: every schema compiles and says clearly what is wrong."""
import json

import pytest
from mfg_canonical import (
    EnvelopeError,
    available_types,
    load_schema,
    schema_path,
    validate_envelope,
)

CONTRACT_TYPES = {
    "production.order", "production.confirmation", "material.consumption", "production.scrap",
    "machine.downtime", "machine.counter", "machine.alarm", "quality.result", "quality.hold",
    "goods.receipt", "inventory.move", "maintenance.request", "shipment.confirmation",
    "demand.forecast",
}


def alarm(**changes):
    envelope = {"key": "k1", "type": "machine.alarm", "schema_version": 1, "source": "EDGE-1",
                "occurred_at": "2026-11-23T08:00:00+01:00",
                "payload": {"asset": "PRESS1", "code": "E1", "severity": "warning",
                            "active": True}}
    envelope.update(changes)
    return envelope


def test_every_contract_type_has_a_v1_schema():
    assert CONTRACT_TYPES <= set(available_types())
    for name in CONTRACT_TYPES:
        schema = load_schema(name, 1)
        assert schema["type"] == "object" and schema["required"], name
        assert json.loads(schema_path(name, 1).read_text())["$id"].endswith(f"{name}.v1.json")
    for name, versions in available_types().items():
        for version in versions:
            assert load_schema(name, version)["$id"].endswith(f"{name}.v{version}.json")


def test_valid_envelope_passes():
    validate_envelope(alarm())
    validate_envelope(alarm(plant="P1", correlation_id="c-1"))


@pytest.mark.parametrize("changes, reason", [
    ({"schema_version": True}, "schema_version must be integer"),
    ({"schema_version": 3}, r"unsupported schema_version 3 .*supported: \[1, 2\]"),
    ({"type": "machine.unknown"}, "unknown type 'machine.unknown'"),
    ({"occurred_at": "2026-11-23T08:00:00"}, "occurred_at must be date-time"),
    ({"occurred_at": "yesterday"}, "occurred_at must be date-time"),
    ({"key": ""}, "key must be longer than or equal to 1 characters"),
    ({"payload": []}, "payload must be object"),
    ({"extra": 1}, "must not contain {'extra'} properties"),
])
def test_bad_envelopes_name_the_problem(changes, reason):
    with pytest.raises(EnvelopeError, match=reason.replace("{", r"\{").replace("}", r"\}")):
        validate_envelope(alarm(**changes))


def test_payload_errors_point_into_the_payload():
    bad = alarm(payload={"asset": "PRESS1", "code": "E1", "severity": "loud", "active": True})
    with pytest.raises(EnvelopeError, match=r"^payload: severity must be one of"):
        validate_envelope(bad)
    missing = alarm(payload={"asset": "PRESS1"})
    with pytest.raises(EnvelopeError, match="must contain"):
        validate_envelope(missing)


def test_quality_result_needs_an_order_or_a_lot():
    envelope = alarm(type="quality.result",
                     payload={"characteristic": "diameter", "result": "fail"})
    with pytest.raises(EnvelopeError):
        validate_envelope(envelope)
    envelope["payload"]["lot"] = "LOT-1"
    validate_envelope(envelope)
