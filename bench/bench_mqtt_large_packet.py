"""How long the socket MQTT client takes to receive one large PUBLISH that spans many reads.

Run against any copy of edge_bridge (PYTHONPATH decides which) to compare receive-buffer growth:
``python bench/bench_mqtt_large_packet.py --mib 16 32 48``. A scripted local broker sends the
packet in one write; the client reads it in chunks of at most 256 KiB.
"""
import argparse
import dataclasses
import socket
import struct
import sys
import threading
import time

from edge_bridge.config import FieldPaths, MqttConfig, MqttTopic, SourceConfig
from edge_bridge.observability import Metrics
from edge_bridge.sources.inbox import Inbox
from edge_bridge.sources.mqtt_fast import FastMqttSource


def _packet(first, body):
    length, out = len(body), bytearray()
    while True:
        byte, length = length % 128, length // 128
        out.append(byte | (0x80 if length else 0))
        if not length:
            return bytes([first]) + bytes(out) + body


def _read_packet(conn):
    first = conn.recv(1)
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


def measure(size):
    server = socket.create_server(("127.0.0.1", 0))
    kwargs = dict(port=server.getsockname()[1], client_id=f"bench-{size}", client="fast",
                  topics=[MqttTopic("t/+/+", FieldPaths())])
    if "max_packet_size" in {f.name for f in dataclasses.fields(MqttConfig)}:
        kwargs["max_packet_size"] = size + 1024
    inbox = Inbox()
    source = FastMqttSource(SourceConfig(name="mes", type="mqtt", settings=MqttConfig(**kwargs)), inbox, Metrics())
    source.start()
    conn, _ = server.accept()
    _read_packet(conn)
    conn.sendall(b"\x20\x03\x00\x00\x00")
    subscribe = _read_packet(conn)
    conn.sendall(_packet(0x90, subscribe[1][:2] + b"\x00\x01"))
    head = b'{"asset": "PACK1", "tag": "cycle_count", "value": 1, "ts": 1700000000, "pad": "'
    payload = head + b"x" * (size - len(head) - 2) + b'"}'
    topic = b"t/PACK1/x"
    packet = _packet(0x32, struct.pack(">H", len(topic)) + topic + struct.pack(">HB", 1, 0) + payload)
    time.sleep(0.2)
    started = time.perf_counter()
    threading.Thread(target=conn.sendall, args=(packet,), daemon=True).start()
    while not inbox.take(1, 0.01):
        if time.perf_counter() - started > 600:
            raise SystemExit("no delivery within 600 s")
    elapsed = time.perf_counter() - started
    source.close()
    conn.close()
    server.close()
    return elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, nargs="+", default=[16, 32, 48])
    args = parser.parse_args()
    import edge_bridge
    print(f"edge_bridge from {edge_bridge.__file__}", file=sys.stderr)
    for mib in args.mib:
        print(f"{mib} MiB PUBLISH: {measure(mib * 1024 ** 2):.2f} s", flush=True)


if __name__ == "__main__":
    main()
