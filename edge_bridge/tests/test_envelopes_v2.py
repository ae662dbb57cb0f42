"""The bridge emits canonical v2 (ISA-95) by default, or v1 when the device says so."""
from datetime import datetime, timezone

import pytest
from helpers import asset_block
from mfg_canonical import validate_envelope

from edge_bridge.aggregate import Aggregator
from edge_bridge.config import ConfigError, parse_config
from edge_bridge.envelopes import EnvelopeFactory
from edge_bridge.signals import Signal

T0 = 1_700_000_000.0


def config(**device):
    return parse_config({
        "device": {"code": "EDGE-T1", **device},
        "assets": [asset_block("M1", True, 60, 0.0)],
        "sources": [{"name": "mes", "type": "mqtt",
                     "mqtt": {"client_id": "x", "topics": [{"filter": "#"}]}}],
        "sink": {"url": "http://127.0.0.1:1", "api_key": "k"}})


def run(schema_version=None):
    parsed = config(**({"schema_version": schema_version} if schema_version else {}))
    factory = EnvelopeFactory("EDGE-T1", "P1", schema_version=parsed.schema_version)
    aggregator = Aggregator(parsed.assets, 10, 1.0, factory)
    out = []
    readings = [(0, "state", 1), (0.5, "cycle_count", 100), (1, "cycle_count", 103),
                (2, "good_count", 0), (3, "good_count", 2), (4, "scrap_reason", "DIM"),
                (5, "scrap_count", 0), (6, "scrap_count", 1), (7, "temperature", 21.0),
                (8, "state", 0), (8.2, "state_reason", "JAM"), (9, "state", 1),
                (9.5, "alarm", {"code": "OVERHEAT", "severity": "critical", "active": True}),
                (12, "cycle_count", 104)]
    for index, (offset, tag, value) in enumerate(readings):
        aggregator.apply(Signal("mes", "M1", tag, value,
                                datetime.fromtimestamp(T0 + offset, timezone.utc), index), out)
    aggregator.flush_all(out)
    first = {}
    for envelope in out:
        first.setdefault(envelope["type"], envelope)
    return first, out


def test_default_is_v2_and_every_envelope_validates():
    assert config().schema_version == 2
    by_type, out = run()
    assert {e["schema_version"] for e in out} == {2}
    for envelope in out:
        validate_envelope(envelope)
    assert set(by_type) >= {"machine.counter", "production.confirmation", "production.scrap",
                            "machine.measurement", "machine.downtime", "machine.alarm"}
    counter = by_type["machine.counter"]
    assert counter["verb"] == "Notify"
    assert counter["hierarchy_scope"] == {"equipment_id": "P1", "level": "Site"}
    assert (counter["payload"]["counter_name"], counter["payload"]["delta"]) == (
        "cycle_count", {"value": 3, "unit_code": "C62"})
    confirmation = by_type["production.confirmation"]["payload"]
    actuals = {a["quantity_kind"]: a["quantity"]["value"]
               for a in confirmation["segment_responses"][0]["material_actuals"]}
    assert (confirmation["operations_request_id"], actuals) == ("MO/1", {"good": 2, "scrap": 1})
    scrap = by_type["production.scrap"]["payload"]["segment_responses"][0]["material_actuals"][0]
    assert (scrap["reason_code"], scrap["material_definition_id"]["value"]) == (
        "DIM", "BRACKET-100")
    assert by_type["machine.alarm"]["payload"]["severity"] == 900
    downtime = by_type["machine.downtime"]["payload"]
    assert (downtime["reason_code"], downtime["duration"]) == ("JAM", "PT1S")


def test_v1_when_the_device_asks_for_it_with_the_same_keys():
    v2, _out = run()
    v1, out = run(schema_version=1)
    assert {e["schema_version"] for e in out} == {1}
    assert v1["production.confirmation"]["payload"]["qty_good"] == 2
    assert {t: e["key"] for t, e in v1.items()} == {t: e["key"] for t, e in v2.items()}, \
        "the version never changes a key: a switch does not re-send what Odoo has"


@pytest.mark.parametrize("value", [3, 0, "2", True])
def test_only_known_versions_are_configurable(value):
    with pytest.raises(ConfigError, match="schema_version"):
        config(schema_version=value)
