"""MQTT Sparkplug B source against the real Mosquitto with a Sparkplug edge node publishing in the
test (NBIRTH/DBIRTH/DDATA/DDEATH/NDEATH, protobuf payloads): metrics named in births and then sent
by alias reach Odoo (the stand-in) as counters and measurements; an unknown alias and a seq gap
are dead letters with their reasons and make the bridge publish a rebirth request (NCMD); a
device that dies stops its machine with reason COMM_LOSS until it is born again; a payload that
is not protobuf, a NaN metric and a DataSet metric are dead letters while the rest goes on; the
payload description is checked against hand-encoded wire bytes (field numbers of Tahu's
sparkplug_b.proto)."""

import json
import struct
import subprocess
import time

import paho.mqtt.client as mqtt
from helpers import EDGE_BRIDGE, BridgeProcess, asset_block, unique, wait_until, write_config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge_bridge.sources._sparkplug_payload import Payload, metric_value


def varint(value):
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def test_payload_field_numbers_match_tahu_wire_format():
    # Hand-encoded per sparkplug_b.proto: Payload{timestamp=1 (varint), metrics=2 (bytes), seq=3}
    # Metric{name=1 "T", alias=2, datatype=4 (10 Double), double_value=13 (fixed64)}
    metric = b"\x0a\x01T" + b"\x10" + varint(5) + b"\x20" + varint(10) + b"\x69" + struct.pack("<d", 21.5)
    int_metric = b"\x10" + varint(6) + b"\x20" + varint(2) + b"\x50" + varint(0xFFFE)  # Int16 -2
    wire = (
        b"\x08"
        + varint(1700000000000)
        + b"\x12"
        + varint(len(metric))
        + metric
        + b"\x12"
        + varint(len(int_metric))
        + int_metric
        + b"\x18"
        + varint(7)
    )
    payload = Payload.FromString(wire)
    assert (payload.timestamp, payload.seq) == (1700000000000, 7)
    first, second = payload.metrics
    assert (first.name, first.alias, metric_value(first)) == ("T", 5, (21.5, None))
    assert (second.alias, metric_value(second)) == (6, (-2, None))


class EdgeNode:
    """A Sparkplug B edge node with one device, publishing as a real one would."""

    def __init__(self, group, node="Line1", device="PRESS1"):
        self.group, self.node, self.device, self.seq = group, node, device, 0
        self.commands = []
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=unique("spb-node"))
        self.client.on_message = lambda c, u, message: self.commands.append(Payload.FromString(message.payload))
        self.client.connect("127.0.0.1", 1883)
        self.client.subscribe(f"spBv1.0/{group}/NCMD/{node}", qos=0)
        self.client.loop_start()
        time.sleep(0.3)

    def publish(self, kind, metrics, device=True, seq=None, raw=None):
        topic = f"spBv1.0/{self.group}/{kind}/{self.node}" + (f"/{self.device}" if device else "")
        payload = Payload(timestamp=int(time.time() * 1000))
        if kind != "NDEATH":
            payload.seq = self.seq if seq is None else seq
            self.seq = (payload.seq + 1) % 256
        for fields in metrics:
            payload.metrics.add(**fields)
        self.client.publish(topic, raw if raw is not None else payload.SerializeToString(), qos=0).wait_for_publish(5)

    def birth(self):
        self.seq = 0
        self.publish("NBIRTH", [{"name": "bdSeq", "datatype": 8, "long_value": 0}], device=False)
        self.publish(
            "DBIRTH",
            [
                {"name": "Counters/Cycles", "alias": 1, "datatype": 7, "int_value": 100},
                {"name": "Process/Temperature", "alias": 2, "datatype": 10, "double_value": 20.0},
                {"name": "Status/State", "alias": 3, "datatype": 3, "int_value": 1},
                {"name": "Status/Recipe", "alias": 4, "datatype": 16},
            ],
        )

    def stop(self):
        self.client.loop_stop()
        self.client.disconnect()


