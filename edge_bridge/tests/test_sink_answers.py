"""Malformed or hostile answers from Odoo (or whatever answers in its place: a proxy, a wrong URL)
are a transient error for the batch: retried with backoff, logged, counted - never a crash of the
forwarder, never data marked delivered or dead on the strength of an answer that makes no sense.
A real HTTP server gives the answers; the forwarder and transports are the real ones."""
import json
import logging
import threading

import pytest
from helpers import HttpPeer

from edge_bridge.buffer import Outbox
from edge_bridge.config import BufferConfig, Secret, SinkConfig
from edge_bridge.envelopes import EnvelopeFactory
from edge_bridge.observability import Metrics
from edge_bridge.sink.forwarder import Forwarder
from edge_bridge.sink.odoo import TransientError, make_transport

FACTORY = EnvelopeFactory("EDGE-T1", "P1", schema_version=1)
DEEP = "[" * 100_000 + "]" * 100_000          # response.json(): RecursionError, not ValueError


def _events(count):
    return [FACTORY.build("machine.alarm", ("M1", "machine.alarm", "A", str(i)), "2024-01-01T00:00:00+00:00",
                          {"asset": "M1", "code": "A", "severity": "error", "active": True}) for i in range(count)]


class ScriptedOdoo:
    """Answers the first ingest calls with the scripted raw bodies (HTTP 200), then like a healthy
    Odoo (everything accepted). COUNT in a script stands for the number of envelopes sent."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.calls = 0
        peer = HttpPeer(lambda method, path, body: (200, {}, self.answer(json.loads(body)).encode()))
        self.server, self.url = peer.server, peer.url

    def answer(self, request):
        if request.get("method") == "call":                       # JSON-RPC
            params = request["params"]
            if params["service"] == "common":
                return json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": 2})
            count = len(params["args"][-1]["envelopes"])
        else:
            count = len(request["envelopes"])
        self.calls += 1
        if self.answers:
            return self.answers.pop(0).replace("COUNT", str(count))
        good = json.dumps({"accepted": count, "duplicates": 0, "rejected": []})
        if request.get("method") == "call":
            return f'{{"jsonrpc": "2.0", "id": {request["id"]}, "result": {good}}}'
        return good


def _forwarder(tmp_path, url, protocol="json2"):
    config = SinkConfig(url=url, api_key=Secret("k"), db="edge", login="edge", protocol=protocol, batch_size=100,
                        timeout_s=5, backoff_initial_s=0.01, backoff_max_s=0.05, batch_max_age_s=0.01)
    outbox = Outbox(tmp_path / "b.db")
    metrics = Metrics()
    return outbox, Forwarder(outbox, make_transport(config, "test"), config, BufferConfig(), metrics), metrics


def _retries(metrics, kind):
    return metrics.push_retries.labels(kind)._value.get()


HOSTILE_JSON2 = {
    "rejected items are not objects": '{"accepted": 0, "duplicates": 0, "rejected": [0, 1, 2]}',
    "rejected is a string of the right length": '{"accepted": 0, "duplicates": 0, "rejected": "abc"}',
    "rejected is an object": '{"accepted": 0, "duplicates": 0, "rejected": {"a": 1, "b": 2, "c": 3}}',
    "rejected index out of range": ('{"accepted": 2, "duplicates": 0, "rejected": '
                                    '[{"index": 7, "key": "x", "error": "no"}]}'),
    "rejected index is not an integer": ('{"accepted": 2, "duplicates": 0, "rejected": '
                                         '[{"index": "0", "key": "x", "error": "no"}]}'),
    "the same envelope rejected twice": ('{"accepted": 1, "duplicates": 0, "rejected": [{"index": 0, "error": "a"},'
                                         ' {"index": 0, "error": "b"}]}'),
    "counts are strings": '{"accepted": "3", "duplicates": "0", "rejected": []}',
    "counts are booleans": '{"accepted": true, "duplicates": true, "rejected": [{"index": 0, "error": "x"}]}',
    "a negative count": '{"accepted": 4, "duplicates": -1, "rejected": []}',
    "counts are NaN": '{"accepted": NaN, "duplicates": 0, "rejected": []}',
    "counts overflow to infinity": '{"accepted": 1e999, "duplicates": 0, "rejected": []}',
    "counts do not add up": '{"accepted": COUNT, "duplicates": 1, "rejected": []}',
    "fields are missing": '{"accepted": COUNT}',
    "the answer is a list": "[1, 2, 3]",
    "the answer is null": "null",
    "the answer is not JSON": "<html>proxy error</html>",
    "the answer is nested too deep": DEEP,
    "a count is nested too deep": f'{{"accepted": {DEEP}, "duplicates": 0, "rejected": []}}',
}


@pytest.mark.parametrize("answer", list(HOSTILE_JSON2.values()), ids=list(HOSTILE_JSON2))
def test_a_hostile_json2_answer_is_a_transient_error_retried_until_odoo_answers_sanely(tmp_path, answer, caplog):
    odoo = ScriptedOdoo([answer, answer])
    outbox, forwarder, metrics = _forwarder(tmp_path, odoo.url)
    outbox.commit(_events(3))
    try:
        with caplog.at_level(logging.WARNING, logger="edge_bridge.sink.forwarder"):
            for attempt in (1, 2):
                outcome = forwarder.push_once()
                assert isinstance(outcome, TransientError), outcome
                assert outbox.pending_count() == 3 and outbox.status()["rejected"] == 0
                assert forwarder.failures == attempt and forwarder.last_error == str(outcome)
        assert _retries(metrics, "transient") == 2 and _retries(metrics, "permanent") == 0
        assert [r.message for r in caplog.records].count("push failed, will retry") == 2
        assert 0 < forwarder._backoff(outcome) <= 0.05
        assert forwarder.push_once() is True                    # Odoo answers sanely again
        assert outbox.pending_count() == 0 and odoo.calls == 3 and forwarder.failures == 0
    finally:
        odoo.server.shutdown()
        outbox.close()


HOSTILE_JSONRPC = {
    "error is a string": '{"jsonrpc": "2.0", "id": 1, "error": "boom"}',
    "error data is a string": '{"jsonrpc": "2.0", "id": 1, "error": {"message": "x", "data": "boom"}}',
    "error name is not a string": ('{"jsonrpc": "2.0", "id": 1, "error": {"message": "x", '
                                   '"data": {"name": ["AccessError"], "message": 5}}}'),
    "result with rejected items that are not objects": ('{"jsonrpc": "2.0", "id": 1, "result": '
                                                        '{"accepted": 0, "duplicates": 0, "rejected": [0, 1, 2]}}'),
    "the answer is nested too deep": DEEP,
    "the answer is a list": "[]",
}


@pytest.mark.parametrize("answer", list(HOSTILE_JSONRPC.values()), ids=list(HOSTILE_JSONRPC))
def test_a_hostile_jsonrpc_answer_is_a_transient_error_retried_until_odoo_answers_sanely(tmp_path, answer):
    odoo = ScriptedOdoo([answer])
    outbox, forwarder, metrics = _forwarder(tmp_path, odoo.url, protocol="jsonrpc")
    outbox.commit(_events(3))
    try:
        outcome = forwarder.push_once()
        assert isinstance(outcome, TransientError), outcome
        assert outbox.pending_count() == 3 and _retries(metrics, "transient") == 1
        assert forwarder.push_once() is True
        assert outbox.pending_count() == 0 and outbox.status()["rejected"] == 0
    finally:
        odoo.server.shutdown()
        outbox.close()


def test_a_hostile_answer_never_stops_the_running_forwarder_thread(tmp_path):
    odoo = ScriptedOdoo(list(HOSTILE_JSON2.values()))
    outbox, forwarder, metrics = _forwarder(tmp_path, odoo.url)
    outbox.commit(_events(5))
    forwarder.start()
    try:
        deadline = threading.Event()
        for _ in range(200):
            if outbox.pending_count() == 0:
                break
            deadline.wait(0.05)
        assert outbox.pending_count() == 0 and outbox.status()["rejected"] == 0
        assert forwarder.alive() and forwarder.restarts == 0
        assert odoo.calls == len(HOSTILE_JSON2) + 1
        assert _retries(metrics, "transient") == len(HOSTILE_JSON2)
    finally:
        forwarder.stop()
        odoo.server.shutdown()
        outbox.close()
