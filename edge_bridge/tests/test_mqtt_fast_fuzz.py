"""Property tests (hypothesis) of the hand-written MQTT 5 packet parser in sources/mqtt_fast.py.

Kept because no maintained client reached the throughput goal (see README); so its parser is
fuzzed: arbitrary bytes, truncated and oversize packets never raise anything but the protocol
error the client handles (drop the connection, reconnect), and valid packets split at arbitrary
read boundaries are always parsed back identically.
"""
import json
import os
import socket
import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge_bridge.config import SourceConfig
from edge_bridge.observability import Metrics
from edge_bridge.sources.inbox import Inbox
from edge_bridge.sources.json_fields import FieldPaths
from edge_bridge.sources.mqtt import MqttConfig, MqttTopic
from edge_bridge.sources.mqtt_fast import FastMqttSource, PacketTooLarge, ProtocolError

MAX_PACKET = 4096
# What _run treats as "drop the connection and reconnect" (OSError: the broker's DISCONNECT).
HANDLED = (ProtocolError, OSError)


def _varint(value):
    out = bytearray()
    while True:
        byte, value = value % 128, value // 128
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _packet(first, body):
    return bytes([first]) + _varint(len(body)) + body


def new_source():
    settings_ = MqttConfig(port=1, client_id="fuzz", client="fast", max_packet_size=MAX_PACKET,
                           topics=[MqttTopic("t/+/+", FieldPaths())])
    source = FastMqttSource(SourceConfig(name="mes", type="mqtt", settings=settings_), Inbox(100_000), Metrics())
    source._subscribed_count = 1
    source._ping_sent_at = None
    source._keepalive = 30
    source._last_sent = 0.0
    return source


def dispose(source):
    """The source was never started: only its wake-up pipe needs closing."""
    for fd in (source._wake_r, source._wake_w):
        os.close(fd)


def feed(source, sock, chunks):
    """Accumulate reads and consume them the way _serve does; returns the leftover."""
    data = b""
    for chunk in chunks:
        data = bytearray(data) + chunk if data else chunk
        data = source._consume(sock, data)
    return data


def taken(source):
    signals, rejects, acks = [], [], []
    for delivery in source.inbox.take(100_000, 0):
        signals.extend(delivery.signals)
        rejects.extend(delivery.rejects)
        if delivery.ack:
            delivery.ack()
    with source._ack_lock:
        acks = list(source._pending_acks)
    return signals, rejects, acks


@st.composite
def chunked(draw, data):
    cuts = sorted(set(draw(st.lists(st.integers(0, len(data)), max_size=8))))
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if b > a]


@st.composite
def publish_packet(draw):
    asset = draw(st.sampled_from(["PACK1", "PRESS2", "M"]))
    reading = {"asset": asset, "tag": draw(st.sampled_from(["cycle_count", "temperature"])),
               "value": draw(st.integers(-10**6, 10**6) | st.floats(allow_nan=False, allow_infinity=False)),
               "ts": draw(st.floats(1.6e9, 1.8e9)), "seq": draw(st.integers(0, 2**40))}
    topic = f"t/{asset}/{draw(st.text('abcxyz/', min_size=1, max_size=12))}".encode()
    packet_id = draw(st.integers(1, 65535))
    properties = draw(st.sampled_from([b"", b"\x01\x01", b"\x02\x00\x00\x00\x10", b"\x26\x00\x01k\x00\x01v"]))
    body = (struct.pack(">H", len(topic)) + topic + struct.pack(">H", packet_id) + _varint(len(properties))
            + properties + json.dumps(reading).encode())
    return _packet(0x32, body), reading, packet_id


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_arbitrary_bytes_never_raise_anything_but_the_handled_protocol_error(data):
    source, (sock, peer) = new_source(), socket.socketpair()
    try:
        with_header = data if not data or data[0] >> 4 in (3, 9, 13) else bytes([0x30 | (data[0] & 0x0F)]) + data[1:]
        for candidate in (data, with_header):
            try:
                feed(source, sock, [candidate])
            except HANDLED:
                pass
            taken(source)
    finally:
        dispose(source)
        sock.close()
        peer.close()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(publish_packet(), min_size=1, max_size=12).flatmap(
    lambda packets: st.tuples(st.just(packets), chunked(b"".join(p[0] for p in packets)))))
def test_valid_publish_packets_split_at_any_read_boundary_parse_back_identically(case):
    packets, chunks = case
    source, (sock, peer) = new_source(), socket.socketpair()
    try:
        leftover = feed(source, sock, chunks)
        signals, rejects, acks = taken(source)
        assert not leftover and not rejects
        assert [(s.asset, s.tag, s.value, s.sequence) for s in signals] == [
            (r["asset"], r["tag"], r["value"], r["seq"]) for _, r, _ in packets]
        assert acks == [packet_id for _, _, packet_id in packets]
    finally:
        dispose(source)
        sock.close()
        peer.close()


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from([0x20, 0x30, 0x31, 0x32, 0x33, 0x34, 0x36, 0x3B, 0x90, 0xD0, 0xE0, 0x40]),
                          st.binary(max_size=80)), min_size=1, max_size=6))
def test_well_framed_packets_with_arbitrary_bodies_never_raise_anything_but_the_handled_error(frames):
    source, (sock, peer) = new_source(), socket.socketpair()
    try:
        try:
            feed(source, sock, [b"".join(_packet(first, body) for first, body in frames)])
        except HANDLED:
            pass
        taken(source)
    finally:
        dispose(source)
        sock.close()
        peer.close()


def test_a_publish_whose_properties_length_is_cut_off_is_a_protocol_error():
    source, (sock, peer) = new_source(), socket.socketpair()
    try:
        try:
            feed(source, sock, [_packet(0x32, b"\x00\x01t\x00\x01\x80")])
            raise AssertionError("accepted")
        except ProtocolError:
            pass
        assert peer.recv(3) == b"\xe0\x01\x81"
    finally:
        dispose(source)
        sock.close()
        peer.close()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(publish_packet(), st.data())
def test_truncated_packets_are_kept_for_the_next_read_and_never_half_delivered(packet, data):
    raw = packet[0]
    cut = data.draw(st.integers(1, len(raw) - 1))
    source, (sock, peer) = new_source(), socket.socketpair()
    try:
        leftover = feed(source, sock, [raw[:cut]])
        assert bytes(leftover) == raw[:cut] and taken(source) == ([], [], [])
        assert not feed(source, sock, [bytes(leftover) + raw[cut:]])
        assert len(taken(source)[0]) == 1
    finally:
        dispose(source)
        sock.close()
        peer.close()


@settings(max_examples=100, deadline=None)
@given(st.integers(MAX_PACKET + 1, 268_435_455), st.integers(0, 3))
def test_oversize_packets_are_refused_from_their_header_alone(length, extra):
    source, (sock, peer) = new_source(), socket.socketpair()
    try:
        header = b"\x32" + _varint(length) + b"\x00" * extra
        try:
            feed(source, sock, [header])
            raise AssertionError("accepted an oversize header")
        except PacketTooLarge:
            pass
        assert peer.recv(3) == b"\xe0\x01\x95"
    finally:
        dispose(source)
        sock.close()
        peer.close()
