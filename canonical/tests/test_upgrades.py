"""Canonical v2 (ISA-95 / B2MML) and the v1 -> v2 upgrades, type by type.

Each v1 sample is a realistic sender's envelope; its upgrade must validate against v2 and
carry every v1 fact somewhere (a field, the verb, or ``extensions``)."""
import copy

import pytest
from mfg_canonical import EnvelopeError, available_types, validate_envelope
from mfg_canonical.units import odoo_uom_xmlid, quantity, unit_code
from mfg_canonical.upgrades import steps, upgrade
from mfg_canonical.validation import _local_schema


def v1(type_name, payload, key="k-1", occurred_at="2026-11-23T08:00:00+01:00"):
    return {"key": key, "type": type_name, "schema_version": 1, "source": "MES-1",
            "plant": "P1", "occurred_at": occurred_at, "correlation_id": "c-9",
            "payload": payload}


def upgraded(envelope):
    validate_envelope(envelope)
    before = copy.deepcopy(envelope)
    result = upgrade(envelope)
    assert envelope == before, "the v1 envelope is left as it was"
    assert result["schema_version"] == 2
    for field in ("key", "type", "source", "plant", "occurred_at", "correlation_id"):
        assert result[field] == envelope[field], field
    validate_envelope(result)
    return result


def test_every_type_with_a_v2_has_its_upgrade_from_v1():
    for type_name, versions in available_types().items():
        if 1 in versions and 2 in versions:
            assert (type_name, 1) in steps(), type_name


def test_production_order_becomes_an_operations_request():
    result = upgraded(v1("production.order", {
        "order_ref": "1000123", "product": "SB-200", "qty": 100, "uom": "Units",
        "action": "update", "date_start": "2026-11-24T06:00:00+01:00",
        "date_end": "2026-11-25T14:00:00+01:00", "bom": "BOM-7", "lots": ["L1"],
        "components": [{"product": "40000815", "qty": 400, "uom": "ST", "lot": "B7"}],
        "operations": [{"name": "Assemble", "work_center": "ASSY-1", "sequence": 10,
                        "duration_expected_min": 90}],
        "external_refs": {"SAP": "1000123"}, "priority_text": "rush"}))
    payload = result["payload"]
    assert result["verb"] == "Change"
    assert (payload["id"], payload["request_state"]) == ("1000123", "Released")
    produced, component = payload["material_requirements"]
    assert produced == {"id": "OUTPUT", "use": "Produced", "lot_ids": ["L1"],
                        "material_definition_id": {"value": "SB-200"},
                        "quantity": {"value": 100, "unit_code": "C62"}}
    assert component["quantity"] == {"value": 400, "unit_text": "ST"}, \
        "SAP's ST is not Rec 20's ST (sheet): kept as the sender's unit"
    assert component["lot_ids"] == ["B7"] and component["use"] == "Consumed"
    segment = payload["segment_requirements"][0]
    assert (segment["id"], segment["duration"], segment["sequence"]) == ("0010", "PT90M", 10)
    assert segment["equipment_requirements"] == [
        {"equipment_id": {"value": "ASSY-1"}, "level": "WorkCenter"}]
    assert payload["external_ids"] == [{"value": "1000123", "scheme": "SAP"}]
    assert payload["extensions"] == {"priority_text": "rush"}, "unknown v1 fields are kept"
    cancelled = upgraded(v1("production.order", {"order_ref": "1", "product": "P", "qty": 1,
                                                 "uom": "kg", "action": "cancel"}))
    assert (cancelled["verb"], cancelled["payload"]["request_state"]) == ("Cancel", "Cancelled")


@pytest.mark.parametrize("event, final, state", [
    ("start", False, "Running"), ("pause", False, "Paused"), ("resume", False, "Running"),
    ("complete", True, "Completed"), (None, False, "Running"), (None, True, "Completed")])
