"""SAP's published service and function signatures, as the strict simulators check them.

Each module of this package holds what one SAP interface publishes, derived from SAP's own
metadata (OData EDMX/$metadata, BAPI signatures, IDoc segment definitions) and citing it: the
simulators check every request against these lists, not against what the addon happens to
send. This module holds the shared vocabulary and the OData V2 entity checker.

OData V2 JSON value formats (OData V2 JSON format specification, "Primitive types"):
Edm.String: JSON string up to MaxLength; Edm.Decimal: JSON *string* of a decimal number with at
most Precision digits, Scale of them after the point; Edm.DateTime: "/Date(<ms>)/";
Edm.DateTimeOffset: "/Date(<ms>+0000)/"; Edm.Time: ISO 8601 duration "PT06H30M00S";
Edm.Boolean: true/false; Edm.Guid: string; Edm.Byte/Int16/Int32: JSON number; Edm.Int64: string.
"""
import re
from collections import namedtuple

Property = namedtuple("Property", "edm_type max_length precision scale nullable",
                      defaults=(None, None, None, True))


class EntityType:
    """One EntityType of a service: key properties, properties, navigation properties."""

    def __init__(self, name, keys, properties, navigation=None, creatable=True,
                 updatable=True):
        self.name = name
        self.keys = tuple(keys)
        self.properties = dict(properties)
        self.navigation = dict(navigation or {})  # name -> target EntityType name
        self.creatable = creatable
        self.updatable = updatable


_DATE = re.compile(r"^/Date\((-?\d+)\)/$")
_DATE_OFFSET = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_TIME = re.compile(r"^PT(\d{1,2}H)?(\d{1,2}M)?(\d{1,2}(\.\d+)?S)?$")
_DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")


def value_problem(name, prop, value):
    """Why ``value`` is not a valid JSON value of ``prop`` (None when it is)."""
    if value is None:
        return None if prop.nullable else f"Property '{name}' must not be null"
    kind = prop.edm_type
    if kind == "Edm.String":
        if not isinstance(value, str):
            return f"Property '{name}' expects Edm.String, got {type(value).__name__}"
        if prop.max_length and len(value) > prop.max_length:
            return (f"Property '{name}' has a maximum length of {prop.max_length}: "
                    f"'{value[:60]}' is {len(value)} long")
        return None
    if kind == "Edm.Decimal":
        text = value if isinstance(value, str) else None
        if text is None or not _DECIMAL.match(text):
            return f"Property '{name}' expects Edm.Decimal as a JSON string, got {value!r}"
        whole, _sep, fraction = text.lstrip("-").partition(".")
        if prop.scale is not None and len(fraction.rstrip("0")) > prop.scale:
            return f"Property '{name}': {text} has more than {prop.scale} decimal places"
        if prop.precision is not None and prop.scale is not None and \
                len(whole.lstrip("0")) > prop.precision - prop.scale:
            return f"Property '{name}': {text} exceeds precision {prop.precision}"
        return None
    if kind == "Edm.DateTime":
        return None if isinstance(value, str) and _DATE.match(value) else \
            f"Property '{name}' expects Edm.DateTime as /Date(ms)/, got {value!r}"
    if kind == "Edm.DateTimeOffset":
        return None if isinstance(value, str) and _DATE_OFFSET.match(value) else \
            f"Property '{name}' expects Edm.DateTimeOffset as /Date(ms+0000)/, got {value!r}"
    if kind == "Edm.Time":
        return None if isinstance(value, str) and _TIME.match(value) else \
            f"Property '{name}' expects Edm.Time as PThhHmmMssS, got {value!r}"
    if kind == "Edm.Boolean":
        return None if isinstance(value, bool) else \
            f"Property '{name}' expects Edm.Boolean, got {value!r}"
    if kind in ("Edm.Byte", "Edm.Int16", "Edm.Int32"):
        return None if isinstance(value, int) and not isinstance(value, bool) else \
            f"Property '{name}' expects {kind} as a JSON number, got {value!r}"
    if kind in ("Edm.Int64", "Edm.Guid"):
        return None if isinstance(value, str) else \
            f"Property '{name}' expects {kind} as a JSON string, got {value!r}"
    return f"Property '{name}' has type {kind}, which this simulator does not know"


def body_problems(entity_type, body, types=None):
    """Problems of a JSON request body for ``entity_type`` (empty list: Gateway takes it).

    Unknown properties are refused as SAP Gateway refuses them (HTTP 400); navigation
    properties (deep insert) are checked against their target type from ``types``.
    """
    if not isinstance(body, dict):
        return [f"Request body for {entity_type.name} is not a JSON object"]
    problems = []
    for name, value in body.items():
        if name == "__metadata":
            continue
        if name in entity_type.navigation:
            target = (types or {}).get(entity_type.navigation[name])
            rows = value.get("results") if isinstance(value, dict) else value
            if target is None or not isinstance(rows, list):
                problems.append(f"Navigation property '{name}' cannot be deep-inserted here")
                continue
            for row in rows:
                problems.extend(body_problems(target, row, types))
            continue
        prop = entity_type.properties.get(name)
        if prop is None:
            problems.append(f"Property '{name}' is invalid: not a property of "
                            f"{entity_type.name}")
            continue
        problem = value_problem(name, prop, value)
        if problem:
            problems.append(problem)
    return problems


def gateway_error(code, message, details=()):
    """An SAP Gateway V2 error body (error.code / message.value / innererror.errordetails)."""
    return {"error": {"code": code, "message": {"lang": "en", "value": message},
                      "innererror": {"errordetails": [
                          {"code": c, "message": m, "severity": "error"} for c, m in details]}}}
