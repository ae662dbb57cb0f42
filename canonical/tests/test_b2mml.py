"""B2MML V0701 export and import, validated against MESA's published XSDs and B2MML-JSON
schema (tests/b2mml_v0701, copied unchanged from MESA's repository)."""
import copy
import functools
import json
from pathlib import Path

import fastjsonschema
import pytest
from lxml import etree
from mfg_canonical import validate_envelope
from mfg_canonical.b2mml import B2mmlError, export, import_document
from mfg_canonical.upgrades import upgrade

SCHEMAS = Path(__file__).with_name("b2mml_v0701")
XSD = {"OperationsSchedule": "B2MML-OperationsSchedule.xsd",
       "OperationsPerformance": "B2MML-OperationsPerformance.xsd",
       "MaterialLot": "B2MML-Material.xsd"}


@functools.cache
def xsd(noun):
    return etree.XMLSchema(etree.parse(str(SCHEMAS / XSD[noun])))


@functools.cache
def json_schema(root):
    definitions = json.loads((SCHEMAS / "AllSchemas.json").read_text())["$defs"]
    return fastjsonschema.compile({"$ref": f"#/$defs/{root}", "$defs": definitions})


def assert_valid_b2mml(envelope, noun):
    document = export(envelope, "xml")
    schema = xsd(noun)
    assert schema.validate(etree.fromstring(document)), schema.error_log
    as_json = export(envelope, "json")
    (root, body), = as_json.items()
    assert root.endswith(noun)
    json_schema(root)(body)
    return document, as_json


def envelope(type_name, payload, key="BOD-1", verb="Process", **extra):
    result = {"key": key, "type": type_name, "schema_version": 2, "source": "MES-1",
              "occurred_at": "2026-11-23T08:00:00+01:00", "verb": verb, "payload": payload}
    result.update(extra)
    validate_envelope(result)
    return result


ORDER = {
    "id": "1000123", "description": "Brackets for line 2", "version": "3",
    "operations_type": "Production", "priority": 2, "request_state": "Released",
    "earliest_start": "2026-11-24T06:00:00+01:00", "latest_end": "2026-11-25T14:00:00+01:00",
    "operations_definition_id": "ROUTING-7",
    "material_requirements": [
        {"id": "OUTPUT", "use": "Produced", "material_definition_id": {"value": "SB-200",
                                                                         "scheme": "SAP"},
         "lot_ids": ["L1"], "quantity": {"value": 100, "unit_code": "C62"}},
        {"id": "C1", "use": "Consumed", "material_definition_id": {"value": "40000815"},
         "quantity": {"value": 12.5, "unit_text": "ST"}, "storage_location": "WH/Stock"}],
    "segment_requirements": [
        {"id": "0010", "description": "Cut", "process_segment_id": "CUT", "sequence": 10,
         "duration": "PT1H30M", "equipment_requirements": [
             {"equipment_id": {"value": "SAW-1"}, "level": "WorkUnit"}],
         "material_requirements": [
             {"id": "C2", "use": "Consumable", "material_definition_id": {"value": "OIL"},
              "quantity": {"value": 0.2, "unit_code": "LTR"}}]},
        {"id": "0020", "sequence": 20, "equipment_requirements": [
            {"equipment_id": {"value": "ASSY-1"}, "level": "WorkCenter"}]}],
}
CONFIRMATION = {
    "id": "RESP-1", "operations_request_id": "1000123", "operations_type": "Production",
    "segment_responses": [{
        "id": "0010", "segment_requirement_id": "0010", "process_segment_id": "CUT",
        "actual_start": "2026-11-24T06:00:00+01:00", "actual_end": "2026-11-24T07:10:00+01:00",
        "segment_state": "Completed", "final": True,
        "equipment_actuals": [{"id": "E1", "equipment_id": {"value": "SAW-1"},
                               "level": "WorkUnit", "duration": "PT70M"}],
        "personnel_actuals": [{"id": "P1", "person_id": {"value": "EMP-4", "scheme": "HR"},
                               "duration": "PT70M"}],
        "material_actuals": [
            {"id": "M1", "use": "Produced", "quantity_kind": "good", "lot_id": "L1",
             "sublot_id": "L1-01", "serial_numbers": ["SN1", "SN2"],
             "quantity": {"value": 40, "unit_code": "C62"}},
            {"id": "M2", "use": "Produced", "quantity_kind": "scrap", "reason_code": "DENT",
             "quantity": {"value": 2, "unit_code": "C62"}},
            {"id": "M3", "use": "Consumed", "material_definition_id": {"value": "40000815"},
             "lot_id": "B7", "storage_location": "WH/Stock",
             "quantity": {"value": 80, "unit_code": "KGM"}}]}],
}
LOT = {
    "id": "L1", "material_definition_id": {"value": "SB-200"}, "status": "QC",
    "disposition": "Restricted", "reason": "diameter out of tolerance",
    "expiry": "2027-11-23T00:00:00+00:00", "serial_numbers": ["SN1"],
    "quantity": {"value": 40, "unit_code": "C62"}, "storage_location": "WH/QC",
    "sublots": [{"id": "L1-01", "quantity": {"value": 20, "unit_code": "C62"},
                 "storage_location": "WH/QC/1"}],
    "test_results": [{"id": "T1", "characteristic": "diameter", "value": 10.4,
                      "unit_code": "MMT", "lower_limit": 9.9, "upper_limit": 10.1,
                      "result": "fail", "evaluated_at": "2026-11-23T09:00:00+01:00",
                      "test_specification_id": {"value": "SPEC-7"}}],
}


