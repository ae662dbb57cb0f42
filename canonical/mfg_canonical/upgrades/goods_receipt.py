"""goods.receipt v1 -> v2: the received line keyed by the envelope's key; the v1 location
becomes the storage location received into, order_ref the production order, the receipt /
purchase / partner fields Odoo's warehouse flows send the references and the supplier."""
from ._common import extensions, identifier, quantity, to_v2

TYPE = "goods.receipt"
KNOWN = {"product", "qty", "uom", "location", "order_ref", "lot", "receipt_ref",
         "purchase_ref", "partner"}


def v1_to_v2(envelope):
    old = envelope["payload"]
    payload = {"id": envelope["key"][:200], "material_definition_id": identifier(old["product"]),
               "quantity": quantity(old["qty"], old["uom"]), "lot_id": old.get("lot"),
               "to_location": identifier(old["location"]) if old.get("location") else None,
               "operations_request_id": old.get("order_ref"),
               "receipt_ref": old.get("receipt_ref"), "purchase_ref": old.get("purchase_ref"),
               "supplier_id": identifier(old["partner"]) if old.get("partner") else None,
               "extensions": extensions(old, KNOWN)}
    return to_v2(envelope, payload)
