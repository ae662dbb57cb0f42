"""production.scrap v1 -> v2: a material actual counting scrap (B2MML has no scrap use:
use Other, quantity kind scrap, the reason code), in a SegmentResponse of the order when
one is named; the work center is the equipment actual."""
from ._common import extensions, identifier, quantity, to_v2

TYPE = "production.scrap"
KNOWN = {"product", "qty", "uom", "reason_code", "order_ref", "work_center", "lot", "location"}


def v1_to_v2(envelope):
    old = envelope["payload"]
    actual = {"use": "Other", "quantity_kind": "scrap",
              "material_definition_id": identifier(old["product"]),
              "reason_code": old["reason_code"], "lot_id": old.get("lot"),
              "storage_location": old.get("location"),
              "quantity": quantity(old["qty"], old["uom"])}
    segment = {"id": envelope["key"][:200], "material_actuals": [actual]}
    if old.get("work_center"):
        segment["equipment_actuals"] = [{"equipment_id": identifier(old["work_center"]),
                                         "level": "WorkCenter"}]
    payload = {"operations_request_id": old.get("order_ref"), "operations_type": "Production",
               "segment_responses": [segment], "extensions": extensions(old, KNOWN)}
    return to_v2(envelope, payload)
