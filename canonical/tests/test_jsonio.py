"""Request bodies: hostile nesting stays one envelope's problem; unusable bodies say why."""
import pytest

from mfg_canonical import validate_envelope
from mfg_canonical.jsonio import PARSE_DEPTH, BodyError, cut_deep, loads


def envelope_text(key, payload_text):
    return ('{"key": "%s", "type": "machine.alarm", "schema_version": 1, "source": "E1", '
            '"occurred_at": "2026-11-23T08:00:00+00:00", "payload": %s}' % (key, payload_text))


@pytest.mark.parametrize("depth", [5_000, 100_000])
def test_deep_payload_parses_and_only_its_envelope_is_rejected(depth):
    deep = '{"n": ' * depth + "1" + "}" * depth
    body = '{"envelopes": [%s, %s]}' % (
        envelope_text("deep", '{"asset": "P", "code": "E", "severity": "info", "active": true, '
                              '"x": %s}' % deep),
        envelope_text("good", '{"asset": "P", "code": "E", "severity": "info", "active": true}'))
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
