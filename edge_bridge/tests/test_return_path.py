"""The return path (Odoo -> plant) through the bridge, against real peers: the Odoo stand-in's
edge_fetch/edge_report (the contract of mfg.connector), the shared Mosquitto, a real HTTP MES and
the simulator's OPC UA PLC (asyncua server with writable order and setpoint nodes, one read-only
node, a drive that clamps its speed). Each delivery has its outcome reported to Odoo; a bad
message is refused with its reason and never holds up the next one; a target that is down makes
its messages wait, in order; the bridge killed at each step loses nothing and reports nothing
twice. The real-Odoo end to end (an MO release reaching the PLC) is tests/test_edge_return_path.py
at the repository root."""
import json
import os
import subprocess
import time

import paho.mqtt.client as mqtt
import pytest
import yaml
from helpers import EDGE_BRIDGE, BridgeProcess, HttpPeer, ThreadedPlc, free_port, unique, wait_until

from edge_bridge import faults
from edge_bridge.config import ConfigError, parse_config
from edge_bridge.observability import Metrics
from edge_bridge.returnpath import CommandStore, ReturnPath
from edge_bridge.sink.odoo import make_transport
from edge_bridge.targets import target_types


def order(ref, qty=10.0, product="BRK-100"):
    return {"schema_version": 1, "type": "production.order", "key": f"release-{ref}", "source": "EDGE-T1",
            "occurred_at": "2026-12-04T08:00:00+00:00",
            "payload": {"order_ref": ref, "action": "release", "product": product, "qty": qty, "uom": "PCE"}}


def setpoint(ref, parameters, equipment="PRESS1"):
    return {"schema_version": 2, "type": "machine.setpoint", "verb": "Process", "key": f"sp-{ref}",
            "source": "EDGE-T1", "occurred_at": "2026-12-04T08:00:00+00:00",
            "payload": {"setpoint_id": ref, "equipment_id": {"value": equipment},
                        "parameters": [{"id": name, "value": value} for name, value in parameters]}}


def bridge_config(tmp_path, standin, targets, routes, poll_interval_s=0.05):
    return {"device": {"code": "EDGE-T1"}, "buffer": {"path": str(tmp_path / "buffer.db")},
            "sink": {"url": standin.url, "api_key": "test-key", "timeout_s": 5},
            "heartbeat": {"enabled": False}, "observability": {"port": free_port()},
            "targets": targets, "return_path": {"routes": routes, "poll_interval_s": poll_interval_s}}


class Stage:
    """The return path stage in this process, as the runtime builds it."""

    def __init__(self, tmp_path, standin, targets, routes):
        config = parse_config(bridge_config(tmp_path, standin, targets, routes), base_dir=tmp_path)
        self.targets = {t.name: target_types()[t.type](t.name, t.settings) for t in config.targets}
        self.store = CommandStore(config.buffer.path)
        self.stage = ReturnPath(config.return_path, "EDGE-T1", make_transport(config.sink, "test"), self.store,
                                self.targets, Metrics())

    def __enter__(self):
        self.stage.start()
        return self

    def __exit__(self, *exc):
        self.stage.stop()
        self.close()

    def close(self):
        for target in self.targets.values():
            target.close()
        self.store.close()


def finished(standin, ids):
    states = standin.outbound_states()
    return all(states[i]["state"] in ("done", "exception") for i in ids)


def plc_target(port, read_back=True):
    node = "ns=2;s=PRESS1.{}".format
    return {"name": "press1", "type": "opcua", "opcua": {
        "endpoint": f"opc.tcp://127.0.0.1:{port}/edge-sim/", "timeout_s": 1, "read_back": read_back,
        "writes": {"production.order": [
            {"node_id": node("order_ref"), "value": "payload.order_ref", "data_type": "String"},
            {"node_id": node("order_product"), "value": "payload.product", "data_type": "String"},
            {"node_id": node("order_qty"), "value": "payload.qty", "data_type": "Double", "min": 1, "max": 10000},
            {"node_id": node("order_loaded"), "constant": True, "data_type": "Boolean"}]},
        "setpoints": [
            {"equipment": "PRESS1", "parameter": "temperature", "node_id": node("temperature_sp"),
             "data_type": "Double", "min": 20, "max": 250},
            {"equipment": "PRESS1", "parameter": "speed", "node_id": node("speed_sp"), "data_type": "Float",
             "min": 0, "max": 200},
            {"equipment": "PRESS1", "parameter": "mode", "node_id": node("mode_sp"), "data_type": "Int32"}]}}


