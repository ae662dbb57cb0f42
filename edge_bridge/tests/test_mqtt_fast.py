"""The socket MQTT client (sources/mqtt_fast.py): real brokers, a scripted fake broker, kill -9."""
import json
import socket
import sqlite3
import struct
import threading
import time

import paho.mqtt.client as mqtt
import yaml
from helpers import (
    BridgeProcess,
    PrivateBroker,
    assert_matches_truth,
    asset_block,
    mqtt_source,
    unique,
    wait_until,
    write_config,
)

from edge_bridge.config import SourceConfig
from edge_bridge.observability import Metrics
from edge_bridge.simulator.run import Simulation
from edge_bridge.sources.inbox import Inbox
from edge_bridge.sources.json_fields import FieldPaths
from edge_bridge.sources.mqtt import MqttConfig, MqttTopic
from edge_bridge.sources.mqtt_fast import FastMqttSource, topic_matches


def make_source(port, client_id, topics, inbox, keepalive=30):
    settings = MqttConfig(port=port, client_id=client_id, session_expiry_s=300, keepalive=keepalive,
                          receive_maximum=100, client="fast", topics=topics)
    return FastMqttSource(SourceConfig(name="mes", type="mqtt", settings=settings), inbox, Metrics())


def publish(port, items, client_id=None):
    """items: [(topic, payload bytes)], QoS 1, waits until the broker has them."""
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id or unique("pub"))
    pub.connect("127.0.0.1", port)
    pub.loop_start()
    try:
        for topic, payload in items:
            pub.publish(topic, payload, qos=1).wait_for_publish(5)
    finally:
        pub.disconnect()
        pub.loop_stop()


def reading(seq, asset="PACK1", tag="cycle_count"):
    return json.dumps({"asset": asset, "tag": tag, "value": seq, "ts": 1_700_000_000 + seq, "seq": seq}).encode()


def take_signals(inbox, count, timeout=10, ack=False):
    """Drain deliveries until ``count`` signals+rejects arrived; returns (deliveries, signals).

    ``ack``: acknowledge each at once (as a commit would), else the broker stops at Receive Maximum.
    """
    deliveries, signals = [], []
    deadline = time.time() + timeout
    while sum(len(d.signals) + len(d.rejects) for d in deliveries) < count:
        assert time.time() < deadline, f"only {len(signals)} of {count} arrived"
        for delivery in inbox.take(1000, 0.1):
            deliveries.append(delivery)
            signals.extend(delivery.signals)
            if ack and delivery.ack:
                delivery.ack()
    return deliveries, signals


def test_topic_filters():
    assert topic_matches("a/+/c", "a/b/c") and not topic_matches("a/+/c", "a/b/c/d")
    assert topic_matches("a/#", "a/b/c") and topic_matches("a/#", "a") and topic_matches("#", "x/y")
    assert not topic_matches("#", "$SYS/x") and topic_matches("$SYS/#", "$SYS/x")
    assert not topic_matches("a/b", "a/c")


def test_round_trip_wildcards_field_paths_and_acks(shared_broker):
    prefix, client_id = unique("fast"), unique("edge-fast")
    topics = [MqttTopic(f"{prefix}/+/+", FieldPaths()),
              MqttTopic(f"{prefix}-line/#", FieldPaths(asset="topic[1]", tag="topic[2]", value="v",
                                                       timestamp=None, sequence=None))]
    inbox = Inbox()
    source = make_source(1883, client_id, topics, inbox)
    source.start()
    try:
        wait_until(lambda: source.connected, 10, "fast client subscribed")
        items = [(f"{prefix}/PACK1/x", reading(seq)) for seq in range(1, 301)]
        items.append((f"{prefix}-line/PACK2/temperature", json.dumps([{"v": 41.5}, {"v": 42.0}]).encode()))
        items.append((f"{prefix}/PACK1/x", b"{not json"))
        publish(1883, items)
        deliveries, signals = take_signals(inbox, 303, ack=True)
        assert [s.sequence for s in signals[:300]] == list(range(1, 301))
        assert signals[0].timestamp.timestamp() == 1_700_000_001
        assert [(s.asset, s.tag, s.value) for s in signals[300:]] == [("PACK2", "temperature", 41.5),
                                                                        ("PACK2", "temperature", 42.0)]
        rejects = [r for d in deliveries for r in d.rejects]
        assert len(rejects) == 1 and "malformed MQTT payload" in rejects[0][2]
        time.sleep(0.5)
    finally:
        source.close()
    # Everything was acknowledged: the persistent session has nothing to redeliver.
    again = Inbox()
    source = make_source(1883, client_id, topics, again)
    source.start()
    try:
        wait_until(lambda: source.connected, 10, "fast client subscribed again")
        assert again.take(10, 1.0) == []
    finally:
        source.close()


