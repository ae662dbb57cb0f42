"""quality.hold v1 -> v2: a hold is the lot's disposition Restricted, its release
UnRestricted (B2MML MaterialLot Disposition); a hold on an order keeps the order id."""
from ._common import extensions, to_v2

TYPE = "quality.hold"
KNOWN = {"order_ref", "lot", "active", "reason"}


def v1_to_v2(envelope):
    old = envelope["payload"]
    payload = {"lot_id": old.get("lot"), "operations_request_id": old.get("order_ref"),
               "disposition": "Restricted" if old["active"] else "UnRestricted",
               "reason": old["reason"], "extensions": extensions(old, KNOWN)}
    return to_v2(envelope, payload, verb="Change")