@pytest.mark.parametrize("type_name, payload, noun", [
    ("production.order", ORDER, "OperationsSchedule"),
    ("production.confirmation", CONFIRMATION, "OperationsPerformance"),
    ("material.lot", LOT, "MaterialLot")])
def test_export_is_valid_b2mml_and_imports_back_unchanged(type_name, payload, noun):
    original = envelope(type_name, payload, correlation_id="corr-1", receiver="MES-2",
                        created_at="2026-11-23T08:00:01+01:00",
                        hierarchy_scope={"equipment_id": "PLANT-1", "level": "Site"})
    document, as_json = assert_valid_b2mml(original, noun)
    for form, data in (("xml", document), ("json", json.dumps(as_json))):
        envelopes, rejects = import_document(data, form)
        assert rejects == []
        (imported,) = envelopes
        validate_envelope(imported)
        assert imported["payload"] == payload, form
        assert imported["type"] == type_name
        assert (imported["source"], imported["verb"], imported["correlation_id"],
                imported["receiver"]) == ("MES-1", "Process", "corr-1", "MES-2")
        assert imported["created_at"] == "2026-11-23T08:00:01+01:00"
        assert imported["key"].startswith("BOD-1/")
        if noun != "OperationsPerformance":
            assert imported["hierarchy_scope"] == {"equipment_id": "PLANT-1", "level": "Site"}


def test_v1_envelopes_export_through_their_upgrade():
    v1 = {"key": "k-1", "type": "material.consumption", "schema_version": 1, "source": "MES-1",
          "occurred_at": "2026-11-23T08:00:00+01:00",
          "payload": {"order_ref": "WH/MO/7", "product": "40000815", "qty": 80, "uom": "kg"}}
    document, _json = assert_valid_b2mml(v1, "OperationsPerformance")
    (imported,), _rejects = import_document(document)
    assert imported["type"] == "material.consumption", "only Consumed actuals, no state"
    # B2MML requires ids on responses and actuals: the export gives them, the rest is equal.
    payload = imported["payload"]
    assert (payload.pop("id"), payload["segment_responses"][0]["material_actuals"][0].pop(
        "id")) == ("k-1", "k-1-M1")
    assert payload == upgrade(v1)["payload"]
    scrap = upgrade({"key": "s-1", "type": "production.scrap", "schema_version": 1,
                     "source": "MES-1", "occurred_at": "2026-11-23T08:00:00+01:00",
                     "payload": {"product": "SB-200", "qty": 3, "uom": "Units",
                                 "reason_code": "BURR"}})
    (imported,), _rejects = import_document(export(scrap))
    assert imported["type"] == "production.scrap"
    (hinted,), _rejects = import_document(export(scrap), type_hint="production.confirmation")
    assert hinted["type"] == "production.confirmation", "the receiving flow decides"


@pytest.mark.parametrize("verb", ["Change", "Cancel", "Sync"])
def test_verbs_travel_as_b2mml_verbs(verb):
    document, as_json = assert_valid_b2mml(envelope("production.order", ORDER, verb=verb),
                                           "OperationsSchedule")
    assert f"{verb}OperationsSchedule" in as_json
    (imported,), _rejects = import_document(document)
    assert imported["verb"] == verb


