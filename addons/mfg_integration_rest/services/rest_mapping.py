"""Declarative mapping between canonical payloads and a REST peer's JSON.

Nothing here evaluates code. A placeholder ``{{ payload.qty_good | float }}`` is a dotted
path into a known context (payload, envelope, item, ...) followed by filters from a fixed
list; a field line is (target path, source path, transform). Both fail with a
MappingError that says which path and why, which the endpoint form shows as its preview
and the message as its error.
"""
import json
import re
from datetime import date, datetime, timezone
from urllib.parse import quote

PLACEHOLDER = re.compile(r"\{\{\s*(.*?)\s*\}\}")
SIMPLE_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.\-]+)\}")
PATH_SEGMENT = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_\-]*|\d+)$")
TRANSFORMS = [
    ("str", "Text"),
    ("int", "Integer"),
    ("float", "Decimal number"),
    ("bool", "Boolean"),
    ("upper", "Upper case"),
    ("lower", "Lower case"),
    ("iso_datetime", "ISO 8601 date-time (UTC)"),
    ("date", "ISO date (YYYY-MM-DD)"),
    ("map", "Odoo code to external code (mfg.mapping)"),
    ("table", "Value table (A=x; B=y; *=default)"),
]
_MISSING = object()


class MappingError(ValueError):
    """The mapping cannot be applied to this data (or is itself malformed)."""


def split_path(path):
    parts = (path or "").strip().split(".")
    if not path or not all(PATH_SEGMENT.match(part) for part in parts):
        raise MappingError(f"invalid path {path!r}: use names and list indexes separated by "
                           "dots, e.g. payload.qty_good or data.0.id")
    return parts


def get_path(data, path, default=_MISSING):
    current = data
    for part in split_path(path):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        elif default is not _MISSING:
            return default
        else:
            raise MappingError(f"{path}: no value at {part!r}")
    return current


def set_path(data, path, value):
    parts = split_path(path)
    current = data
    for part in parts[:-1]:
        current = current.setdefault(part, {})
        if not isinstance(current, dict):
            raise MappingError(f"{path}: {part!r} is already a value, not an object")
    current[parts[-1]] = value


def _parse_datetime(value):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value).strip()
        try:
            moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        except ValueError:
            raise MappingError(f"{value!r} is not an ISO 8601 date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _to_bool(value):
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "1", "yes", "y", "x"):
            return True
        if lowered in ("false", "0", "no", "n", ""):
            return False
        raise MappingError(f"{value!r} is not a boolean")
    return bool(value)


def _to_date(value):
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    text = str(value).strip()
    if len(text) == 10:
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise MappingError(f"{value!r} is not an ISO date") from None
    return _parse_datetime(value).date().isoformat()


def _number(kind):
    def convert(value):
        try:
            return kind(float(value)) if kind is int else kind(value)
        except (TypeError, ValueError):
            raise MappingError(f"{value!r} is not a number") from None
    return convert


_CONVERTERS = {
    "str": lambda value: "" if value is None else str(value),
    "int": _number(int),
    "float": _number(float),
    "bool": _to_bool,
    "upper": lambda value: str(value).upper(),
    "lower": lambda value: str(value).lower(),
    "iso_datetime": lambda value: _parse_datetime(value).astimezone(timezone.utc)
    .isoformat().replace("+00:00", "Z"),
    "date": _to_date,
}


def _lookup_table(spec, value):
    """``HIGH=critical; LOW=info; *=warning``: a fixed value table (``*`` = otherwise)."""
    table = {}
    for entry in spec.replace(",", ";").split(";"):
        if entry.strip():
            source, sep, target = entry.partition("=")
            if not sep:
                raise MappingError(f"value table entry {entry.strip()!r} is not source=target")
            table[source.strip()] = target.strip()
    key = _as_text(value)
    if key in table:
        return table[key]
    if "*" in table:
        return table["*"]
    raise MappingError(f"{value!r} is not in the value table ({', '.join(table)})")


def apply_transform(name, value, mapper=None):
    """Apply transform ``name`` ("map:<mapping type>" for mfg.mapping) to ``value``."""
    name = (name or "").strip()
    if not name:
        return value
    if name == "map" or name.startswith("map:"):
        kind = name[4:].strip()
        if not kind:
            raise MappingError("the map transform needs a mapping type, e.g. map:product")
        if mapper is None:
            raise MappingError("map: is only available for requests sent by Odoo (inbound "
                               "codes are mapped by the integration core)")
        return mapper(kind, value)
    if name.startswith("table:"):
        return _lookup_table(name[6:], value)
    converter = _CONVERTERS.get(name)
    if converter is None:
        raise MappingError(f"unknown transform {name!r} (allowed: "
                           f"{', '.join(sorted(_CONVERTERS))}, map:<type>, table:A=x;B=y, "
                           "optional)")
    return converter(value)


def evaluate(expression, context, mapper=None):
    """``path | filter | filter``; the filter ``optional`` makes a missing path null."""
    path, *filters = [part.strip() for part in expression.split("|")]
    optional = "optional" in filters
    value = get_path(context, path, None if optional else _MISSING)
    if value is None and optional:
        return None
    for name in filters:
        if name != "optional":
            value = apply_transform(name, value, mapper)
    return value


def _as_text(value):
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _render_node(node, context, mapper):
    if isinstance(node, dict):
        return {key: _render_node(value, context, mapper) for key, value in node.items()}
    if isinstance(node, list):
        return [_render_node(value, context, mapper) for value in node]
    if isinstance(node, str):
        whole = PLACEHOLDER.fullmatch(node.strip())
        if whole:  # the whole string is one placeholder: keep the value's JSON type
            return evaluate(whole.group(1), context, mapper)
        return PLACEHOLDER.sub(lambda m: _as_text(evaluate(m.group(1), context, mapper)), node)
    return node


def parse_template(text):
    try:
        return json.loads(text)
    except ValueError as exc:
        raise MappingError(f"the template is not valid JSON: {exc}") from None


def render_template(text, context, mapper=None):
    """Render a JSON template whose strings may hold {{ placeholders }}."""
    return _render_node(parse_template(text), context, mapper)


def render_text(text, context, mapper=None):
    return PLACEHOLDER.sub(lambda m: _as_text(evaluate(m.group(1), context, mapper)), text or "")


def render_path(template, context, mapper=None):
    """A URL path: ``{order_ref}`` is a payload field, ``{envelope.key}`` any context path,
    ``{{ ... }}`` a full placeholder; every value is URL-quoted."""
    def quoted(value):
        return quote(_as_text(value), safe="")

    path = PLACEHOLDER.sub(lambda m: quoted(evaluate(m.group(1), context, mapper)),
                           template or "")

    def simple(match):
        name = match.group(1)
        return quoted(get_path(context, name if "." in name else f"payload.{name}"))

    return SIMPLE_PLACEHOLDER.sub(simple, path)


def build_from_lines(lines, context, mapper=None):
    """Build a JSON object from [(target path, source path, transform, required)]."""
    result = {}
    for target, source, transform, required in lines:
        value = get_path(context, source, _MISSING if required else None)
        if value is None and not required:
            continue
        set_path(result, target, apply_transform(transform, value, mapper))
    return result
