"""material.lot v2 <-> B2MML MaterialLot.

Status and disposition as B2MML has them; the expiry is EffectiveEndDate; sublots are
MaterialSubLot (with quantity and location); serial numbers and test results, which the
MaterialLot noun has no element for, are MaterialLotProperty ``serial_numbers`` and one
property per test result (ID the test id, Description the characteristic, Value the
measured value with its unit, children ``result``, ``evaluated_at``, ``lower_limit``,
``upper_limit``, ``test_specification_id``)."""
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
    value_out,
)
from .xmljson import many, one, text

NOUN = "MaterialLot"
TYPES = ("material.lot",)
TEST_FIELDS = ("result", "evaluated_at", "lower_limit", "upper_limit", "reason_code")


def bodies(envelope):
    lot = envelope["payload"]
    properties = []
    if lot.get("serial_numbers"):
        properties.append({"ID": "serial_numbers",
                           "Value": [value_out(serial) for serial in lot["serial_numbers"]]})
    for test in lot.get("test_results") or []:
        children = [{"ID": name, "Value": [value_out(test[name])]}
                    for name in TEST_FIELDS if test.get(name) is not None]
        if test.get("test_specification_id"):
            children.append({"ID": "test_specification_id",
                             "Value": [value_out(test["test_specification_id"]["value"])]})
        properties.append(drop_empty({
            "ID": test["id"], "Description": [test["characteristic"]],
            "Value": [value_out(test["value"], None, test.get("unit_code"))]
            if test.get("value") is not None else None,
            "MaterialLotPropertyChild": children}))
    return [drop_empty({
        "ID": lot["id"],
        "Description": [lot["reason"]] if lot.get("reason") else None,
        "EffectiveEndDate": lot.get("expiry"),
        "HierarchyScope": hierarchy_scope_out(envelope["hierarchy_scope"])
        if envelope.get("hierarchy_scope") else None,
        "MaterialDefinitionID": identifier_out(lot["material_definition_id"]),
        "Status": lot.get("status"),
        "Disposition": lot.get("disposition"),
        "MaterialLotProperty": properties,
        "MaterialSubLot": [drop_empty({
            "ID": sublot["id"],
            "StorageLocation": _location(sublot.get("storage_location")),
            "Quantity": [quantity_out(sublot["quantity"])] if sublot.get("quantity") else None,
        }) for sublot in lot.get("sublots") or []],
        "StorageLocation": _location(lot.get("storage_location")),
        "Quantity": [quantity_out(lot["quantity"])] if lot.get("quantity") else None,
    })]


def _location(location):
    return {"Location": location, "LocationType": "Description"} if location else None


# ------------------------------------------------------------------ import
def payloads(body, facts):
    lot_id = text(body, "ID")
    if not lot_id:
        raise B2mmlError("MaterialLot without ID")
    where = f"MaterialLot {lot_id}"
    material = identifier_in(one(body, "MaterialDefinitionID"))
    if not material:
        raise B2mmlError(f"{where}: no MaterialDefinitionID")
    serials, tests = None, []
    for prop in many(body, "MaterialLotProperty"):
        prop_id = text(prop, "ID")
        if prop_id == "serial_numbers":
            serials = [text(v, "ValueString") for v in many(prop, "Value")]
        elif one(prop, "MaterialLotPropertyChild") is not None:
            tests.append(_test_in(prop, prop_id, f"{where}/MaterialLotProperty {prop_id}"))
    quantities = many(body, "Quantity")
    payload = drop_empty({
        "id": lot_id, "material_definition_id": material,
        "reason": text(one(body, "Description")) if one(body, "Description") else None,
        "expiry": timestamp(text(body, "EffectiveEndDate"), f"{where}/EffectiveEndDate"),
        "status": text(body, "Status"), "disposition": text(body, "Disposition"),
        "serial_numbers": serials,
        "sublots": [drop_empty({
            "id": text(sublot, "ID"),
            "storage_location": text(one(sublot, "StorageLocation") or {}, "Location"),
            "quantity": quantity_in(one(sublot, "Quantity"), f"{where}/MaterialSubLot")[0]
            if one(sublot, "Quantity") is not None else None,
        }) for sublot in many(body, "MaterialSubLot")] or None,
        "storage_location": text(one(body, "StorageLocation") or {}, "Location"),
        "quantity": quantity_in(quantities[0], where)[0] if quantities else None,
        "test_results": tests or None,
    })
    return [(lot_id, payload, hierarchy_scope_in(one(body, "HierarchyScope")))]


def _test_in(prop, test_id, where):
    fields = {text(child, "ID"): text(one(child, "Value") or {}, "ValueString")
              for child in many(prop, "MaterialLotPropertyChild")}
    value_node = one(prop, "Value") or {}
    value = text(value_node, "ValueString")
    return drop_empty({
        "id": test_id,
        "characteristic": text(one(prop, "Description")) if one(prop, "Description")
        else test_id,
        "value": _number(value),
        "unit_code": text(value_node, "UnitOfMeasure"),
        "result": fields.get("result"),
        "evaluated_at": timestamp(fields.get("evaluated_at"), where),
        "lower_limit": _number(fields.get("lower_limit")),
        "upper_limit": _number(fields.get("upper_limit")),
        "reason_code": fields.get("reason_code"),
        "test_specification_id": {"value": fields["test_specification_id"]}
        if fields.get("test_specification_id") else None,
    })


def _number(value):
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return value
    return int(number) if number.is_integer() else number