def test_confirmation_separates_state_from_quantities(event, final, state):
    payload = {"order_ref": "WH/MO/7", "work_center": "ASSY-1", "operation": "0010",
               "qty_good": 40 if event in (None, "complete") else 0,
               "qty_scrap": 2 if event is None else 0, "uom": "pcs", "final": final,
               "scrap_reason": "DENT", "lot": "L1", "operator": "EMP-4"}
    if event:
        payload["event"] = event
    result = upgraded(v1("production.confirmation", payload))
    response = result["payload"]
    assert response["operations_request_id"] == "WH/MO/7"
    segment = response["segment_responses"][0]
    assert (segment["segment_state"], segment["final"]) == (state, final)
    assert (response.get("response_state") == "Completed") == final
    assert segment["segment_requirement_id"] == "0010"
    assert segment["personnel_actuals"] == [{"person_id": {"value": "EMP-4"}}]
    actuals = {a["quantity_kind"]: a for a in segment.get("material_actuals", [])}
    if event in (None, "complete"):
        assert actuals["good"]["quantity"] == {"value": 40, "unit_code": "H87"}
        assert actuals["good"]["lot_id"] == "L1"
    if event is None:
        assert actuals["scrap"]["reason_code"] == "DENT"
    if event in ("start", "pause", "resume"):
        assert not actuals, "a state change carries no quantity"
    if event == "start":
        assert segment["actual_start"] == "2026-11-23T08:00:00+01:00"


def test_consumption_and_scrap_are_material_actuals():
    consumption = upgraded(v1("material.consumption", {
        "order_ref": "WH/MO/7", "product": "40000815", "qty": 80, "uom": "kg", "lot": "B7",
        "location": "WH/Stock"}, key="cons-1"))["payload"]
    segment = consumption["segment_responses"][0]
    assert segment["id"] == "cons-1"
    assert segment["material_actuals"] == [{
        "use": "Consumed", "material_definition_id": {"value": "40000815"}, "lot_id": "B7",
        "storage_location": "WH/Stock", "quantity": {"value": 80, "unit_code": "KGM"}}]
    scrap = upgraded(v1("production.scrap", {
        "product": "SB-200", "qty": 3, "uom": "Units", "reason_code": "BURR",
        "work_center": "ASSY-1"}))["payload"]
    actual = scrap["segment_responses"][0]["material_actuals"][0]
    assert (actual["quantity_kind"], actual["reason_code"], actual["use"]) == (
        "scrap", "BURR", "Other")
    assert "operations_request_id" not in scrap, "no order named, none invented"


def test_machine_data_follow_packml_and_opc_ua():
    counter = upgraded(v1("machine.counter", {
        "asset": "PRESS1", "counter": "RejectCount", "delta": 3, "value": -5,
        "window_start": "2026-11-23T08:00:00+01:00",
        "window_end": "2026-11-23T08:01:00+01:00"}))
    assert counter["verb"] == "Notify"
    assert counter["payload"]["counter_kind"] == "defective"
    assert counter["payload"]["delta"] == {"value": 3, "unit_code": "C62"}
    assert "value" not in counter["payload"], "a negative absolute value has no quantity"
    assert counter["payload"]["extensions"] == {"value": -5}, "but it is kept"
    start = upgraded(v1("machine.downtime", {
        "work_center": "ASSY-1", "start": "2026-11-23T08:00:00+01:00",
        "reason_code": "JAM"}))["payload"]
    end = upgraded(v1("machine.downtime", {
        "work_center": "ASSY-1", "start": "2026-11-23T08:00:00+01:00",
        "end": "2026-11-23T08:05:30+01:00", "duration_s": 330, "reason_code": "JAM"}))["payload"]
    assert start["id"] == end["id"], "start and end of one stop pair by id"
    assert (end["duration"], end["category"], end["machine_state"]) == (
        "PT330S", "unknown", "Stopped")
    alarm = upgraded(v1("machine.alarm", {"asset": "PRESS1", "code": "E1",
                                          "severity": "critical", "active": True}))
    assert (alarm["payload"]["severity"], alarm["payload"]["alarm_id"]) == (900, "PRESS1/E1")
    measurement = upgraded(v1("machine.measurement", {
        "asset": "PRESS1", "tag": "temp", "window_start": "2026-11-23T08:00:00+01:00",
        "window_end": "2026-11-23T08:01:00+01:00", "min": -4.5, "max": 3, "avg": 0.1,
        "last": 1, "count": 60, "unit": "°C"}))["payload"]
    assert (measurement["unit_code"], measurement["quality"], measurement["is_historical"]) == (
        "CEL", "good", False)


