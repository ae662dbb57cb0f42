"""Forwarder + Odoo transport against the ingest stand-in (real HTTP, real server thread)."""
import logging

import pytest
from helpers import wait_until

from edge_bridge.buffer import Outbox
from edge_bridge.config import BufferConfig, Secret, SinkConfig
from edge_bridge.envelopes import EnvelopeFactory
from edge_bridge.heartbeat import Heartbeat
from edge_bridge.observability import Metrics
from edge_bridge.simulator.odoo_standin import OdooStandIn
from edge_bridge.sink.forwarder import Forwarder
from edge_bridge.sink.odoo import make_transport

FACTORY = EnvelopeFactory("EDGE-T1", "P1", schema_version=1)


def events(count, start=0):
    return [FACTORY.build("machine.alarm", ("M1", "machine.alarm", "A", str(i)), "2024-01-01T00:00:00+00:00",
                          {"asset": "M1", "code": "A", "severity": "error", "active": True})
            for i in range(start, start + count)]


def forwarder_for(tmp_path, url, **sink):
    config = SinkConfig(url=url, api_key=Secret(sink.pop("api_key", "test-key")), db="edge",
                        **{"batch_size": 1000, "timeout_s": 2, "backoff_initial_s": 0.02, "backoff_max_s": 0.2,
                           "batch_max_age_s": 0.05, **sink})
    outbox = Outbox(tmp_path / "b.db")
    return outbox, Forwarder(outbox, make_transport(config, "test"), config, BufferConfig(), Metrics())


def push_until_empty(forwarder, outbox, attempts=50):
    for _ in range(attempts):
        if outbox.pending_count() == 0:
            return
        forwarder.push_once()
    raise AssertionError(f"{outbox.pending_count()} still pending")


def test_batches_by_size_and_everything_is_delivered(tmp_path, standin):
    outbox, forwarder = forwarder_for(tmp_path, standin.url)
    outbox.commit(events(2500))
    push_until_empty(forwarder, outbox)
    assert standin.batch_sizes == [1000, 1000, 500]
    assert standin.count() == 2500 and outbox.status()["delivered_retained"] == 2500


def test_duplicates_count_as_delivered(tmp_path, standin):
    outbox, forwarder = forwarder_for(tmp_path, standin.url)
    batch = events(10)
    standin.ingest(batch[:4])                  # Odoo already got these (lost answer, earlier run...)
    outbox.commit(batch)
    assert forwarder.push_once() is True
    assert standin.duplicates == 4 and outbox.pending_count() == 0 and standin.count() == 10


def test_rejected_envelopes_go_to_the_dead_letter_store(tmp_path, standin):
    standin.reject_if = lambda env: "unknown asset" if env["key"].endswith("/3") else None
    outbox, forwarder = forwarder_for(tmp_path, standin.url)
    outbox.commit(events(5))
    assert forwarder.push_once() is True
    dead = outbox.dead_letters()
    assert len(dead) == 1 and dead[0]["key"].endswith("/3") and "unknown asset" in dead[0]["reason"]
    assert outbox.pending_count() == 0 and standin.count() == 4


def test_server_errors_and_rate_limits_back_off_and_retry(tmp_path, standin):
    standin.fail_statuses = [503, 500, 429]
    outbox, forwarder = forwarder_for(tmp_path, standin.url)
    outbox.commit(events(20))
    outcomes = [forwarder.push_once() for _ in range(4)]
    assert [o is True for o in outcomes] == [False, False, False, True]
    assert outcomes[2].retry_after == pytest.approx(0.2)          # Retry-After honoured
    assert forwarder._backoff(outcomes[1]) <= 0.2
    assert standin.count() == 20 and outbox.pending_count() == 0


def test_timeout_after_odoo_stored_the_batch_ends_as_duplicates_not_doubles(tmp_path, standin):
    standin.delay_s = 1.5
    outbox, forwarder = forwarder_for(tmp_path, standin.url, timeout_s=0.5)
    outbox.commit(events(30))
    assert forwarder.push_once() is not True                     # answer lost...
    assert standin.count() == 30                                  # ...but Odoo stored it
    standin.delay_s = 0
    assert forwarder.push_once() is True
    assert standin.duplicates == 30 and standin.count() == 30 and outbox.pending_count() == 0


def test_auth_errors_keep_the_data_and_say_so(tmp_path, standin, caplog):
    outbox, forwarder = forwarder_for(tmp_path, standin.url, api_key="wrong")
    outbox.commit(events(3))
    with caplog.at_level(logging.ERROR):
        error = forwarder.push_once()
    assert error.status == 401 and outbox.pending_count() == 3
    assert "Odoo refuses the batch" in caplog.text and "wrong" not in caplog.text
    assert forwarder._backoff(error) == 0.2                       # slow retries, never dropped