def test_opcua_writes_are_allow_listed_ranged_read_back_and_one_bad_message_blocks_nothing(tmp_path, standin):
    plc = ThreadedPlc()
    routes = {"production.order": "press1", "machine.setpoint": "press1"}
    messages = [
        order("MO/1", qty=120),                                          # written, read back
        setpoint("ok", [("temperature", 200.0), ("speed", 90.5)]),      # written, read back
        setpoint("unknown", [("temperature", 150.0), ("pressure", 3)]),  # not allow-listed
        setpoint("range", [("temperature", 999)]),                       # out of range
        setpoint("kind", [("temperature", "hot")]),                      # not a number
        setpoint("clamped", [("speed", 150.0)]),                         # the drive clamps: read-back
        setpoint("locked", [("mode", 3)]),                               # the PLC refuses the node
        order("MO/2", qty=0),                                            # below the minimum
        {**order("MO/3"), "payload": {"order_ref": "MO/3", "product": "P"}},      # no qty
        order("MO/4", qty=7),                                            # still written after all that
    ]
    ids = standin.queue_outbound(messages)
    try:
        with Stage(tmp_path, standin, [plc_target(plc.port)], routes):
            wait_until(lambda: finished(standin, ids), 30, "every message finished")
        states = standin.outbound_states()
        outcome = {messages[i]["key"]: (states[ids[i]]["state"], states[ids[i]]["detail"]) for i in range(len(ids))}
        assert outcome["release-MO/1"] == ("done", "wrote and read back 4 value(s)")
        assert outcome["sp-ok"] == ("done", "wrote and read back 2 value(s)")
        assert outcome["sp-unknown"][0] == "exception"
        assert "parameter 'pressure' of PRESS1 is not allowed" in outcome["sp-unknown"][1]
        assert "outside the allowed range [20, 250]" in outcome["sp-range"][1]
        assert "'hot' is not a finite number" in outcome["sp-kind"][1]
        assert "read-back differs: ns=2;s=PRESS1.speed_sp reads 120.0, wrote 150.0" in outcome["sp-clamped"][1]
        assert "the PLC refused ns=2;s=PRESS1.mode_sp: BadUserAccessDenied" in outcome["sp-locked"][1]
        assert "outside the allowed range" in outcome["release-MO/2"][1]
        assert outcome["release-MO/3"] == ("exception", "the message has no payload.qty")
        assert outcome["release-MO/4"][0] == "done"
        # What the PLC holds: the refused messages wrote nothing (pressure's companion temperature too).
        assert plc.value("temperature_sp") == 200.0
        assert (plc.value("order_ref"), plc.value("order_qty"), plc.value("order_loaded")) == ("MO/4", 7.0, True)
        assert all(row["reports"] == 1 for row in states.values()), "each result reported once"
    finally:
        plc.stop()


def test_a_plc_that_is_down_makes_messages_wait_in_order_then_they_are_written(tmp_path, standin):
    plc = ThreadedPlc(start=False)   # not started: "powered off"
    ids = standin.queue_outbound([order("MO/10", qty=10), order("MO/11", qty=11)])
    try:
        with Stage(tmp_path, standin, [plc_target(plc.port)], {"production.order": "press1"}) as stage:
            wait_until(lambda: stage.store.counts().get("fetched_unreported") == 2, 15, "stored")
            time.sleep(1.5)
            assert {row["state"] for row in standin.outbound_states().values()} == {"handed"}
            plc.start()
            wait_until(lambda: finished(standin, ids), 30, "written once the PLC is up")
        assert [row["state"] for row in standin.outbound_states().values()] == ["done", "done"]
        assert [w for w in plc.sim.written if w[1] == "order_ref"] == [("PRESS1", "order_ref", "MO/10"),
                                                                        ("PRESS1", "order_ref", "MO/11")]
    finally:
        plc.stop()