def test_quality_becomes_test_results_and_dispositions():
    result = upgraded(v1("quality.result", {"characteristic": "diameter", "result": "fail",
                                            "lot": "L1", "value": 10.4,
                                            "reason_code": "OOT"}))["payload"]
    test = result["test_results"][0]
    assert (test["characteristic"], test["result"], test["value"]) == ("diameter", "fail", 10.4)
    assert test["evaluated_at"] == "2026-11-23T08:00:00+01:00"
    hold = upgraded(v1("quality.hold", {"lot": "L1", "active": True, "reason": "OOT"}))
    assert (hold["verb"], hold["payload"]["disposition"]) == ("Change", "Restricted")
    release = upgraded(v1("quality.hold", {"order_ref": "WH/MO/7", "active": False,
                                           "reason": "ok"}))["payload"]
    assert release["disposition"] == "UnRestricted"


def test_a_value_v2_cannot_take_is_refused_with_the_version_named():
    # v1 allowed a 300-character unit text; v2 keeps at most 64 of the sender's unit, and
    # a v1 work center of 200 characters makes a downtime id within 200: both fit. A v1
    # order with a negative sequence has none in v2 and still upgrades; a v1 quantity that
    # is NaN never got this far (value rules). What cannot fit is named:
    envelope = v1("quality.result", {"characteristic": "x" * 201, "result": "pass",
                                     "lot": "L1"})
    envelope["payload"]["characteristic"] = "x" * 200
    upgraded(envelope)
    with pytest.raises(EnvelopeError, match=r"^no upgrade of machine\.counter from version 2"):
        upgrade(dict(v1("machine.counter", {}), schema_version=2), target=3)


def test_envelope_v2_speaks_b2mml_verbs_and_acknowledgements():
    envelope = upgraded(v1("quality.hold", {"lot": "L1", "active": True, "reason": "r"}))
    envelope.update(created_at="2026-11-23T08:00:01+01:00", receiver="ODOO",
                    hierarchy_scope={"equipment_id": "P1", "level": "Site",
                                     "child": {"equipment_id": "ASSY", "level": "Area"}})
    validate_envelope(envelope)
    ack = dict(envelope, verb="Acknowledge",
               acknowledges={"key": "k-0", "source": "ODOO", "outcome": "rejected",
                             "reason": "unknown lot"})
    validate_envelope(ack)
    for changes, reason in (
            ({"verb": "Shout"}, "verb must be one of"),
            ({"created_at": "2026-11-23T08:00:01"}, "created_at must be date-time"),
            ({"hierarchy_scope": {"equipment_id": "P1", "level": "Galaxy"}}, "level must be"),
            ({"acknowledges": {"key": "k-0"}}, "must contain"),
            ({"verb": None}, "verb must be one of")):
        with pytest.raises(EnvelopeError, match=reason):
            validate_envelope(dict(envelope, **changes))
    no_verb = dict(envelope)
    del no_verb["verb"]
    with pytest.raises(EnvelopeError, match="verb"):
        validate_envelope(no_verb)


def test_v2_quantities_need_a_unit_and_refuse_lowercase_codes():
    envelope = upgraded(v1("material.consumption", {"order_ref": "O", "product": "P",
                                                    "qty": 1, "uom": "kg"}))
    actual = envelope["payload"]["segment_responses"][0]["material_actuals"][0]
    actual["quantity"] = {"value": 1}
    with pytest.raises(EnvelopeError, match="quantity needs unit_code or unit_text"):
        validate_envelope(envelope)
    actual["quantity"] = {"value": 1, "unit_code": "kgm"}
    with pytest.raises(EnvelopeError, match="unit_code must match pattern"):
        validate_envelope(envelope)
    actual["quantity"] = {"value": -1, "unit_code": "KGM"}
    with pytest.raises(EnvelopeError, match="value must be bigger than or equal to 0"):
        validate_envelope(envelope)


