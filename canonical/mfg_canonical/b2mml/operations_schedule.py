"""production.order v2 <-> B2MML OperationsSchedule / OperationsRequest.

B2MML hangs material requirements on segment requirements, not on the request. Export: one
SegmentRequirement for the whole order (ID the order id) carries the order's material
requirements and has the operations as SegmentRequirementChild. Import reads that shape,
and also a request listing its operations as top-level SegmentRequirements (then their
material requirements are the order's)."""
from .common import (
    B2mmlError,
    drop_empty,
    hierarchy_scope_in,
    hierarchy_scope_out,
    identifier_in,
    identifier_out,
    quantity_in,
    quantity_out,
    timestamp,
)
from .xmljson import many, one, text

NOUN = "OperationsSchedule"
TYPES = ("production.order",)


def bodies(envelope):
    order = envelope["payload"]
    definition = order.get("operations_definition_id") or order["id"]
    whole = drop_empty({
        "ID": order["id"],
        "EarliestStartTime": order.get("earliest_start"),
        "LatestEndTime": order.get("latest_end"),
        "ProcessSegmentID": definition,
        "OperationsDefinitionID": definition,
        "OperationsSegmentID": order["id"],
        "MaterialRequirement": [_material_out(r) for r in order["material_requirements"]],
        "SegmentRequirementChild": [_segment_out(s, definition)
                                    for s in order.get("segment_requirements") or []],
    })
    request = drop_empty({
        "ID": order["id"],
        "Description": [order["description"]] if order.get("description") else None,
        "Version": order.get("version"),
        "StartTime": order.get("earliest_start"),
        "EndTime": order.get("latest_end"),
        "HierarchyScope": hierarchy_scope_out(envelope["hierarchy_scope"])
        if envelope.get("hierarchy_scope") else None,
        "OperationsType": order.get("operations_type") or "Production",
        "Priority": order.get("priority"),
        "RequestState": order.get("request_state"),
        "OperationsDefinitionID": order.get("operations_definition_id"),
        "SegmentRequirement": [whole],
    })
    return [{"ID": envelope["key"], "OperationsType": "Production",
             "OperationsRequest": [request]}]


def _material_out(requirement):
    return drop_empty({
        "ID": requirement["id"],
        "MaterialDefinitionID": [identifier_out(requirement["material_definition_id"])],
        "MaterialLotID": requirement.get("lot_ids"),
        "MaterialUse": requirement["use"],
        "StorageLocation": {"Location": requirement["storage_location"],
                            "LocationType": "Description"}
        if requirement.get("storage_location") else None,
        "Quantity": [quantity_out(requirement["quantity"])],
    })


def _segment_out(segment, definition):
    return drop_empty({
        "ID": segment["id"],
        "Description": [segment["description"]] if segment.get("description") else None,
        "EarliestStartTime": segment.get("earliest_start"),
        "LatestEndTime": segment.get("latest_end"),
        "ProcessSegmentID": segment.get("process_segment_id") or segment["id"],
        "Duration": segment.get("duration"),
        "OperationsDefinitionID": definition,
        "OperationsSegmentID": segment["id"],
        "EquipmentRequirement": [drop_empty({
            "ID": f"{segment['id']}-EQ{index}",
            "EquipmentID": [identifier_out(equipment["equipment_id"])],
            "EquipmentLevel": equipment.get("level"),
        }) for index, equipment in enumerate(segment.get("equipment_requirements") or [], 1)],
        "MaterialRequirement": [_material_out(r) for r in segment.get("material_requirements")
                                or []],
    })


# ------------------------------------------------------------------ import
def payloads(body, facts):
    """[(key suffix, production.order v2 payload)] of one OperationsSchedule."""
    found = []
    for request in many(body, "OperationsRequest"):
        order_id = text(request, "ID")
        if not order_id:
            raise B2mmlError("OperationsRequest without ID")
        where = f"OperationsRequest {order_id}"
        segments = many(request, "SegmentRequirement")
        if not segments:
            raise B2mmlError(f"{where}: no SegmentRequirement")
        if len(segments) == 1 and many(segments[0], "SegmentRequirementChild"):
            whole, operations = segments[0], many(segments[0], "SegmentRequirementChild")
            materials = many(whole, "MaterialRequirement")
        else:
            whole, operations = segments[0], segments
            materials = [m for s in segments for m in many(s, "MaterialRequirement")]
        order = drop_empty({
            "id": order_id,
            "description": text(one(request, "Description")) if one(request, "Description")
            else None,
            "version": text(request, "Version"),
            "operations_type": "Production",
            "priority": _int(text(request, "Priority"), f"{where}/Priority"),
            "request_state": text(request, "RequestState"),
            "earliest_start": timestamp(text(request, "StartTime")
                                    or text(whole, "EarliestStartTime"), where),
            "latest_end": timestamp(text(request, "EndTime")
                                    or text(whole, "LatestEndTime"), where),
            "operations_definition_id": text(request, "OperationsDefinitionID"),
            "material_requirements": [_material_in(m, where) for m in materials],
            "segment_requirements": [_segment_in(s, index, where)
                                     for index, s in enumerate(operations, 1)
                                     if s is not whole or len(operations) > 1] or None,
        })
        scope = hierarchy_scope_in(one(request, "HierarchyScope"))
        found.append((order_id, order, scope))
    return found


def _material_in(node, where):
    where = f"{where}/MaterialRequirement {text(node, 'ID')}"
    quantities = many(node, "Quantity")
    if not quantities:
        raise B2mmlError(f"{where}: no Quantity")
    quantity, _key = quantity_in(quantities[0], where)
    material = identifier_in(one(node, "MaterialDefinitionID"))
    if not material:
        raise B2mmlError(f"{where}: no MaterialDefinitionID")
    return drop_empty({
        "id": text(node, "ID"), "use": text(node, "MaterialUse") or "Consumed",
        "material_definition_id": material,
        "lot_ids": [text(lot) for lot in many(node, "MaterialLotID")] or None,
        "quantity": quantity,
        "storage_location": text(one(node, "StorageLocation") or {}, "Location"),
    })


def _segment_in(node, index, where):
    segment_id = text(node, "ID")
    where = f"{where}/SegmentRequirement {segment_id}"
    return drop_empty({
        "id": segment_id,
        "description": text(one(node, "Description")) if one(node, "Description") else None,
        # The export writes the segment's own id when it has no process segment.
        "process_segment_id": None if text(node, "ProcessSegmentID") == segment_id
        else text(node, "ProcessSegmentID"),
        "sequence": int(segment_id) if segment_id and segment_id.isdigit() else index * 10,
        "earliest_start": timestamp(text(node, "EarliestStartTime"), where),
        "latest_end": timestamp(text(node, "LatestEndTime"), where),
        "duration": text(node, "Duration"),
        "equipment_requirements": [drop_empty({
            "equipment_id": identifier_in(one(equipment, "EquipmentID")),
            "level": text(equipment, "EquipmentLevel"),
        }) for equipment in many(node, "EquipmentRequirement")
            if one(equipment, "EquipmentID") is not None] or None,
        "material_requirements": [_material_in(m, where)
                                  for m in many(node, "MaterialRequirement")] or None,
    })


def _int(value, where):
    if value is None:
        return None
    try:
        return int(float(value))
    except ValueError:
        raise B2mmlError(f"{where}: {value!r} is not a number") from None