def test_mqtt_target_publishes_in_order_on_the_templated_topic(tmp_path, standin, shared_broker):
    prefix = unique("rp")
    received = []
    subscriber = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=unique("sub"), protocol=mqtt.MQTTv5)
    subscriber.on_message = lambda c, u, message: received.append((message.topic, json.loads(message.payload)))
    subscriber.connect(*shared_broker)
    subscriber.subscribe(f"{prefix}/#", qos=1)
    subscriber.loop_start()
    time.sleep(0.3)
    target = {"name": "mes", "type": "mqtt", "mqtt": {
        "host": shared_broker[0], "port": shared_broker[1], "client_id": unique("bridge"),
        "topic": prefix + "/orders/{payload.order_ref}"}}
    refs = [f"WH/MO/{n:05d}" for n in range(50)]
    ids = standin.queue_outbound([order(ref) for ref in refs])
    try:
        with Stage(tmp_path, standin, [target], {"production.order": "mes"}):
            wait_until(lambda: finished(standin, ids), 30, "published")
            wait_until(lambda: len(received) >= 50, 10, "all received")
    finally:
        subscriber.loop_stop()
        subscriber.disconnect()
    assert [payload["payload"]["order_ref"] for _topic, payload in received] == refs, "in Odoo's order"
    assert received[0][0] == f"{prefix}/orders/WH_MO_00000", "a value never adds a topic level"
    details = {row["detail"] for row in standin.outbound_states().values()}
    assert f"published on {prefix}/orders/WH_MO_00049 (QoS 1)" in details


def test_rest_target_done_refused_unavailable_and_unrouted(tmp_path, standin):
    calls = []
    first_503 = {"release-MO/3"}

    def mes(method, path, body):
        envelope = json.loads(body)
        calls.append((path, envelope["key"]))
        if envelope["key"] == "release-MO/2":
            return 422, {}, b'{"error": "unknown product BRK-100"}'
        if envelope["key"] in first_503:
            first_503.discard(envelope["key"])
            return 503, {}, b"busy"
        return 201, {}, b"{}"

    peer = HttpPeer(mes)
    target = {"name": "mes", "type": "rest", "rest": {"url": peer.url + "/orders/{payload.order_ref}"}}
    unrouted = {**order("X"), "type": "quality.hold", "key": "hold-1"}
    ids = standin.queue_outbound([order("MO/1"), order("MO/2"), order("MO/3"), order("MO/4"), unrouted])
    try:
        with Stage(tmp_path, standin, [target], {"production.order": "mes"}):
            wait_until(lambda: finished(standin, ids), 30, "finished")
    finally:
        peer.server.shutdown()
    states = standin.outbound_states()
    assert [states[i]["state"] for i in ids] == ["done", "exception", "done", "done", "exception"]
    assert states[ids[1]]["detail"].startswith("HTTP 422 from ")
    assert "unknown product BRK-100" in states[ids[1]]["detail"]
    assert states[ids[4]]["detail"] == "no route for quality.hold in this bridge's return_path.routes"
    keys = [key for _path, key in calls]
    assert keys == ["release-MO/1", "release-MO/2", "release-MO/3", "release-MO/3", "release-MO/4"], \
        "MO/4 waited for MO/3 (same target, in order)"
    assert calls[0][0] == "/orders/MO%2F1", "a value never adds a URL segment"


