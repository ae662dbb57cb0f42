"""Alarm readings -> ``machine.alarm`` payloads, emitted immediately (no window).

An alarm tag may carry a plain boolean (code and severity come from the tag's configuration) or
an object ``{"code", "severity", "active", "text"}`` as MES systems and OPC UA events send.
For booleans only edges are reported, so a PLC re-publishing ``true`` does not raise it twice.
"""
SEVERITIES = ("info", "warning", "error", "critical")


class AlarmValueError(ValueError):
    pass


def opcua_severity(level):
    """OPC UA severities are 1..1000; map them onto the four canonical levels."""
    level = int(level or 0)
    if level >= 800:
        return "critical"
    if level >= 500:
        return "error"
    if level >= 200:
        return "warning"
    return "info"


def normalise(value, rule):
    """Return {"code", "severity", "active", "text"} or raise AlarmValueError."""
    if isinstance(value, bool) or value in (0, 1):
        return {"code": rule.alarm_code or rule.name, "severity": rule.severity,
                "active": bool(value), "text": None}
    if isinstance(value, dict):
        code = value.get("code") or rule.alarm_code or rule.name
        severity = value.get("severity", rule.severity)
        if isinstance(severity, (int, float)) and not isinstance(severity, bool):
            severity = opcua_severity(severity)
        if severity not in SEVERITIES:
            raise AlarmValueError(f"alarm severity must be one of {', '.join(SEVERITIES)} (got {severity!r})")
        active = value.get("active", True)
        if not isinstance(active, bool):
            raise AlarmValueError(f"alarm active must be a boolean (got {active!r})")
        text = value.get("text")
        return {"code": str(code), "severity": severity, "active": active,
                "text": None if text is None else str(text)}
    raise AlarmValueError(f"alarm value must be a boolean or an object (got {type(value).__name__})")