def test_births_aliases_seq_and_device_death_reach_odoo_with_reasons(tmp_path, standin, shared_broker):
    group = unique("Plant")
    source = {
        "name": "spb",
        "type": "sparkplug",
        "sparkplug": {
            "client_id": unique("bridge-spb"),
            "group_id": group,
            "rebirth_interval_s": 0,
            "metrics": [
                {
                    "node": "Line1",
                    "device": "PRESS1",
                    "metric": "Counters/Cycles",
                    "asset": "PRESS1",
                    "tag": "cycle_count",
                },
                {
                    "node": "Line1",
                    "device": "PRESS1",
                    "metric": "Process/Temperature",
                    "asset": "PRESS1",
                    "tag": "temperature",
                },
                {"node": "Line1", "device": "PRESS1", "metric": "Status/State", "asset": "PRESS1", "tag": "state"},
                {
                    "node": "Line1",
                    "device": "PRESS1",
                    "metric": "Status/Recipe",
                    "asset": "PRESS1",
                    "tag": "state_reason",
                },
            ],
            "devices": [{"node": "Line1", "device": "PRESS1", "asset": "PRESS1"}],
        },
    }
    config = write_config(tmp_path, [source], [asset_block("PRESS1", False)], standin.url)
    bridge = BridgeProcess(config, tmp_path / "bridge.log").start()
    node = EdgeNode(group)
    try:
        node.publish("DDATA", [{"alias": 1, "datatype": 7, "int_value": 101}])  # before any birth
        wait_until(lambda: node.commands, 10, "rebirth request for data before birth")
        node.birth()
        for cycles in range(101, 121):  # by alias only
            node.publish(
                "DDATA",
                [
                    {"alias": 1, "datatype": 7, "int_value": cycles},
                    {"alias": 2, "datatype": 10, "double_value": 20.0 + cycles / 10},
                ],
            )
            time.sleep(0.02)
        wait_until(
            lambda: sum(e["payload"]["delta"] for e in standin.envelopes("machine.counter")) >= 20,
            20,
            "20 cycles counted from aliased DDATA",
        )
        asked = len(node.commands)
        node.publish("DDATA", [{"alias": 99, "datatype": 7, "int_value": 1}])  # unknown alias
        node.publish("DDATA", [{"alias": 2, "datatype": 10, "double_value": float("nan")}])
        expected_seq = node.seq
        node.publish("DDATA", [{"alias": 1, "datatype": 7, "int_value": 121}], seq=expected_seq + 3)  # 3 lost
        node.publish("DDATA", [], raw=b"\xff\xff\xff not protobuf")
        wait_until(lambda: len(node.commands) >= asked + 2, 10, "rebirth requests for alias and seq gap")
        command = node.commands[-1].metrics[0]
        assert (command.name, command.boolean_value) == ("Node Control/Rebirth", True)
        node.publish("DDEATH", [])  # the press goes offline
        time.sleep(1.2)
        node.birth()  # and comes back, running
        wait_until(lambda: standin.envelopes("machine.downtime"), 20, "the offline stop reported")
        stop = standin.envelopes("machine.downtime")[0]["payload"]
        assert stop["reason_code"] == "COMM_LOSS" and stop["duration_s"] >= 1.0
        assert bridge.terminate() == 0
        listed = subprocess.run(
            [EDGE_BRIDGE, "dead-letter", "list", "-c", str(config)], capture_output=True, text=True, timeout=30
        ).stdout
        reasons = [json.loads(line)["reason"] for line in listed.splitlines() if line.startswith("{")]
        expected = [
            "message of Line1 before its NBIRTH: rebirth requested",
            "unknown alias 99 on Line1/PRESS1",
            "Line1/PRESS1 Process/Temperature: nan is not a measurement",
            f"seq gap on Line1: expected {expected_seq}, got {expected_seq + 3} (messages lost)",
            "malformed Sparkplug B payload",
            "Line1/PRESS1 Status/Recipe: data type DataSet is not a tag value",
        ]
        for text in expected:
            assert any(text in reason for reason in reasons), (text, reasons)
    finally:
        node.stop()
        if bridge.process.poll() is None:
            bridge.terminate()


class _Message:
    def __init__(self, topic, payload):
        self.topic, self.payload = topic, payload


def _fuzz_source():
    from edge_bridge.config import SourceConfig, parse_config
    from edge_bridge.observability import Metrics
    from edge_bridge.sources.inbox import Inbox
    from edge_bridge.sources.sparkplug import SparkplugSource

    config = parse_config(
        {
            "device": {"code": "E"},
            "assets": [asset_block("PRESS1", False)],
            "sink": {"url": "http://127.0.0.1:1", "api_key": "k"},
            "sources": [
                {
                    "name": "spb",
                    "type": "sparkplug",
                    "sparkplug": {
                        "client_id": "fuzz",
                        "group_id": "G",
                        "rebirth_interval_s": 3600,
                        "metrics": [
                            {"node": "N", "device": "D", "metric": "m", "asset": "PRESS1", "tag": "temperature"}
                        ],
                        "devices": [{"node": "N", "device": "D", "asset": "PRESS1"}],
                    },
                }
            ],
        }
    )
    inbox = Inbox()
    source = SparkplugSource(SourceConfig("spb", "sparkplug", config.sources[0].settings), inbox, Metrics())
    return source, inbox


@given(
    kind=st.sampled_from(["NBIRTH", "DBIRTH", "NDATA", "DDATA", "DDEATH", "NDEATH", "NCMD", "STATE"]),
    payload=st.one_of(
        st.binary(max_size=300),
        st.builds(
            lambda seq, alias, datatype, number: Payload(
                seq=seq, metrics=[{"alias": alias, "datatype": datatype, "long_value": number}]
            ).SerializeToString(),
            st.integers(0, 2**64 - 1),
            st.integers(0, 2**64 - 1),
            st.integers(0, 2**32 - 1),
            st.integers(0, 2**64 - 1),
        ),
    ),
)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_payload_is_either_readings_or_dead_letters_never_an_exception(kind, payload):
    source, inbox = _fuzz_source()
    for topic in (f"spBv1.0/G/{kind}/N/D", f"spBv1.0/G/{kind}/N", "spBv1.0/G/x"):
        source._on_message(None, None, _Message(topic, payload))
    for delivery in inbox.take(100, 0.01):
        assert all(isinstance(reason, str) and reason for _s, _raw, reason in delivery.rejects)
        assert all(s.asset == "PRESS1" for s in delivery.signals)
