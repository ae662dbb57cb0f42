"""inventory.move v1 -> v2: the movement keyed by the envelope's key, locations as
identifiers, the v1 movement type as Transfer / Adjustment (any other kept as Other, its v1
text in the extensions)."""
from ._common import extensions, identifier, quantity, to_v2

TYPE = "inventory.move"
KNOWN = {"product", "qty", "uom", "location_from", "location_to", "lot", "movement_type",
         "reference"}
MOVEMENT_TYPES = {"internal": "Transfer", "transfer": "Transfer", "adjustment": "Adjustment"}


def v1_to_v2(envelope):
    old = envelope["payload"]
    known = set(KNOWN)
    kind = old.get("movement_type")
    movement = MOVEMENT_TYPES.get(str(kind).lower()) if kind else None
    if kind and movement is None:
        movement = "Other"
        known.discard("movement_type")  # its text is kept in the extensions
    payload = {"id": envelope["key"][:200], "material_definition_id": identifier(old["product"]),
               "quantity": quantity(old["qty"], old["uom"]), "lot_id": old.get("lot"),
               "from_location": identifier(old["location_from"]),
               "to_location": identifier(old["location_to"]), "movement_type": movement,
               "reference": old.get("reference"), "extensions": extensions(old, known)}
    return to_v2(envelope, payload)