def test_schema_references_stay_inside_the_package():
    with pytest.raises(EnvelopeError, match="not a schema of this package"):
        _local_schema("https://evil.example/schemas/definitions.v2.json")
    with pytest.raises(EnvelopeError, match="not a schema of this package"):
        _local_schema("https://mfg-integration.example/schemas/../../etc/passwd")


def test_units_map_only_what_has_one_meaning():
    assert unit_code("kg") == "KGM" and unit_code("KGM") == "KGM"
    assert unit_code("ST") is None and unit_code("PC") is None and unit_code("") is None
    assert quantity(2, "Units") == {"value": 2, "unit_code": "C62"}
    assert quantity(2, "ZZ-own") == {"value": 2, "unit_text": "ZZ-own"}
    assert odoo_uom_xmlid("H87") == "uom.product_uom_unit"
    assert odoo_uom_xmlid("KGM") == "uom.product_uom_kgm"
    assert odoo_uom_xmlid("BAR") is None


def test_warehouse_documents_key_their_lines_and_name_their_locations():
    move = upgraded(v1("inventory.move", {
        "product": "MAT-RESIN", "qty": 4, "uom": "EA", "location_from": "WH-STOCK",
        "location_to": "WH-A01", "lot": "LOT-1", "movement_type": "internal",
        "reference": "WH/INT/00003"}, key="odoo/move/17"))["payload"]
    assert move == {"id": "odoo/move/17", "material_definition_id": {"value": "MAT-RESIN"},
                    "quantity": {"value": 4, "unit_code": "EA"}, "lot_id": "LOT-1",
                    "from_location": {"value": "WH-STOCK"}, "to_location": {"value": "WH-A01"},
                    "movement_type": "Transfer", "reference": "WH/INT/00003"}
    odd = upgraded(v1("inventory.move", {
        "product": "P", "qty": 1, "uom": "Units", "location_from": "A", "location_to": "B",
        "movement_type": "cycle-count"}))["payload"]
    assert (odd["movement_type"], odd["extensions"]) == ("Other",
                                                         {"movement_type": "cycle-count"})
    receipt = upgraded(v1("goods.receipt", {
        "product": "MAT-RESIN", "qty": 10, "uom": "kg", "location": "WH-STOCK", "lot": "L1",
        "receipt_ref": "WH/IN/00007", "purchase_ref": "PO00042", "partner": "V-100"},
        key="rc-1"))["payload"]
    assert (receipt["id"], receipt["to_location"], receipt["receipt_ref"],
            receipt["purchase_ref"], receipt["supplier_id"], receipt["quantity"]) == (
        "rc-1", {"value": "WH-STOCK"}, "WH/IN/00007", "PO00042", {"value": "V-100"},
        {"value": 10, "unit_code": "KGM"})
    assert "operations_request_id" not in receipt
    shipment = upgraded(v1("shipment.confirmation", {
        "shipment_ref": "WH/OUT/00009", "partner": "C-7", "shipped_at":
        "2026-11-23T10:00:00+00:00", "carrier_tracking_ref": "1Z999",
        "lines": [{"product": "MAT-RESIN", "qty": 7, "uom": "EA", "lot": "LOT-7",
                   "pallet": "P-1"}]}))["payload"]
    assert shipment["lines"] == [{"material_definition_id": {"value": "MAT-RESIN"},
                                  "quantity": {"value": 7, "unit_code": "EA"},
                                  "lot_id": "LOT-7"}]
    assert shipment["extensions"] == {"lines": {"1": {"pallet": "P-1"}}}, \
        "a line field v2 has no place for is kept by line number"
    assert shipment["carrier_tracking_ref"] == "1Z999"