def test_persistent_session_unacked_and_offline_messages_arrive_after_reconnect(tmp_path):
    broker = PrivateBroker(tmp_path).start()
    prefix, client_id = unique("fast"), unique("edge-fast")
    topics = [MqttTopic(f"{prefix}/+/+", FieldPaths())]
    try:
        inbox = Inbox()
        source = make_source(broker.port, client_id, topics, inbox)
        source.start()
        wait_until(lambda: source.connected, 10, "subscribed")
        publish(broker.port, [(f"{prefix}/PACK1/x", reading(seq)) for seq in range(1, 11)])
        deliveries, _ = take_signals(inbox, 10)
        deliveries[0].ack()        # only the first delivery is "committed"; the rest never is
        acked = len(deliveries[0].signals)
        time.sleep(0.3)
        source.close()
        # Published while the bridge is down; the broker queues them in our session.
        publish(broker.port, [(f"{prefix}/PACK1/x", reading(seq)) for seq in range(11, 61)])
        inbox = Inbox()
        source = make_source(broker.port, client_id, topics, inbox)
        source.start()
        deliveries, signals = take_signals(inbox, 60 - acked)
        assert [s.sequence for s in signals] == list(range(acked + 1, 61))
        source.close()
    finally:
        broker.stop()


def test_kill_9_between_receive_and_commit_redelivers_without_loss_or_doubles(tmp_path, standin):
    """The worker is held back (buffer "full"), so messages are received but never committed."""
    broker = PrivateBroker(tmp_path).start()
    prefix, client_id = unique("mes"), unique("edge")
    sim = Simulation(seed=21, rate=300, duration=3, scenario="breakdowns", mqtt_port=broker.port,
                     mqtt_prefix=prefix, mqtt_client_id=unique("sim")).start()
    # Sink unreachable + max_pending 1: after the first event nothing more is committed.
    path = write_config(tmp_path, [mqtt_source(broker.port, client_id, prefix, client="fast")],
                        [asset_block("PACK1", True)], "http://127.0.0.1:1", buffer={"max_pending": 1})
    bridge = BridgeProcess(path, tmp_path / "bridge.log").start()
    try:
        sim.play()
        sim.wait_sent(30)
        wait_until(lambda: bridge.metric("edge_messages_in_total", 'source="mes"') >= 50, 20, "messages received")
        wait_until(lambda: bridge.health()["backpressure"], 10, "worker holding back")
        received = bridge.metric("edge_messages_in_total", 'source="mes"')
        db = sqlite3.connect(tmp_path / "buffer.db")
        committed_before = db.execute("SELECT count(*) FROM outbox").fetchone()[0]
        db.close()
        bridge.kill()
        assert received > 50 and committed_before < 20      # most was received, not committed
        config = yaml.safe_load(path.read_text())
        config["sink"]["url"] = standin.url
        config["buffer"]["max_pending"] = 1_000_000
        path.write_text(yaml.safe_dump(config))
        bridge.start()
        bridge.wait_quiet("mes")
        assert bridge.terminate() == 0
        assert_matches_truth(standin.envelopes(), sim.truth, "PACK1")
        db = sqlite3.connect(tmp_path / "buffer.db")
        assert db.execute("SELECT count(*) - count(DISTINCT key) FROM outbox").fetchone()[0] == 0
    finally:
        if bridge.process.poll() is None:
            bridge.kill()
        sim.stop()
        broker.stop()


# -- a scripted fake broker: malformed packets and stale acks ---------------------------------
def _packet(first, body):
    length, out = len(body), bytearray()
    while True:
        byte, length = length % 128, length // 128
        out.append(byte | (0x80 if length else 0))
        if not length:
            return bytes([first]) + bytes(out) + body


def _publish(topic, payload, packet_id):
    return _packet(0x32, struct.pack(">H", len(topic)) + topic.encode() + struct.pack(">HB", packet_id, 0) + payload)


