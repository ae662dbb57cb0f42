"""production.order v1 -> v2: an ISA-95 OperationsRequest (Production).

v1 ``action`` becomes the envelope verb (release: Process, update: Change, cancel: Cancel)
and the request state; the product and quantity become the Produced material requirement,
components the Consumed ones, operations the segment requirements (id: the sequence,
zero-padded as SAP numbers operations)."""
from ._common import extensions, identifier, iso_duration, quantity, to_v2

TYPE = "production.order"
VERBS = {"release": "Process", "update": "Change", "cancel": "Cancel"}
STATES = {"release": "Released", "update": "Released", "cancel": "Cancelled"}
KNOWN = {"order_ref", "product", "qty", "uom", "action", "date_start", "date_end", "bom",
         "components", "operations", "lots", "external_refs"}


def v1_to_v2(envelope):
    old = envelope["payload"]
    action = old.get("action") or "release"
    produced = {"id": "OUTPUT", "use": "Produced",
                "material_definition_id": identifier(old["product"]),
                "quantity": quantity(old["qty"], old["uom"])}
    if old.get("lots"):
        produced["lot_ids"] = list(old["lots"])
    requirements = [produced] + [{
        "id": f"COMPONENT-{index:04d}", "use": "Consumed",
        "material_definition_id": identifier(component["product"]),
        "lot_ids": [component["lot"]] if component.get("lot") else None,
        "quantity": quantity(component["qty"], component["uom"]),
    } for index, component in enumerate(old.get("components") or [], 1)]
    segments = []
    for index, operation in enumerate(old.get("operations") or [], 1):
        sequence = operation.get("sequence")
        minutes = operation.get("duration_expected_min")
        segments.append({
            "id": f"{sequence if sequence is not None else index * 10:04d}",
            "description": operation["name"],
            "sequence": sequence if sequence is not None and sequence >= 0 else None,
            "equipment_requirements": [{"equipment_id": identifier(operation["work_center"]),
                                        "level": "WorkCenter"}],
            "duration": iso_duration(minutes, "M"),
        })
    external = old.get("external_refs") or {}
    payload = {
        "id": old["order_ref"],
        "operations_type": "Production",
        "request_state": STATES[action],
        "earliest_start": old.get("date_start"),
        "latest_end": old.get("date_end"),
        "operations_definition_id": old.get("bom"),
        "material_requirements": requirements,
        "segment_requirements": segments or None,
        "external_ids": [identifier(value, scheme) for scheme, value in external.items()
                         if isinstance(value, (str, int))] or None,
        "extensions": extensions(old, KNOWN),
    }
    return to_v2(envelope, payload, verb=VERBS[action])
