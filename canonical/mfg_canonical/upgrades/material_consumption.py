"""material.consumption v1 -> v2: a material actual of use Consumed, in a SegmentResponse
of the order's OperationsResponse (the segment: this report, by its key)."""
from ._common import extensions, identifier, quantity, to_v2

TYPE = "material.consumption"
KNOWN = {"order_ref", "product", "qty", "uom", "lot", "location"}


def v1_to_v2(envelope):
    old = envelope["payload"]
    actual = {"use": "Consumed", "material_definition_id": identifier(old["product"]),
              "lot_id": old.get("lot"), "storage_location": old.get("location"),
              "quantity": quantity(old["qty"], old["uom"])}
    payload = {"operations_request_id": old["order_ref"], "operations_type": "Production",
               "segment_responses": [{"id": envelope["key"][:200],
                                      "material_actuals": [actual]}],
               "extensions": extensions(old, KNOWN)}
    return to_v2(envelope, payload)
