"""Faults with real processes: kill -9, broker restart, PLC restart, malformed input."""
import json
import random
import sqlite3
import time

import paho.mqtt.client as mqtt
import pytest
from helpers import (
    BridgeProcess,
    PrivateBroker,
    assert_matches_truth,
    asset_block,
    free_port,
    mqtt_source,
    opcua_source,
    unique,
    wait_truth,
    wait_until,
    write_config,
)

from edge_bridge.simulator.run import Simulation


@pytest.mark.parametrize("client", ["fast", "paho"])
def test_kill_9_at_random_points_loses_and_doubles_nothing(tmp_path, standin, client):
    broker = PrivateBroker(tmp_path).start()
    prefix = unique("mes")
    sim = Simulation(seed=11, rate=400, duration=8, scenario="breakdowns", mqtt_port=broker.port,
                     mqtt_prefix=prefix, mqtt_client_id=unique("sim")).start()
    config = write_config(tmp_path, [mqtt_source(broker.port, unique("edge"), prefix, client=client)],
                          [asset_block("PACK1", True)], standin.url, batch_size=100, batch_max_age_s=0.05)
    bridge = BridgeProcess(config, tmp_path / "bridge.log").start()
    rng = random.Random(5)
    try:
        sim.play()
        for _ in range(3):
            time.sleep(rng.uniform(0.8, 1.8))
            bridge.kill()                       # mid-batch, mid-window, mid-push: wherever it is
            bridge.start()
        sim.wait_sent(30)
        wait_truth(standin, sim.truth, "PACK1")
        assert bridge.terminate() == 0
        assert_matches_truth(standin.envelopes(), sim.truth, "PACK1")
    finally:
        if bridge.process.poll() is None:
            bridge.kill()
        sim.stop()
        broker.stop()


@pytest.mark.parametrize("client", ["fast", "paho"])
def test_broker_restart_reconnects_and_resumes_the_session(tmp_path, standin, client):
    broker = PrivateBroker(tmp_path).start()
    prefix = unique("mes")
    sim = Simulation(seed=12, rate=200, duration=6, scenario="normal", mqtt_port=broker.port,
                     mqtt_prefix=prefix, mqtt_client_id=unique("sim")).start()
    config = write_config(tmp_path, [mqtt_source(broker.port, unique("edge"), prefix, client=client)],
                          [asset_block("PACK1", True)], standin.url)
    bridge = BridgeProcess(config, tmp_path / "bridge.log").start()
    try:
        sim.play()
        time.sleep(2)
        broker.stop()
        wait_until(lambda: not bridge.health()["sources"]["mes"], 15, "bridge to notice the broker is gone")
        time.sleep(1)
        broker.start()
        wait_until(lambda: bridge.health()["sources"]["mes"], 20, "bridge to reconnect")
        sim.wait_sent(40)
        wait_truth(standin, sim.truth, "PACK1")
        assert bridge.terminate() == 0
        assert_matches_truth(standin.envelopes(), sim.truth, "PACK1")
    finally:
        if bridge.process.poll() is None:
            bridge.kill()
        sim.stop()
        broker.stop()


def test_plc_server_restart_reconnects_and_resubscribes(tmp_path, standin):
    sim = Simulation(seed=13, rate=200, duration=3, scenario="normal", opcua_port=free_port()).start()
    config = write_config(tmp_path, [opcua_source(sim.plc.endpoint)], [asset_block("PRESS1", False)], standin.url)
    bridge = BridgeProcess(config, tmp_path / "bridge.log").start()
    try:
        sim.restart_plc(down_s=1.0)
        wait_until(lambda: "OPC UA connection lost" in bridge.log_path.read_text(), 20, "bridge to notice")
        wait_until(lambda: bridge.log_path.read_text().count("OPC UA connected and subscribed") == 2, 20,
                   "bridge to resubscribe after PLC restart")
        sim.play()
        sim.wait_sent(30)
        bridge.wait_quiet("plc1")
        assert bridge.terminate() == 0
        # Played after the restart, so every reading must be there; the reconnect shows in the log.
        assert_matches_truth(standin.envelopes(), sim.truth, "PRESS1", extra_samples=2)
    finally:
        if bridge.process.poll() is None:
            bridge.kill()
        sim.stop()


def test_malformed_payloads_are_counted_dead_lettered_and_the_bridge_keeps_running(tmp_path, standin, shared_broker):
    prefix, client_id = unique("mes"), unique("edge")
    config = write_config(tmp_path, [mqtt_source(1883, client_id, prefix)], [asset_block("PACK1", True)],
                          standin.url)
    bridge = BridgeProcess(config, tmp_path / "bridge.log").start()
    publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=unique("pub"))
    publisher.connect("127.0.0.1", 1883)
    publisher.loop_start()
    now = time.time()
    bad = [b"{not json", b"\xff\xfe", json.dumps([1, 2]).encode(),
           json.dumps({"asset": "PACK1", "tag": "cycle_count", "value": "seven", "ts": now, "seq": 1}).encode(),
           json.dumps({"asset": "NOPE", "tag": "cycle_count", "value": 1, "ts": now, "seq": 2}).encode(),
           json.dumps({"asset": "PACK1", "tag": "cycle_count", "value": 1, "ts": "yesterday", "seq": 3}).encode()]
    good = [json.dumps({"asset": "PACK1", "tag": "cycle_count", "value": v, "ts": now + v / 100, "seq": 10 + v})
            for v in (0, 5)]
    try:
        for payload in bad + good:
            publisher.publish(f"{prefix}/PACK1/x", payload, qos=1).wait_for_publish(5)
        wait_until(lambda: bridge.metric("edge_messages_rejected_in_total", 'source="mes"') >= 6, 15,
                   "malformed inputs counted")
        # The good readings come after the bad ones: their window is delivered once it
        # closed (end + grace), not necessarily by the time the rejects are counted.
        wait_until(lambda: standin.envelopes("machine.counter"), 15, "the counter window")
        assert bridge.terminate() == 0
        db = sqlite3.connect(tmp_path / "buffer.db")
        reasons = [row[0] for row in db.execute("SELECT reason FROM dead_letter WHERE stage='input'")]
        assert len(reasons) == 6, reasons
        assert any("malformed MQTT payload" in r for r in reasons)
        assert any("needs a number" in r for r in reasons) and any("unknown asset" in r for r in reasons)
        counters = standin.envelopes("machine.counter")
        assert [c["payload"]["delta"] for c in counters] == [5]
    finally:
        publisher.loop_stop()
        if bridge.process.poll() is None:
            bridge.kill()
