"""Hostile and faulty inputs over MQTT and HTTP polling: each one is dead-lettered with its reason,
acknowledged, and everything else is delivered (issue 8). Real Mosquitto, real bridge process."""
import json
import math
import sqlite3
import time

import paho.mqtt.client as mqtt
import pytest
from helpers import BridgeProcess, HttpPeer, asset_block, mqtt_source, unique, wait_until, write_config

DEEP = ("[" * 100_000 + "]" * 100_000).encode()        # json.loads: RecursionError, not ValueError


def _reading(tag, value, ts, seq):
    return {"asset": "PACK1", "tag": tag, "value": value, "ts": ts, "seq": seq}


def _window_middle():
    """The middle of the current 1 s aggregation window: the good readings (now .. now+0.03)
    then always share one window, wherever the test starts in the second."""
    return math.floor(time.time()) + 0.5


def _hostile_and_good(now):
    """(hostile raw payloads, good raw payloads); NaN/Infinity/1e999 are what json.loads accepts."""
    hostile = [
        DEEP,
        b'{"asset": "PACK1", "tag": "temperature", "value": NaN, "ts": %f, "seq": 2}' % now,
        b'{"asset": "PACK1", "tag": "temperature", "value": Infinity, "ts": %f, "seq": 3}' % now,
        b'{"asset": "PACK1", "tag": "temperature", "value": 1e999, "ts": %f, "seq": 4}' % now,
        json.dumps(_reading("cycle_count", 3, "0001-01-01T00:00:00+23:59", 5)).encode(),
        json.dumps(_reading("cycle_count", 3, "9999-12-31T23:59:59-23:59", 6)).encode(),
        json.dumps(_reading("cycle_count", 3, 1e300, 7)).encode(),
    ]
    good = [json.dumps(_reading("cycle_count", 0, now, 10)).encode(),
            json.dumps(_reading("temperature", 20.0, now + 0.01, 11)).encode(),
            json.dumps(_reading("temperature", 22.0, now + 0.02, 12)).encode(),
            json.dumps(_reading("cycle_count", 5, now + 0.03, 13)).encode()]
    return hostile, good


def _input_dead_letters(tmp_path):
    db = sqlite3.connect(tmp_path / "buffer.db")
    try:
        return [row[0] for row in db.execute("SELECT reason FROM dead_letter WHERE stage='input' ORDER BY id")]
    finally:
        db.close()


def _assert_reasons(reasons):
    assert sum("not a finite number" in r for r in reasons) == 3, reasons
    assert sum("out of range" in r for r in reasons) == 3, reasons
    assert sum("nested too deep" in r for r in reasons) == 1, reasons


@pytest.mark.parametrize("client", ["fast", "paho"])
def test_mqtt_nan_inf_deep_json_and_overflow_timestamps_are_dead_lettered_and_the_rest_delivered(
        tmp_path, standin, shared_broker, client):
    prefix = unique("mes")
    config = write_config(tmp_path, [mqtt_source(1883, unique("edge"), prefix, client=client)],
                          [asset_block("PACK1", True)], standin.url)
    bridge = BridgeProcess(config, tmp_path / "bridge.log").start()
    publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=unique("pub"))
    publisher.connect("127.0.0.1", 1883)
    publisher.loop_start()
    hostile, good = _hostile_and_good(_window_middle())
    try:
        for payload in hostile + good:
            publisher.publish(f"{prefix}/PACK1/x", payload, qos=1).wait_for_publish(5)
        wait_until(lambda: len(standin.envelopes("machine.measurement")) == 1, 20, "the measurement window")
        assert bridge.health()["worker"] and bridge.health()["sources"] == {"mes": True}
        assert bridge.metric("edge_readings_rejected_total", 'reason="not a finite number"') == 3
        assert bridge.metric("edge_readings_rejected_total", 'reason="malformed input"') == 4
        # Acknowledged: a restart must not see any of them again (no redelivery loop).
        assert bridge.terminate() == 0
        reasons = _input_dead_letters(tmp_path)
        assert len(reasons) == 7, reasons
        _assert_reasons(reasons)
        assert any(r.startswith("PACK1.temperature: not a finite number") for r in reasons), reasons
        bridge.start()
        time.sleep(1.5)
        assert bridge.terminate() == 0
        assert len(_input_dead_letters(tmp_path)) == 7
        counters = standin.envelopes("machine.counter")
        assert [c["payload"]["delta"] for c in counters] == [5]
        (measurement,) = standin.envelopes("machine.measurement")
        assert measurement["payload"]["count"] == 2 and measurement["payload"]["avg"] == 21.0
    finally:
        publisher.loop_stop()
        if bridge.process.poll() is None:
            bridge.kill()


class HostileMes:
    """One page of items (some hostile), then a page too deeply nested to parse, then nothing."""

    def __init__(self, items):
        self.items, self.requests = items, 0
        peer = HttpPeer(self.respond, "/events")
        self.server, self.url = peer.server, peer.url

    def respond(self, method, path, body):
        self.requests += 1
        if "since" not in path:
            return 200, {}, ('{"items": [' + ",".join(self.items) + "]}").encode()
        if self.requests < 6:
            return 200, {}, b'{"items": ' + DEEP + b"}"
        return 200, {}, b'{"items": []}'


def test_http_poll_hostile_items_and_an_unparsable_page_are_dead_lettered_and_polling_goes_on(tmp_path, standin):
    hostile, good = _hostile_and_good(_window_middle())
    api = HostileMes([p.decode() for p in hostile[1:] + good])
    source = {"name": "mes_rest", "type": "http_poll",
              "http_poll": {"url": api.url, "interval_s": 0.1, "cursor_path": None}}
    config = write_config(tmp_path, [source], [asset_block("PACK1", True)], standin.url)
    bridge = BridgeProcess(config, tmp_path / "bridge.log").start()
    try:
        wait_until(lambda: api.requests >= 7, 30, "polling to go on after the unparsable page")
        wait_until(lambda: len(standin.envelopes("machine.measurement")) == 1, 20, "the measurement window")
        assert bridge.health()["worker"]
        assert bridge.terminate() == 0
        reasons = _input_dead_letters(tmp_path)
        assert len(reasons) == 7, reasons            # the deep page once, not once per poll
        _assert_reasons(reasons)
        assert [c["payload"]["delta"] for c in standin.envelopes("machine.counter")] == [5]
    finally:
        if bridge.process.poll() is None:
            bridge.kill()
        api.server.shutdown()