def test_odoo_down_buffer_grows_then_drains(tmp_path):
    receiver = OdooStandIn().start()
    port = receiver.port
    receiver.stop()
    outbox, forwarder = forwarder_for(tmp_path, f"http://127.0.0.1:{port}", batch_size=500)
    forwarder.start()
    for start in range(0, 3000, 1000):
        outbox.commit(events(1000, start))
        forwarder.notify()
    wait_until(lambda: forwarder.failures >= 2, 10, "failed pushes while Odoo is down")
    assert outbox.pending_count() == 3000
    receiver = OdooStandIn(port=port).start()
    try:
        wait_until(lambda: outbox.pending_count() == 0, 20, "drain after Odoo is back")
        assert receiver.count() == 3000
    finally:
        forwarder.stop()
        receiver.stop()


def test_jsonrpc_transport_and_gzip_bodies(tmp_path, standin):
    outbox, forwarder = forwarder_for(tmp_path, standin.url, protocol="jsonrpc", login="edge", gzip=True)
    outbox.commit(events(7))
    assert forwarder.push_once() is True and standin.count() == 7
    heartbeat = Heartbeat(forwarder.transport, "EDGE-T1", outbox, 60, Metrics())
    heartbeat.beat()
    assert standin.heartbeats[-1] == {"code": "EDGE-T1", "version": heartbeat.payload()["version"],
                                      "buffer_depth": 0, "oldest_pending": None, "rejected_count": 0}


def test_heartbeat_failure_never_raises(tmp_path):
    outbox, forwarder = forwarder_for(tmp_path, "http://127.0.0.1:9")
    metrics = Metrics()
    Heartbeat(forwarder.transport, "EDGE-T1", outbox, 60, metrics).beat()
    assert metrics.heartbeat_failures._value.get() == 1


# -- one refused envelope must not hold up the rest (issue 8) ---------------------------------
def _poisoned(status, message="payload.avg: not a finite number"):
    return lambda envelope: (status, message) if envelope["key"].endswith("/A/7") else None


def _dead_letters(outbox):
    return [(d["key"], d["reason"]) for d in outbox.dead_letters() if d["stage"] == "sink"]


@pytest.mark.parametrize("status", [422, 500])
def test_a_batch_refused_because_of_one_envelope_is_split_the_rest_delivered_the_one_dead_lettered(
        tmp_path, status):
    receiver = OdooStandIn(refuse_batch_if=_poisoned(status)).start()
    try:
        outbox, forwarder = forwarder_for(tmp_path, receiver.url, batch_size=40)
        outbox.commit(events(40))
        push_until_empty(forwarder, outbox, attempts=5)
        assert receiver.count() == 39
        (dead,) = _dead_letters(outbox)
        assert dead[0].endswith("/A/7")
        assert f"HTTP {status}" in dead[1] and "payload.avg: not a finite number" in dead[1]
        assert forwarder.isolations == 1
        assert outbox.status()["pending"] == 0 and outbox.status()["delivered_retained"] == 39
    finally:
        receiver.stop()


def test_a_500_is_isolated_only_when_the_same_error_repeats(tmp_path):
    receiver = OdooStandIn(refuse_batch_if=_poisoned(500)).start()
    try:
        outbox, forwarder = forwarder_for(tmp_path, receiver.url, batch_size=40)
        outbox.commit(events(40))
        first = forwarder.push_once()
        assert first is not True and first.status == 500 and receiver.count() == 0 and forwarder.isolations == 0
        assert forwarder.push_once() is True and forwarder.isolations == 1 and receiver.count() == 39
    finally:
        receiver.stop()


def test_transient_503_keeps_retrying_the_whole_batch_and_loses_nothing(tmp_path, standin):
    outbox, forwarder = forwarder_for(tmp_path, standin.url, batch_size=40)
    outbox.commit(events(40))
    standin.fail_statuses = [503] * 6
    push_until_empty(forwarder, outbox, attempts=10)
    assert standin.batch_sizes == [40]                 # whole batch, never split
    assert standin.count() == 40 and _dead_letters(outbox) == [] and forwarder.isolations == 0


def test_an_odoo_that_fails_every_request_gets_nothing_dead_lettered(tmp_path, standin):
    outbox, forwarder = forwarder_for(tmp_path, standin.url, batch_size=8)
    outbox.commit(events(8))
    standin.fail_statuses = [500] * 200               # every call, the empty probe included
    for _ in range(6):
        assert forwarder.push_once() is not True
    assert _dead_letters(outbox) == [] and outbox.status()["pending"] == 8
    standin.fail_statuses = []
    push_until_empty(forwarder, outbox, attempts=3)
    assert standin.count() == 8 and _dead_letters(outbox) == []

