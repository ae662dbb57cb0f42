"""Pick asset/tag/value/timestamp/sequence out of JSON items with configurable paths.

Shared by the MQTT and HTTP polling sources. Paths are dotted (``data.items.0.v``); for MQTT,
``topic[N]`` takes the N-th topic level instead.
"""
import math
import re
from dataclasses import dataclass
from datetime import datetime, timezone

from mfg_canonical.values import occurred_at_in_range

from ..config import ConfigError
from ..signals import Signal

_MISSING = object()


@dataclass
class FieldPaths:
    """Where asset/tag/value/timestamp/sequence live in a JSON item ("a.b.0", or "topic[1]")."""
    asset: str | None = "asset"
    tag: str | None = "tag"
    value: str = "value"
    timestamp: str | None = "ts"
    sequence: str | None = "seq"
    fixed_asset: str | None = None
    fixed_tag: str | None = None


def parse_field_paths(node, topic_allowed):
    node.check_known("asset", "tag", "value", "timestamp", "sequence", "fixed_asset", "fixed_tag")
    paths = FieldPaths(
        asset=node.str("asset", "asset"), tag=node.str("tag", "tag"), value=node.str("value", "value"),
        timestamp=node.str("timestamp", "ts"), sequence=node.str("sequence", "seq"),
        fixed_asset=node.str("fixed_asset"), fixed_tag=node.str("fixed_tag"))
    for name in ("asset", "tag"):
        path = getattr(paths, name)
        if path and path.startswith("topic[") and not topic_allowed:
            raise ConfigError(f"{node._key(name)}: topic[N] paths only exist for MQTT sources")
        if path and path.startswith("topic[") and not re.fullmatch(r"topic\[\d+\]", path):
            raise ConfigError(f"{node._key(name)}: must look like topic[1] (got {path!r})")
    return paths


class FieldError(ValueError):
    pass


def extract(document, path, topic=None):
    if path.startswith("topic["):
        levels = (topic or "").split("/")
        index = int(path[6:-1])
        if index >= len(levels):
            return _MISSING
        return levels[index]
    current = document
    for part in path.split("."):
        if isinstance(current, dict):
            current = current.get(part, _MISSING)
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return _MISSING
        if current is _MISSING:
            return _MISSING
    return current


def describe_parse_error(exc):
    """Reason text for any failure to turn one raw input into readings (never re-raised).

    json.loads raises RecursionError on deeply nested input and datetime OverflowError on extreme
    timestamps; both are as much "bad input" as a JSON syntax error and must be dead-lettered.
    """
    if isinstance(exc, RecursionError):
        return "payload: nested too deep to parse"
    if isinstance(exc, FieldError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def parse_timestamp(value):
    try:
        parsed = _parse_timestamp(value)
    except (OverflowError, OSError) as exc:        # epoch 1e300, year 0 after the offset...
        raise FieldError(f"timestamp {value!r}: out of range ({exc})") from None
    in_range = occurred_at_in_range(parsed)        # the canonical rule for occurred_at
    if in_range is None:
        raise FieldError(f"timestamp {value!r}: out of range")
    return in_range


def _parse_timestamp(value):
    if isinstance(value, bool):
        raise FieldError(f"timestamp must be ISO-8601 or epoch seconds, got {value!r}")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise FieldError(f"timestamp {value!r}: not a finite number")
        seconds = value / 1000.0 if value > 1e11 else float(value)   # epoch ms or s
        return datetime.fromtimestamp(seconds, timezone.utc)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise FieldError(f"timestamp {value!r} is not ISO-8601") from None
        if parsed.tzinfo is None:
            raise FieldError(f"timestamp {value!r} has no UTC offset")
        return parsed
    raise FieldError(f"timestamp must be ISO-8601 or epoch seconds, got {type(value).__name__}")


def to_signal(source_name, item, paths, received_at, topic=None):
    """Build a Signal from one JSON item or raise FieldError naming what is wrong."""
    if not isinstance(item, dict):
        raise FieldError(f"payload must be a JSON object, got {type(item).__name__}")
    asset = paths.fixed_asset or (extract(item, paths.asset, topic) if paths.asset else _MISSING)
    tag = paths.fixed_tag or (extract(item, paths.tag, topic) if paths.tag else _MISSING)
    value = extract(item, paths.value, topic)
    for name, found in (("asset", asset), ("tag", tag), ("value", value)):
        if found is _MISSING:
            raise FieldError(f"field {name} not found at {getattr(paths, name)!r}")
    timestamp = received_at
    if paths.timestamp:
        raw = extract(item, paths.timestamp, topic)
        if raw is not _MISSING and raw is not None:
            timestamp = parse_timestamp(raw)
    sequence = None
    if paths.sequence:
        raw = extract(item, paths.sequence, topic)
        if raw is not _MISSING and raw is not None:
            if isinstance(raw, bool) or not isinstance(raw, int):
                raise FieldError(f"sequence must be an integer, got {raw!r}")
            sequence = raw
    return Signal(source=source_name, asset=str(asset), tag=str(tag), value=value,
                  timestamp=timestamp, sequence=sequence)
