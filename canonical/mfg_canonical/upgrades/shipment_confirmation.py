"""shipment.confirmation v1 -> v2: lines as material, quantity (Rec 20 or the sender's unit),
lot and source location; the partner as an identifier. Line fields v2 has no place for are
kept in the extensions by line number."""
from ._common import extensions, identifier, quantity, to_v2

TYPE = "shipment.confirmation"
KNOWN = {"shipment_ref", "partner", "lines", "shipped_at", "sale_ref", "carrier_tracking_ref"}
LINE_KNOWN = {"product", "qty", "uom", "lot", "location"}


def v1_to_v2(envelope):
    old = envelope["payload"]
    lines, line_extras = [], {}
    for number, line in enumerate(old["lines"], start=1):
        lines.append({"material_definition_id": identifier(line["product"]),
                      "quantity": quantity(line["qty"], line["uom"]), "lot_id": line.get("lot"),
                      "from_location": identifier(line["location"]) if line.get("location")
                      else None})
        extra = extensions(line, LINE_KNOWN)
        if extra:
            line_extras[str(number)] = extra
    extra = extensions(old, KNOWN) or {}
    if line_extras:
        extra["lines"] = line_extras
    payload = {"shipment_ref": old["shipment_ref"],
               "partner_id": identifier(old["partner"]) if old.get("partner") else None,
               "shipped_at": old.get("shipped_at"), "sale_ref": old.get("sale_ref"),
               "carrier_tracking_ref": old.get("carrier_tracking_ref"), "lines": lines,
               "extensions": extra or None}
    return to_v2(envelope, payload)
