"""production.confirmation v1 -> v2: an OperationsResponse with one SegmentResponse.

v1 mixed a state change (``event``) with quantities; v2 keeps them apart: the event is the
segment state (start/resume: Running, pause: Paused, complete: Completed; a quantity report
without event is Running, or Completed when final), the quantities are material actuals of
use Produced, good and scrap. The work center is the equipment actual, the operator the
personnel actual; the event time becomes the actual start (start) or end (complete); a
final report makes the whole response Completed (the order is done)."""
from ._common import extensions, identifier, quantity, to_v2

TYPE = "production.confirmation"
STATES = {"start": "Running", "resume": "Running", "pause": "Paused",
          "complete": "Completed", "quantity": "Running"}
KNOWN = {"order_ref", "work_center", "operation", "event", "qty_good", "qty_scrap", "uom",
         "final", "scrap_reason", "lot", "operator"}


def v1_to_v2(envelope):
    old = envelope["payload"]
    return to_v2(envelope, response(envelope, old))


def response(envelope, old):
    event = old.get("event")
    state = STATES.get(event) or ("Completed" if old.get("final") else "Running")
    actuals = []
    if old.get("qty_good"):
        actuals.append({"use": "Produced", "quantity_kind": "good", "lot_id": old.get("lot"),
                        "quantity": quantity(old["qty_good"], old["uom"])})
    if old.get("qty_scrap"):
        actuals.append({"use": "Produced", "quantity_kind": "scrap",
                        "reason_code": old.get("scrap_reason"), "lot_id": old.get("lot"),
                        "quantity": quantity(old["qty_scrap"], old["uom"])})
    segment = {
        "id": old.get("operation") or old["work_center"],
        "segment_requirement_id": old.get("operation"),
        "segment_state": state,
        "final": bool(old.get("final")),
        "actual_start": envelope["occurred_at"] if event == "start" else None,
        "actual_end": envelope["occurred_at"] if event == "complete" else None,
        "equipment_actuals": [{"equipment_id": identifier(old["work_center"]),
                               "level": "WorkCenter"}],
        "personnel_actuals": [{"person_id": identifier(old["operator"])}]
        if old.get("operator") else None,
        "material_actuals": actuals or None,
    }
    return {"operations_request_id": old["order_ref"], "operations_type": "Production",
            # v1 final: the last report on the order, which completes it.
            "response_state": "Completed" if old.get("final") else None,
            "segment_responses": [segment], "extensions": extensions(old, KNOWN)}
