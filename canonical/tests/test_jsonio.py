"""Request bodies: hostile nesting stays one envelope's problem; unusable bodies say why."""
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mfg_canonical import validate_envelope
from mfg_canonical.jsonio import CUT_MAX_CHARS, PARSE_DEPTH, BodyError, cut_deep, loads


def envelope_text(key, payload_text):
    return (f'{{"key": "{key}", "type": "machine.alarm", "schema_version": 1, "source": "E1", '
            f'"occurred_at": "2026-11-23T08:00:00+00:00", "payload": {payload_text}}}')


@pytest.mark.parametrize("depth", [5_000, 100_000])
def test_deep_payload_parses_and_only_its_envelope_is_rejected(depth):
    deep = '{"n": ' * depth + "1" + "}" * depth
    deep_envelope = envelope_text(
        "deep",
        '{"asset": "P", "code": "E", "severity": "info", "active": true, "x": ' + deep + "}")
    good_envelope = envelope_text(
        "good", '{"asset": "P", "code": "E", "severity": "info", "active": true}')
    body = f'{{"envelopes": [{deep_envelope}, {good_envelope}]}}'
    envelopes = loads(body.encode())["envelopes"]
    with pytest.raises(Exception, match="nested deeper than 32 levels"):
        validate_envelope(envelopes[0])
    validate_envelope(envelopes[1])


def test_cut_keeps_strings_that_look_like_brackets():
    text = '{"s": "[[{", "a": [[[1]]]}'
    assert cut_deep(text, limit=2) == '{"s": "[[{", "a": [null]}'
    assert loads(text) == {"s": "[[{", "a": [[[1]]]}


def test_values_are_left_to_the_value_rules():
    assert repr(loads(b'[NaN, 1e999, -Infinity, "\\ud800", "a\\u0000"]')) == \
        "[nan, inf, -inf, '\\ud800', 'a\\x00']"


@pytest.mark.parametrize("body, reason", [
    (b"\xff\xfe{}", "not valid UTF-8"),
    (b'{"a": "\xc3"}', "not valid UTF-8"),
    (b"{not json", "malformed JSON"),
    (b"[" * 300_000, "malformed JSON"),
    (b'{"a":' * (PARSE_DEPTH * 10), "malformed JSON"),
    (b"1" * 5000, "malformed JSON"),
])
def test_unusable_bodies_raise_body_error_with_a_reason(body, reason):
    with pytest.raises(BodyError, match=reason):
        loads(body)


def _cut_reference(value, limit, depth=0):
    """What cut_deep must produce, computed on the parsed value instead of the text."""
    if isinstance(value, (list, dict)) and depth >= limit:
        return None
    if isinstance(value, list):
        return [_cut_reference(item, limit, depth + 1) for item in value]
    if isinstance(value, dict):
        return {key: _cut_reference(item, limit, depth + 1) for key, item in value.items()}
    return value


JSON_VALUES = st.recursive(
    st.none() | st.integers() | st.text(alphabet='[]{}"\\ab,:'),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(alphabet='[]{}"\\ab', max_size=4), inner, max_size=4),
    max_leaves=40)


@settings(max_examples=300, deadline=None, database=None)
@given(value=JSON_VALUES, limit=st.integers(min_value=0, max_value=8))
def test_cut_deep_equals_cutting_the_parsed_value(value, limit):
    assert json.loads(cut_deep(json.dumps(value), limit)) == _cut_reference(value, limit)


def test_a_hostile_body_too_big_for_the_cutting_pass_is_refused_whole():
    body = b"[" * 2000 + b"[]," * (CUT_MAX_CHARS // 3 + 1) + b"]" * 2000
    with pytest.raises(BodyError, match="nested deeper than the parser allows"):
        loads(body)
