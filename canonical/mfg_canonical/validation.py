"""Fast validation of canonical envelopes.

Schemas are compiled once per (type, version) with fastjsonschema: ingest validates tens of
thousands of envelopes per second, which the reference ``jsonschema`` validator cannot do.
"""
import functools
import json
import re
from datetime import date, datetime
from pathlib import Path

import fastjsonschema

from .values import MAX_OCCURRED_AT, MIN_OCCURRED_AT, find_bad_value, occurred_at_in_range

SCHEMA_DIR = Path(__file__).with_name("schemas")
SCHEMA_BASE = "https://mfg-integration.example/schemas/"
ENVELOPE_FIELDS = ("key", "type", "schema_version", "source", "plant", "occurred_at",
                   "correlation_id", "payload")
# Added by envelope v2 (B2MML verb and ApplicationArea).
ENVELOPE_V2_FIELDS = ("created_at", "verb", "hierarchy_scope", "receiver", "acknowledges")
MAX_KEY_LENGTH = 200
_SCHEMA_FILE = re.compile(r"^(?P<type>[a-z_]+\.[a-z_]+)\.v(?P<version>\d+)\.json$")


class EnvelopeError(ValueError):
    """An envelope or payload does not satisfy the canonical contract."""


def _check_datetime(value):
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return parsed.tzinfo is not None


def _check_date(value):
    try:
        date.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return True


_FORMATS = {"date-time": _check_datetime, "date": _check_date}


def schema_path(type_name, version):
    return SCHEMA_DIR / f"{type_name}.v{int(version)}.json"


@functools.cache
def available_types():
    """{type: sorted versions} of every payload schema shipped."""
    found = {}
    for path in SCHEMA_DIR.glob("*.json"):
        match = _SCHEMA_FILE.match(path.name)
        if match and match["type"] != "envelope":
            found.setdefault(match["type"], []).append(int(match["version"]))
    return {name: sorted(versions) for name, versions in sorted(found.items())}


@functools.cache
def load_schema(type_name, version):
    path = schema_path(type_name, version)
    if not path.is_file():
        raise EnvelopeError(f"no schema for type {type_name!r} version {version}")
    return json.loads(path.read_text())


def _local_schema(uri):
    """``$ref`` targets come from this package only (definitions.v2.json): a schema never
    makes the validator fetch anything."""
    name = uri.split("#", 1)[0]
    if not name.startswith(SCHEMA_BASE) or "/" in name[len(SCHEMA_BASE):]:
        raise EnvelopeError(f"schema reference {uri!r} is not a schema of this package")
    path = SCHEMA_DIR / name[len(SCHEMA_BASE):]
    if not path.is_file():
        raise EnvelopeError(f"schema reference {uri!r}: no such schema")
    return json.loads(path.read_text())


def _compile(schema):
    return fastjsonschema.compile(schema, formats=_FORMATS, handlers={"https": _local_schema})


@functools.cache
def _compiled(type_name, version):
    return _compile(load_schema(type_name, version))


@functools.cache
def envelope_versions():
    return sorted(int(path.name.split(".v")[1].split(".")[0])
                  for path in SCHEMA_DIR.glob("envelope.v*.json"))


@functools.cache
def _envelope_validator(version):
    schema = json.loads((SCHEMA_DIR / f"envelope.v{version}.json").read_text())
    return _compile(schema)


def envelope_version_for(schema_version):
    """The envelope a payload version travels in: the newest envelope not newer than it
    (a v1 payload in envelope v1, v2 and later in envelope v2)."""
    if not isinstance(schema_version, int) or isinstance(schema_version, bool):
        return envelope_versions()[0]
    return max([v for v in envelope_versions() if v <= schema_version] or [1])


def _describe(exc, prefix):
    # fastjsonschema says "data.payload.qty must be number"; "data" means nothing to users.
    message = exc.message
    if message.startswith("data."):
        message = message.replace("data.", "", 1)
    alternatives = [alt.get("required") for alt in (exc.definition or {}).get("anyOf", [])
                    if isinstance(alt, dict)] if exc.rule == "anyOf" else []
    if alternatives and all(alternatives):
        message = message.replace("cannot be validated by any definition", "needs " + " or ".join(
            " + ".join(required) for required in alternatives))
    return f"{prefix}{message}"


def validate_payload(type_name, version, payload):
    versions = available_types().get(type_name)
    if versions is None:
        raise EnvelopeError(f"unknown type {type_name!r}")
    if version not in versions:
        raise EnvelopeError(
            f"unsupported schema_version {version} for type {type_name!r} (supported: {versions})")
    try:
        _compiled(type_name, version)(payload)
    except fastjsonschema.JsonSchemaException as exc:
        raise EnvelopeError(_describe(exc, "payload: ")) from None


def validate_envelope(envelope):
    """Raise EnvelopeError with a readable reason if ``envelope`` breaks the contract."""
    if not isinstance(envelope, dict):
        raise EnvelopeError(f"envelope must be a JSON object, got {type(envelope).__name__}")
    # Value rules first: the schema validator would accept NaN and NUL, and recurse into any
    # depth. Each envelope field (the payload above all) gets MAX_DEPTH levels of its own.
    for field, value in envelope.items():
        bad = find_bad_value(value, path=str(field))
        if bad:
            raise EnvelopeError(f"{bad[0]}: {bad[1]}")
    # bool is an int in Python; the contract wants a real integer version.
    if isinstance(envelope.get("schema_version"), bool):
        raise EnvelopeError("schema_version must be integer")
    version = envelope.get("schema_version")
    versions = available_types().get(envelope.get("type")) if isinstance(
        envelope.get("type"), str) else None
    if versions and isinstance(version, int) and version not in versions:
        # Said before the envelope's own rules: which envelope applies depends on it.
        raise EnvelopeError(f"unsupported schema_version {version} for type "
                            f"{envelope['type']!r} (supported: {versions})")
    try:
        _envelope_validator(envelope_version_for(version))(envelope)
    except fastjsonschema.JsonSchemaException as exc:
        raise EnvelopeError(_describe(exc, "")) from None
    parse_occurred_at(envelope["occurred_at"])
    if envelope.get("created_at") is not None:
        parse_occurred_at(envelope["created_at"], field="created_at")
    validate_payload(envelope["type"], envelope["schema_version"], envelope["payload"])


def parse_occurred_at(value, field="occurred_at"):
    """Parse an ISO-8601 timestamp with offset into an aware datetime in UTC.

    Raises EnvelopeError when it has no offset or lies outside the accepted range
    (see ``values.MIN_OCCURRED_AT`` / ``MAX_OCCURRED_AT``).
    """
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise EnvelopeError(f"{field} {value!r} is not an ISO-8601 date-time") from None
    if parsed.tzinfo is None:
        raise EnvelopeError(f"{field} {value!r} has no UTC offset")
    utc = occurred_at_in_range(parsed)
    if utc is None:
        raise EnvelopeError(f"{field}: out of range ({value!r}; accepted: "
                            f"{MIN_OCCURRED_AT:%Y-%m-%d} to {MAX_OCCURRED_AT:%Y-%m-%d} UTC)")
    return utc
