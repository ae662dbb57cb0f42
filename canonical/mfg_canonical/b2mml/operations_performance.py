"""production.confirmation / material.consumption / production.scrap v2 <-> B2MML
OperationsPerformance / OperationsResponse / SegmentResponse.

Per segment response: the state is SegmentState; ``final`` travels as SegmentData
``final`` (Indicator); material actuals keep use, lot, sublot, location and quantity, the
quantity kind as the Quantity's Key (good/scrap/rework), serial numbers and reason codes as
MaterialActualProperty ``serial_numbers`` / ``reason_code``; durations of equipment and
personnel actuals as a Quantity of data type duration."""
from .common import (
    B2mmlError,
    drop_empty,
    identifier_in,
    identifier_out,
    quantity_in,
    quantity_out,
    timestamp,
    value_out,
)
from .xmljson import many, one, text

NOUN = "OperationsPerformance"
EQUIPMENT_LEVELS = ("Enterprise", "Site", "Area", "ProcessCell", "Unit", "ProductionLine",
                    "WorkCell", "ProductionUnit", "StorageZone", "StorageUnit", "WorkCenter",
                    "WorkUnit", "EquipmentModule", "ControlModule", "Other")
TYPES = ("production.confirmation", "material.consumption", "production.scrap")


def bodies(envelope):
    response = envelope["payload"]
    kind = response.get("operations_type") or "Production"
    body = drop_empty({
        "ID": response.get("id") or envelope["key"],
        "OperationsType": kind,
        "OperationsRequestID": [response["operations_request_id"]]
        if response.get("operations_request_id") else None,
        "ResponseState": response.get("response_state"),
        "SegmentResponse": [_segment_out(s) for s in response["segment_responses"]],
    })
    return [{"ID": envelope["key"], "OperationsType": kind, "OperationsResponse": [body]}]


def _segment_out(segment):
    data = [{"ID": "final", "Value": [value_out(segment["final"], "Indicator")]}] \
        if "final" in segment else None
    return drop_empty({
        "ID": segment["id"],
        "ActualStartTime": segment.get("actual_start"),
        "ActualEndTime": segment.get("actual_end"),
        "ProcessSegmentID": [segment["process_segment_id"]]
        if segment.get("process_segment_id") else None,
        "SegmentRequirementID": [segment["segment_requirement_id"]]
        if segment.get("segment_requirement_id") else None,
        "SegmentState": segment.get("segment_state"),
        "SegmentData": data,
        "PersonnelActual": [drop_empty({
            "ID": actual.get("id") or f"{segment['id']}-P{index}",
            "PersonID": [identifier_out(actual["person_id"])],
            "Quantity": _duration_out(actual),
        }) for index, actual in enumerate(segment.get("personnel_actuals") or [], 1)],
        "EquipmentActual": [drop_empty({
            "ID": actual.get("id") or f"{segment['id']}-E{index}",
            "EquipmentID": [identifier_out(actual["equipment_id"])],
            "Description": [actual["level"]] if actual.get("level") else None,
            "Quantity": _duration_out(actual),
        }) for index, actual in enumerate(segment.get("equipment_actuals") or [], 1)],
        "MaterialActual": [_material_out(actual, f"{segment['id']}-M{index}")
                           for index, actual in enumerate(segment.get("material_actuals") or [],
                                                          1)],
    })


def _duration_out(actual):
    if not actual.get("duration"):
        return None
    return [{"QuantityString": actual["duration"], "DataType": "duration"}]


def _material_out(actual, default_id):
    properties = []
    if actual.get("serial_numbers"):
        properties.append({"ID": "serial_numbers",
                           "Value": [value_out(serial) for serial in actual["serial_numbers"]]})
    if actual.get("reason_code"):
        properties.append({"ID": "reason_code", "Value": [value_out(actual["reason_code"])]})
    return drop_empty({
        "ID": actual.get("id") or default_id,
        "MaterialDefinitionID": [identifier_out(actual["material_definition_id"])]
        if actual.get("material_definition_id") else None,
        "MaterialLotID": [actual["lot_id"]] if actual.get("lot_id") else None,
        "MaterialSubLotID": [actual["sublot_id"]] if actual.get("sublot_id") else None,
        "MaterialUse": actual["use"],
        "StorageLocation": {"Location": actual["storage_location"],
                            "LocationType": "Description"}
        if actual.get("storage_location") else None,
        "Quantity": [quantity_out(actual["quantity"], actual.get("quantity_kind"))],
        "MaterialActualProperty": properties,
    })


