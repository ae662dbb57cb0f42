"""Values JSON Schema lets through but nothing can store: each is a reject naming its path."""
import json

import pytest
from mfg_canonical import MAX_DEPTH, EnvelopeError, find_bad_value, validate_envelope


def measurement(**changes):
    envelope = {"key": "m1", "type": "machine.measurement", "schema_version": 1,
                "source": "EDGE-1", "occurred_at": "2026-11-23T08:00:00+00:00",
                "payload": {"asset": "OVEN1", "tag": "temp", "min": 20.0, "max": 22.0,
                            "avg": 21.0, "last": 21.5, "count": 10,
                            "window_start": "2026-11-23T07:59:00+00:00",
                            "window_end": "2026-11-23T08:00:00+00:00"}}
    payload = changes.pop("payload", {})
    envelope.update(changes)
    envelope["payload"].update(payload)
    return envelope


def nested(depth):
    value = "leaf"
    for _ in range(depth):
        value = {"n": value}
    return value


HOSTILE = [
    ({"payload": {"avg": float("nan")}}, "payload.avg: not a finite number"),
    ({"payload": {"max": float("inf")}}, "payload.max: not a finite number"),
    ({"payload": {"min": json.loads("-1e999")}}, "payload.min: not a finite number"),
    ({"key": "m\x001"}, "key: NUL character not allowed"),
    ({"payload": {"note": "a\x00b"}}, "payload.note: NUL character not allowed"),
    ({"payload": {"note": "\ud800"}}, "payload.note: invalid Unicode \\(lone surrogate\\)"),
    ({"payload": {"\ud800": 1}}, "payload: object key: invalid Unicode"),
    ({"payload": {"list": [1, 2, {"x": float("nan")}]}}, r"payload.list\[2\].x: not a finite"),
    ({"occurred_at": "0001-01-01T00:00:00+23:59"}, "occurred_at: out of range"),
    ({"occurred_at": "9999-12-31T23:59:59-23:59"}, "occurred_at: out of range"),
    ({"occurred_at": "1900-01-01T00:00:00+00:00"}, "occurred_at: out of range"),
    ({"payload": {"deep": nested(3000)}}, f"nested deeper than {MAX_DEPTH} levels"),
]


@pytest.mark.parametrize("changes, reason", HOSTILE)
def test_hostile_values_are_rejected_with_their_path(changes, reason):
    with pytest.raises(EnvelopeError, match=reason):
        validate_envelope(measurement(**changes))


def test_ordinary_values_pass():
    validate_envelope(measurement())
    validate_envelope(measurement(payload={"deep": nested(MAX_DEPTH - 2), "note": "ü €"}))
    validate_envelope(measurement(occurred_at="1970-01-01T00:00:00+00:00"))


def test_depth_limit_counts_payload_levels():
    assert find_bad_value(nested(MAX_DEPTH)) is None
    assert find_bad_value(nested(MAX_DEPTH + 1))[1] == f"nested deeper than {MAX_DEPTH} levels"


def test_walk_survives_depth_beyond_the_recursion_limit():
    deep = []
    for _ in range(100_000):
        deep = [deep]
    assert find_bad_value(deep)[1].startswith("nested deeper")


def test_storable_copy_nulls_what_cannot_be_stored_and_keeps_the_rest():
    from mfg_canonical import storable_copy

    deep = current = {}
    for _level in range(40):
        current["x"] = {}
        current = current["x"]
    value = {"qty": float("nan"), "inf": float("-inf"), "ok": 1.5, "text": "a\x00b",
             "lone": "x\ud800y", "items": [float("inf"), 2, "fine"], "deep": deep}
    copy = storable_copy(value)
    assert find_bad_value(copy) is None
    assert (copy["qty"], copy["inf"], copy["ok"]) == (None, None, 1.5)
    assert (copy["text"], copy["lone"]) == ("ab", "xy")
    assert copy["items"] == [None, 2, "fine"]
    json.dumps(copy, allow_nan=False)
    assert value["qty"] != value["qty"], "the original is left alone"
