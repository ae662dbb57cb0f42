"""machine.alarm v1 -> v2: an OPC UA condition. The instance id is asset/code (v1 had one
condition per code); severities become the middle of OPC UA's bands (info 100 low,
warning 500 medium, error 700 medium-high, critical 900 high)."""
from ._common import extensions, identifier, to_v2

TYPE = "machine.alarm"
SEVERITIES = {"info": 100, "warning": 500, "error": 700, "critical": 900}
KNOWN = {"asset", "code", "severity", "active", "text"}


def v1_to_v2(envelope):
    old = envelope["payload"]
    payload = {
        "alarm_id": f"{old['asset']}/{old['code']}"[:200],
        "equipment_id": identifier(old["asset"]), "code": old["code"],
        "severity": SEVERITIES[old["severity"]], "active": old["active"],
        "message": old.get("text"), "extensions": extensions(old, KNOWN),
    }
    return to_v2(envelope, payload, verb="Notify")