# ------------------------------------------------------------------ import
def payloads(body, facts):
    """[(key suffix, payload, hierarchy scope)] of one OperationsPerformance."""
    found = []
    for response in many(body, "OperationsResponse"):
        response_id = text(response, "ID")
        if not response_id:
            raise B2mmlError("OperationsResponse without ID")
        where = f"OperationsResponse {response_id}"
        segments = many(response, "SegmentResponse")
        if not segments:
            raise B2mmlError(f"{where}: no SegmentResponse")
        payload = drop_empty({
            "id": response_id,
            "operations_request_id": text(response, "OperationsRequestID"),
            "operations_type": text(response, "OperationsType"),
            "response_state": text(response, "ResponseState"),
            "segment_responses": [_segment_in(s, f"{where}/SegmentResponse") for s in segments],
        })
        found.append((response_id, payload, None))
    return found


def canonical_type(payload):
    """Which of the three types an imported response is: only Consumed actuals and no
    state: a consumption; only scrap-counting actuals and no state: scrap; else a
    confirmation."""
    segments = payload["segment_responses"]
    actuals = [a for s in segments for a in s.get("material_actuals", [])]
    stateless = not any("segment_state" in s or "final" in s for s in segments)
    if stateless and actuals and all(a["use"] == "Consumed" for a in actuals):
        return "material.consumption"
    if stateless and actuals and all(a.get("quantity_kind") == "scrap" for a in actuals):
        return "production.scrap"
    return "production.confirmation"


def _segment_in(node, where):
    segment_id = text(node, "ID")
    where = f"{where} {segment_id}"
    final = None
    for data in many(node, "SegmentData"):
        if text(data, "ID") == "final":
            final = text(one(data, "Value") or {}, "ValueString") in ("true", "1", "X")
    return drop_empty({
        "id": segment_id,
        "segment_requirement_id": text(node, "SegmentRequirementID"),
        "process_segment_id": text(node, "ProcessSegmentID"),
        "actual_start": timestamp(text(node, "ActualStartTime"), where),
        "actual_end": timestamp(text(node, "ActualEndTime"), where),
        "segment_state": text(node, "SegmentState"),
        "final": final,
        "personnel_actuals": [drop_empty({
            "id": text(actual, "ID"), "person_id": identifier_in(one(actual, "PersonID")),
            "duration": _duration_in(actual),
        }) for actual in many(node, "PersonnelActual") if one(actual, "PersonID") is not None]
        or None,
        "equipment_actuals": [drop_empty({
            "id": text(actual, "ID"), "equipment_id": identifier_in(one(actual, "EquipmentID")),
            "level": _level(text(one(actual, "Description"))) if one(actual, "Description")
            is not None else None,
            "duration": _duration_in(actual),
        }) for actual in many(node, "EquipmentActual") if one(actual, "EquipmentID") is not None]
        or None,
        "material_actuals": [_material_in(actual, where)
                             for actual in many(node, "MaterialActual")] or None,
    })


def _level(description):
    return description if description in EQUIPMENT_LEVELS else None


def _duration_in(actual):
    for quantity in many(actual, "Quantity"):
        if text(quantity, "DataType") == "duration":
            return text(quantity, "QuantityString")
    return None


def _material_in(node, where):
    where = f"{where}/MaterialActual {text(node, 'ID')}"
    quantities = many(node, "Quantity")
    if not quantities:
        raise B2mmlError(f"{where}: no Quantity")
    quantity, key = quantity_in(quantities[0], where)
    properties = {text(prop, "ID"): [text(v, "ValueString") for v in many(prop, "Value")]
                  for prop in many(node, "MaterialActualProperty")}
    return drop_empty({
        "id": text(node, "ID"),
        "use": text(node, "MaterialUse") or "Produced",
        "quantity_kind": key if key in ("good", "scrap", "rework") else None,
        "material_definition_id": identifier_in(one(node, "MaterialDefinitionID"))
        if one(node, "MaterialDefinitionID") is not None else None,
        "lot_id": text(node, "MaterialLotID"),
        "sublot_id": text(node, "MaterialSubLotID"),
        "serial_numbers": properties.get("serial_numbers"),
        "reason_code": (properties.get("reason_code") or [None])[0],
        "storage_location": text(one(node, "StorageLocation") or {}, "Location"),
        "quantity": quantity,
    })