class FakeBroker:
    """Accepts connections one by one; the test scripts what each connection is sent."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.server.settimeout(10)

    def accept(self):
        conn, _ = self.server.accept()
        conn.settimeout(10)
        first = self.read_packet(conn)
        assert first[0] == 0x10, first          # CONNECT
        conn.sendall(b"\x20\x03\x00\x00\x00")   # CONNACK, no session, success, no properties
        subscribe = self.read_packet(conn)
        assert subscribe[0] == 0x82
        conn.sendall(_packet(0x90, subscribe[1][:2] + b"\x00\x01"))   # SUBACK granted QoS 1
        return conn, first[1]

    @staticmethod
    def read_packet(conn):
        first = conn.recv(1)
        if not first:
            return None
        length, shift = 0, 0
        while True:
            byte = conn.recv(1)[0]
            length |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                break
        body = b""
        while len(body) < length:
            body += conn.recv(length - len(body))
        return first[0], body


def test_malformed_packet_drops_the_connection_and_stale_acks_are_not_sent():
    fake = FakeBroker()
    inbox = Inbox()
    source = make_source(fake.port, unique("edge-fast"), [MqttTopic("t/+/+", FieldPaths())], inbox)
    source.start()
    try:
        conn1, connect = fake.accept()
        assert b"MQTT\x05\x00" in connect     # MQTT 5, clean start off
        wait_until(lambda: source.connected, 5, "subscribed")
        conn1.sendall(_publish("t/PACK1/x", reading(1), 7))
        (delivery,), _ = take_signals(inbox, 1)
        # A PUBLISH whose topic length runs past the packet: the client must hang up (0x81).
        conn1.sendall(_packet(0x32, b"\x00\x50t/x\x00\x08\x00{}"))
        assert fake.read_packet(conn1) == (0xE0, b"\x81")
        conn2, _ = fake.accept()               # ... and reconnect on its own
        wait_until(lambda: source.connected, 5, "subscribed again")
        delivery.ack()                         # committed late: belongs to the dead connection
        conn2.sendall(_publish("t/PACK1/x", reading(1), 7))     # the broker's redelivery
        (again,), _ = take_signals(inbox, 1)
        again.ack()
        # The only PUBACK on the new connection is the one for the redelivered copy.
        assert fake.read_packet(conn2) == (0x40, b"\x00\x07")
        conn2.settimeout(0.5)
        try:
            extra = fake.read_packet(conn2)
        except TimeoutError:
            extra = None
        assert extra is None or extra[0] == 0xC0, extra        # at most a PINGREQ
        assert source._thread.is_alive()
    finally:
        source.close()
        fake.server.close()


def test_broker_restart_keeps_receiving_and_delivers_everything(tmp_path):
    broker = PrivateBroker(tmp_path).start()
    prefix, client_id = unique("fast"), unique("edge-fast")
    inbox = Inbox()
    source = make_source(broker.port, client_id, [MqttTopic(f"{prefix}/+/+", FieldPaths())], inbox, keepalive=5)
    source.start()
    try:
        wait_until(lambda: source.connected, 10, "subscribed")
        publish(broker.port, [(f"{prefix}/PACK1/x", reading(seq)) for seq in range(1, 21)])
        deliveries, _ = take_signals(inbox, 20)
        for delivery in deliveries:
            delivery.ack()
        time.sleep(0.3)
        broker.stop()
        wait_until(lambda: not source.connected, 10, "disconnect noticed")
        broker.start()
        wait_until(lambda: source.connected, 20, "reconnected")
        publish(broker.port, [(f"{prefix}/PACK1/x", reading(seq)) for seq in range(21, 41)])
        _, signals = take_signals(inbox, 20)
        assert [s.sequence for s in signals] == list(range(21, 41))   # nothing acked came back
    finally:
        source.close()
        broker.stop()


def test_tls_and_username_password(tmp_path):
    """Mosquitto with a TLS listener (our own CA, IP SAN 127.0.0.1) and a password file."""
    import getpass
    import shutil
    import subprocess

    from helpers import free_port

    from edge_bridge.config import Secret

    def run(*args):
        subprocess.run(args, check=True, capture_output=True, cwd=tmp_path)
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test-ca",
        "-keyout", "ca.key", "-out", "ca.pem")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "server.key",
        "-out", "server.csr")
    (tmp_path / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    run("openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-days", "2", "-extfile", "san.ext", "-out", "server.pem")
    run("mosquitto_passwd", "-b", "-c", "passwd", "edge", "s3cret")
    port = free_port()
    (tmp_path / "mosquitto.conf").write_text(
        f"user {getpass.getuser()}\nlistener {port} 127.0.0.1\nallow_anonymous false\n"
        f"password_file {tmp_path}/passwd\ncafile {tmp_path}/ca.pem\ncertfile {tmp_path}/server.pem\n"
        f"keyfile {tmp_path}/server.key\nlog_dest file {tmp_path}/mosquitto.log\n")
    mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    broker = subprocess.Popen([mosquitto, "-c", str(tmp_path / "mosquitto.conf")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sources = []
    try:
        def connectable():
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                return True
            except OSError:
                return False
        wait_until(connectable, 10, "TLS mosquitto")
        settings = dict(port=port, client_id=unique("edge-tls"), session_expiry_s=60, client="fast", tls=True,
                        ca_file=str(tmp_path / "ca.pem"), username="edge",
                        topics=[MqttTopic("tls/+/+", FieldPaths())])
        wrong = FastMqttSource(SourceConfig("mes", "mqtt", MqttConfig(**settings, password=Secret("nope"))),
                               Inbox(), Metrics())
        sources.append(wrong)
        wrong.start()
        inbox = Inbox()
        source = FastMqttSource(SourceConfig("mes", "mqtt", MqttConfig(**settings, password=Secret("s3cret"))),
                                inbox, Metrics())
        sources.append(source)
        source.start()
        wait_until(lambda: source.connected, 10, "TLS client subscribed")
        pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=unique("pub"))
        pub.username_pw_set("edge", "s3cret")
        pub.tls_set(ca_certs=str(tmp_path / "ca.pem"))
        pub.connect("127.0.0.1", port)
        pub.loop_start()
        for seq in range(1, 201):
            info = pub.publish("tls/PACK1/x", reading(seq), qos=1)
        info.wait_for_publish(5)
        pub.disconnect()
        pub.loop_stop()
        _, signals = take_signals(inbox, 200, ack=True)
        assert [s.sequence for s in signals] == list(range(1, 201))
        assert not wrong.connected                # refused (bad password) and retrying, not crashed
        assert wrong._thread.is_alive()
    finally:
        for source in sources:
            source.close()
        broker.terminate()
        broker.wait(10)


# -- Maximum Packet Size and a receive buffer that grows linearly (issue 8) -------------------
def _big_reading(size):
    head = b'{"asset": "PACK1", "tag": "cycle_count", "value": 1, "ts": 1700000000, "seq": 1, "pad": "'
    return head + b"x" * (size - len(head) - 2) + b'"}'


def test_connect_announces_the_configured_maximum_packet_size():
    fake = FakeBroker()
    settings = MqttConfig(port=fake.port, client_id=unique("edge-fast"), client="fast", max_packet_size=123_456,
                          topics=[MqttTopic("t/+/+", FieldPaths())])
    source = FastMqttSource(SourceConfig(name="mes", type="mqtt", settings=settings), Inbox(), Metrics())
    source.start()
    try:
        _, connect = fake.accept()
        assert b"\x27" + struct.pack(">I", 123_456) in connect
    finally:
        source.close()
        fake.server.close()


def test_a_packet_announced_larger_than_the_maximum_is_refused_before_its_body_is_read():
    fake = FakeBroker()
    inbox = Inbox()
    settings = MqttConfig(port=fake.port, client_id=unique("edge-fast"), client="fast", max_packet_size=64 * 1024,
                          topics=[MqttTopic("t/+/+", FieldPaths())])
    source = FastMqttSource(SourceConfig(name="mes", type="mqtt", settings=settings), inbox, Metrics())
    source.start()
    try:
        conn1, _ = fake.accept()
        wait_until(lambda: source.connected, 5, "subscribed")
        huge = _publish("t/PACK1/x", _big_reading(200 * 1024 ** 2), 9)
        conn1.sendall(huge[:64])                # the header announces 200 MiB; nothing more is sent
        assert fake.read_packet(conn1) == (0xE0, b"\x95")          # DISCONNECT "packet too large"
        assert conn1.recv(1) == b""                                 # and the client hung up
        conn2, _ = fake.accept()                                    # then reconnects on its own
        wait_until(lambda: source.connected, 5, "subscribed again")
        conn2.sendall(_publish("t/PACK1/x", reading(2), 3))
        _, signals = take_signals(inbox, 1)
        assert [s.value for s in signals] == [2]
    finally:
        source.close()
        fake.server.close()


def _receive_time(size):
    fake = FakeBroker()
    inbox = Inbox()
    settings = MqttConfig(port=fake.port, client_id=unique("edge-fast"), client="fast", max_packet_size=size + 1024,
                          topics=[MqttTopic("t/+/+", FieldPaths())])
    source = FastMqttSource(SourceConfig(name="mes", type="mqtt", settings=settings), inbox, Metrics())
    source.start()
    try:
        conn, _ = fake.accept()
        wait_until(lambda: source.connected, 5, "subscribed")
        packet = _publish("t/PACK1/x", _big_reading(size), 5)
        started = time.perf_counter()
        threading.Thread(target=conn.sendall, args=(packet,), daemon=True).start()
        _, signals = take_signals(inbox, 1, timeout=60)
        assert [s.value for s in signals] == [1]
        return time.perf_counter() - started
    finally:
        source.close()
        fake.server.close()


def test_a_large_packet_spanning_many_reads_is_received_in_linear_time():
    small, large = _receive_time(12 * 1024 ** 2), _receive_time(48 * 1024 ** 2)
    print(f"\nPUBLISH received and parsed: 12 MiB {small:.2f} s, 48 MiB {large:.2f} s")
    # 4x the size: ~4x the time when the buffer grows linearly; with ``bytes + chunk`` on every
    # read it was ~16x (measured before the change: 16/32/48 MiB in 0.11/0.89/1.15 s).
    assert large < 1.0 or large / small < 8, (small, large)
