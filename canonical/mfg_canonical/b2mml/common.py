"""Pieces every B2MML noun shares: the transaction (verb + ApplicationArea), identifiers,
quantities, hierarchy scopes and properties, both ways."""
import re
from datetime import datetime, timezone

from ..units import REC20
from .xmljson import B2mmlError, many, one, text

RELEASE = "V0701"
REC20_LIST = "UN/ECE Rec 20"
# Envelope verb -> B2MML verb. B2MML has no Notify: an owner publishing its state Syncs.
VERBS_OUT = {"Process": "Process", "Change": "Change", "Cancel": "Cancel", "Sync": "Sync",
             "Notify": "Sync", "Acknowledge": "Acknowledge"}
VERBS_IN = ("Process", "Change", "Cancel", "Sync", "Acknowledge", "Show", "Respond")
_UNIT_CODE = re.compile(r"^[A-Z0-9]{2,3}$")


# ------------------------------------------------------------------ transaction
def transaction(envelope, noun, bodies):
    """The B2MML document of ``envelope``: <{Verb}{Noun}> with ApplicationArea and
    DataArea (verb, then the noun elements)."""
    verb = VERBS_OUT[envelope.get("verb") or "Process"]
    sender = {"LogicalID": envelope["source"]}
    if envelope.get("correlation_id"):
        sender["ReferenceID"] = envelope["correlation_id"]
    area = {"Sender": sender}
    if envelope.get("receiver"):
        area["Receiver"] = [{"LogicalID": envelope["receiver"]}]
    area["CreationDateTime"] = envelope.get("created_at") or envelope["occurred_at"]
    area["BODID"] = envelope["key"]
    verb_body = {}
    if verb == "Acknowledge" and envelope.get("acknowledges"):
        ack = envelope["acknowledges"]
        original = {"Sender": {"LogicalID": ack["source"]}} if ack.get("source") else {}
        original.update(CreationDateTime=envelope["occurred_at"], BODID=ack["key"])
        status = {"Code": ack["outcome"]}
        if ack.get("reason"):
            status["Description"] = [ack["reason"]]
        verb_body = {"OriginalApplicationArea": original,
                     "ResponseCriteria": [{"ChangeStatus": status}]}
    return {f"{verb}{noun}": {"@releaseID": RELEASE, "ApplicationArea": area,
                              "DataArea": {verb: verb_body, noun: bodies}}}


def read_transaction(document, nouns):
    """(verb, noun, application area facts, noun bodies) of a B2MML document whose noun
    is one of ``nouns``."""
    if not isinstance(document, dict) or len(document) != 1:
        raise B2mmlError("a B2MML document has exactly one root element")
    (root, body), = document.items()
    verb = next((v for v in VERBS_IN if root.startswith(v)), None)
    noun = root[len(verb):] if verb else None
    if not verb or noun not in nouns:
        raise B2mmlError(f"<{root}> is not one of "
                         f"{', '.join(v + n for v in VERBS_IN[:5] for n in nouns)}")
    area = one(body, "ApplicationArea")
    data = one(body, "DataArea")
    if area is None or data is None:
        raise B2mmlError(f"<{root}> needs ApplicationArea and DataArea")
    created = text(area, "CreationDateTime")
    if not created:
        raise B2mmlError("ApplicationArea/CreationDateTime is required")
    sender = one(area, "Sender") or {}
    facts = {"key": text(area, "BODID"), "sender": text(sender, "LogicalID"),
             "correlation_id": text(sender, "ReferenceID"),
             "receiver": text(one(area, "Receiver") or {}, "LogicalID"),
             "created_at": timestamp(created, "ApplicationArea/CreationDateTime")}
    if verb == "Acknowledge":
        ack = one(data, "Acknowledge") or {}
        original = one(ack, "OriginalApplicationArea") or {}
        status = one(one(ack, "ResponseCriteria") or {}, "ChangeStatus") or {}
        facts["acknowledges"] = {
            "key": text(original, "BODID"),
            "source": text(one(original, "Sender") or {}, "LogicalID"),
            "outcome": (text(status, "Code") or "accepted").lower(),
            "reason": text(one(status, "Description")) if one(status, "Description") else None}
    bodies = many(data, noun)
    if not bodies:
        raise B2mmlError(f"DataArea has no {noun}")
    return ("Sync" if verb in ("Show", "Respond") else verb), noun, facts, bodies


def timestamp(value, where):
    """A B2MML dateTime as the contract wants it: with an offset (none given: UTC, as
    xsd:dateTime without zone is read by most MES); None for an absent one."""
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise B2mmlError(f"{where}: {value!r} is not an xsd:dateTime") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.isoformat()


# ------------------------------------------------------------------ values
def identifier_out(identifier):
    if identifier.get("scheme"):
        return {"@schemeAgencyID": identifier["scheme"], "$": identifier["value"]}
    return identifier["value"]


def identifier_in(node):
    value = text(node)
    if value is None:
        return None
    scheme = node.get("@schemeAgencyID") or node.get("@schemeID") if isinstance(node, dict) \
        else None
    return {"value": value, "scheme": scheme} if scheme else {"value": value}


def quantity_out(quantity, key=None):
    body = {"QuantityString": _number(quantity["value"])}
    if quantity.get("unit_code"):
        body["UnitOfMeasure"] = {"@listID": REC20_LIST, "$": quantity["unit_code"]}
    elif quantity.get("unit_text"):
        body["UnitOfMeasure"] = quantity["unit_text"]
    if key:
        body["Key"] = key
    return body


def quantity_in(node, where):
    raw = text(node, "QuantityString")
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise B2mmlError(f"{where}/QuantityString {raw!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise B2mmlError(f"{where}/QuantityString {raw!r} is not a finite number")
    value = int(value) if value.is_integer() else value
    unit = one(node, "UnitOfMeasure")
    unit_text = text(unit)
    listed = isinstance(unit, dict) and "20" in str(unit.get("@listID") or "")
    if unit_text and _UNIT_CODE.match(unit_text) and (listed or unit_text in REC20):
        return {"value": value, "unit_code": unit_text}, text(node, "Key")
    if not unit_text:
        raise B2mmlError(f"{where}/UnitOfMeasure is required")
    return {"value": value, "unit_text": unit_text}, text(node, "Key")


def _number(value):
    return int(value) if isinstance(value, float) and value.is_integer() else value


def hierarchy_scope_out(scope):
    body = {"EquipmentID": scope["equipment_id"], "EquipmentLevel": scope["level"]}
    if scope.get("child"):
        body["HierarchyScopeChild"] = hierarchy_scope_out(scope["child"])
    return body


def hierarchy_scope_in(node):
    if not isinstance(node, dict):
        return None
    scope = {"equipment_id": text(node, "EquipmentID"),
             "level": text(node, "EquipmentLevel") or text(node, "EquipmentElementLevel")}
    child = hierarchy_scope_in(one(node, "HierarchyScopeChild"))
    if child:
        scope["child"] = child
    return scope


def value_out(value, data_type=None, unit=None):
    body = {"ValueString": _text_value(value)}
    if data_type:
        body["DataType"] = data_type
    if unit:
        body["UnitOfMeasure"] = unit
    return body


def _text_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return _number(value)


def property_value(node, prop_id):
    """The first ValueString of the property ``prop_id`` in ``node``'s property list."""
    for prop in node:
        if text(prop, "ID") == prop_id:
            values = many(prop, "Value")
            return text(values[0], "ValueString") if values else None
    return None


def drop_empty(body):
    return {key: value for key, value in body.items() if value not in (None, [], {}, "")}