def test_a_message_cancelled_in_odoo_before_the_hand_over_is_never_delivered(tmp_path, standin):
    calls = []
    peer = HttpPeer(lambda method, path, body: (calls.append(json.loads(body)["key"]) or 200, {}, b"{}"))
    ids = standin.queue_outbound([order("MO/1"), order("MO/2")])
    try:
        stage = Stage(tmp_path, standin, [{"name": "mes", "type": "rest", "rest": {"url": peer.url}}],
                      {"production.order": "mes"})
        stage.stage.fetch()                       # stored, not acknowledged yet
        assert stage.stage.deliver() == 0, "nothing is delivered before Odoo confirmed the hand-over"
        standin.cancel_outbound(ids[0])           # the operator cancels MO/1 meanwhile
        stage.stage.fetch()                       # the ack: MO/2 handed over, MO/1 withdrawn
        assert stage.stage.deliver() == 1
        stage.stage.report()
        stage.close()
    finally:
        peer.server.shutdown()
    assert calls == ["release-MO/2"]
    assert [row["state"] for row in standin.outbound_states().values()] == ["cancelled", "done"]


@pytest.mark.parametrize("point,count", [("return_path.fetched", 2), ("return_path.stored", 2),
                                         ("return_path.delivered", 7), ("return_path.reported", 1)])
def test_killed_at_each_step_nothing_is_lost_or_reported_twice(tmp_path, standin, point, count):
    keys = []
    peer = HttpPeer(lambda method, path, body: (keys.append(json.loads(body)["key"]) or 200, {}, b"{}"))
    config = bridge_config(tmp_path, standin, [{"name": "mes", "type": "rest", "rest": {"url": peer.url}}],
                           {"production.order": "mes"}, poll_interval_s=0.1)
    config["return_path"]["batch_size"] = 5
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    ids = standin.queue_outbound([order(f"MO/{n}") for n in range(20)])
    try:
        with open(tmp_path / "dying.log", "wb") as log:
            dying = subprocess.Popen([EDGE_BRIDGE, "run", "-c", str(path)], stdout=log, stderr=log,
                                     env={**os.environ, faults.EXIT_ENV_VAR: f"{point}:{count}"})
        assert dying.wait(30) == 86, (tmp_path / "dying.log").read_text()[-2000:]
        assert not finished(standin, ids), "it died before the end"
        bridge = BridgeProcess(path, tmp_path / "bridge.log").start(wait_sources=False)
        wait_until(lambda: finished(standin, ids), 30, "all delivered after the restart")
        assert bridge.terminate() == 0
    finally:
        peer.server.shutdown()
    states = standin.outbound_states()
    assert {row["state"] for row in states.values()} == {"done"}
    assert sorted(set(keys)) == sorted(f"release-MO/{n}" for n in range(20)), "every message delivered"
    repeats = len(keys) - len(set(keys))
    # Only a death between delivering and noting it repeats a delivery (the key tells the MES).
    assert repeats == (1 if point == "return_path.delivered" else 0)
    assert max(row["reports"] for row in states.values()) <= (2 if point == "return_path.reported" else 1)


def test_return_path_configuration_errors_name_the_key(tmp_path, standin):
    def error(targets, routes):
        with pytest.raises(ConfigError) as info:
            parse_config(bridge_config(tmp_path, standin, targets, routes), base_dir=tmp_path)
        return str(info.value)

    rest = {"name": "mes", "type": "rest", "rest": {"url": "http://127.0.0.1:1/x"}}
    assert "return_path.routes.production.order: unknown target 'plc'" in error([rest], {"production.order": "plc"})
    plc = plc_target(4840)
    plc["opcua"]["writes"]["production.order"][0]["constant"] = "x"
    assert "give either value" in error([plc], {"production.order": "press1"})
    plc = plc_target(4840)
    plc["opcua"]["setpoints"][0]["data_type"] = "Real"
    assert "targets[0].opcua.setpoints[0].data_type: must be one of" in error([plc], {"production.order": "press1"})
    plc = plc_target(4840)
    plc["opcua"]["writes"]["production.order"][3]["constant"] = "yes"
    assert "constant = 'yes' is not true/false" in error([plc], {"production.order": "press1"})
    mqtt_target = {"name": "m", "type": "mqtt", "mqtt": {"client_id": "c", "topic": "plant/#"}}
    assert "wildcards" in error([mqtt_target], {"production.order": "m"})
    assert "targets[1].name: duplicate" in error([rest, rest], {"production.order": "mes"})