def test_notify_is_a_sync_and_an_acknowledgement_names_the_original():
    _document, as_json = assert_valid_b2mml(
        envelope("material.lot", LOT, verb="Notify"), "MaterialLot")
    assert "SyncMaterialLot" in as_json
    ack = envelope("material.lot", LOT, key="ACK-1", verb="Acknowledge",
                   acknowledges={"key": "BOD-1", "source": "ODOO", "outcome": "rejected",
                                 "reason": "unknown lot"})
    document, _json = assert_valid_b2mml(ack, "MaterialLot")
    (imported,), _rejects = import_document(document)
    assert imported["acknowledges"] == {"key": "BOD-1", "source": "ODOO",
                                        "outcome": "rejected", "reason": "unknown lot"}


def test_the_schemas_do_refuse_what_b2mml_does_not_allow():
    """The validation can fail: an element out of its sequence, an unknown element."""
    document = export(envelope("production.order", ORDER))
    swapped = document.replace(b"<OperationsType>Production</OperationsType><OperationsRequest>",
                               b"<OperationsRequest>", 1).replace(
        b"</OperationsSchedule>", b"<OperationsType>Production</OperationsType>"
        b"</OperationsSchedule>", 1)
    assert not xsd("OperationsSchedule").validate(etree.fromstring(swapped))
    as_json = export(envelope("production.order", ORDER), "json")
    body = copy.deepcopy(as_json["ProcessOperationsSchedule"])
    body["DataArea"]["OperationsSchedule"][0]["Colour"] = "red"
    with pytest.raises(fastjsonschema.JsonSchemaException):
        json_schema("ProcessOperationsSchedule")(body)


def test_one_unreadable_request_is_a_reject_the_others_come_through():
    two = export(envelope("production.order", ORDER)).replace(
        b"</OperationsSchedule>", b"</OperationsSchedule><OperationsSchedule><ID>S2</ID>"
        b"<OperationsRequest><ID>BAD</ID><SegmentRequirement><ID>x</ID><MaterialRequirement>"
        b"<ID>m</ID><MaterialDefinitionID>P</MaterialDefinitionID><Quantity><QuantityString>"
        b"NaN</QuantityString><UnitOfMeasure>KGM</UnitOfMeasure></Quantity>"
        b"</MaterialRequirement></SegmentRequirement></OperationsRequest>"
        b"</OperationsSchedule>", 1)
    envelopes, rejects = import_document(two)
    assert [e["payload"]["id"] for e in envelopes] == ["1000123"]
    assert rejects == [{"key": "BOD-1/OperationsSchedule[2]",
                        "error": "OperationsRequest BAD/MaterialRequirement m/QuantityString "
                                 "'NaN' is not a finite number"}]


@pytest.mark.parametrize("data, reason", [
    (b"", "empty body"),
    (b"<ProcessOperationsSchedule", "not well-formed XML"),
    (b"<ProcessOperationsSchedule/>", "not in the B2MML namespace"),
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
     b'<ProcessOperationsSchedule xmlns="http://www.mesa.org/xml/B2MML">&e;'
     b"</ProcessOperationsSchedule>", "needs ApplicationArea and DataArea"),
    (b'<ShowEquipment xmlns="http://www.mesa.org/xml/B2MML"/>', "is not one of"),
    (b'<ProcessMaterialLot xmlns="http://www.mesa.org/xml/B2MML"><ApplicationArea>'
     b"<CreationDateTime>2026-11-23T08:00:00Z</CreationDateTime></ApplicationArea>"
     b"<DataArea><Process/><MaterialLot><ID>L</ID></MaterialLot></DataArea>"
     b"</ProcessMaterialLot>", "BODID is required"),
    (b'<ProcessMaterialLot xmlns="http://www.mesa.org/xml/B2MML"><ApplicationArea>'
     b"<CreationDateTime>yesterday</CreationDateTime></ApplicationArea>"
     b"<DataArea><Process/></DataArea></ProcessMaterialLot>", "is not an xsd:dateTime"),
])
def test_unreadable_documents_say_why(data, reason):
    with pytest.raises(B2mmlError, match=reason):
        import_document(data)


def test_json_form_refuses_garbage_and_types_without_b2mml():
    with pytest.raises(B2mmlError, match="not B2MML-JSON"):
        import_document(b"{not json", "json")
    with pytest.raises(B2mmlError, match="exactly one root element"):
        import_document({"A": {}, "B": {}}, "json")
    with pytest.raises(B2mmlError, match="has no B2MML form"):
        export({"type": "machine.alarm"})
    with pytest.raises(B2mmlError, match="unknown B2MML form"):
        export(envelope("material.lot", LOT), "yaml")
