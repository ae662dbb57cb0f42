"""machine.downtime v1 -> v2: start and end reports of one stop share an id (v1 paired
them by work center and start time, so that pair is the id); the machine state is Stopped
and the category unknown (v1 did not say planned or unplanned)."""
from ._common import extensions, identifier, iso_duration, to_v2

TYPE = "machine.downtime"
KNOWN = {"work_center", "start", "end", "duration_s", "reason_code", "asset", "critical"}


def v1_to_v2(envelope):
    old = envelope["payload"]
    payload = {
        "id": f"{old['work_center']}@{old['start']}"[:200],
        "equipment_id": identifier(old.get("asset") or old["work_center"]),
        "hierarchy_scope": {"equipment_id": old["work_center"], "level": "WorkCenter"},
        "start": old["start"], "end": old.get("end"),
        "duration": iso_duration(old.get("duration_s")),
        "machine_state": "Stopped", "category": "unknown",
        "reason_code": old["reason_code"], "critical": old.get("critical"),
        "extensions": extensions(old, KNOWN),
    }
    return to_v2(envelope, payload, verb="Notify")
