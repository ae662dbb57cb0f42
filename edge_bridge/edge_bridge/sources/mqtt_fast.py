"""MQTT source over a plain socket: just the part of MQTT 5 the bridge needs, read in bulk.

Why not paho: paho builds several Python objects and runs a callback per packet, and its manual
acks are one ``send`` per message; on one core that caps the bridge near 9,000 msg/s. Here one
thread reads large chunks from the socket, cuts all complete packets out of each chunk with plain
index arithmetic, and hands the whole chunk to the intake as ONE ``Delivery``. Its ack queues the
chunk's packet ids; the network thread then writes every pending PUBACK in one ``sendall``.

Supported: CONNECT (fixed client id, clean start off, Session Expiry, Receive Maximum, optional
username/password, optional TLS), SUBSCRIBE (QoS 0/1, wildcards), PUBLISH in (QoS 0/1), PUBACK
out, PINGREQ keepalive, DISCONNECT both ways. Not supported (not needed): QoS 2, publishing,
topic aliases (we never announce Topic Alias Maximum, so the broker must not use them), AUTH.

Exactly-once is the same contract as ``mqtt.py``: a PUBACK leaves only after the aggregation
worker committed the events built from the message; a message redelivered after a crash between
commit and PUBACK is skipped by its per-stream ``seq``.

One rule is specific to this client: acks are tied to the connection that received the message
(``_generation``). After a reconnect the broker resends unacknowledged messages under the same
packet ids and may reuse an id as soon as it is acknowledged; an ack from the old connection that
arrives late could then acknowledge a *different*, not yet committed message. So acks of an old
connection are dropped: the broker redelivers those messages, the sequence check skips them, and
their new copies are acknowledged.
"""
import json
import logging
import os
import select
import socket
import ssl
import struct
import threading
import time

from ..signals import Delivery, utc_now
from .base import Source
from .json_fields import describe_parse_error, to_signal

log = logging.getLogger(__name__)

RECV_SIZE = 256 * 1024          # one recv may bring thousands of small PUBLISH packets
MAX_BACKOFF_S = 10.0
CONNECT_TIMEOUT_S = 10.0

# Packet types (high nibble of the first byte).
CONNACK, PUBLISH, SUBACK, PINGRESP, DISCONNECT = 2, 3, 9, 13, 14
PINGREQ_BYTES = b"\xc0\x00"
DISCONNECT_NORMAL = b"\xe0\x00"                 # reason 0: keep the session (expiry as connected)
DISCONNECT_MALFORMED = b"\xe0\x01\x81"
DISCONNECT_TOO_LARGE = b"\xe0\x01\x95"         # reason 0x95: packet too large


class ProtocolError(Exception):
    """The broker sent something we cannot parse or accept: drop the connection and reconnect."""


class PacketTooLarge(ProtocolError):
    """A packet header announced more than our Maximum Packet Size; its body is never buffered."""


def topic_matches(filter_, topic):
    """MQTT filter match with ``+`` and ``#``; ``$`` topics only match filters starting with ``$``."""
    if topic.startswith("$") and not filter_.startswith("$"):
        return False
    f_levels, t_levels = filter_.split("/"), topic.split("/")
    for index, level in enumerate(f_levels):
        if level == "#":
            return True
        if index >= len(t_levels) or (level != "+" and level != t_levels[index]):
            return False
    return len(f_levels) == len(t_levels)


def _varint(value):
    out = bytearray()
    while True:
        byte, value = value % 128, value // 128
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _str(text):
    data = text.encode() if isinstance(text, str) else text
    return struct.pack(">H", len(data)) + data


def _packet(first_byte, body):
    return bytes([first_byte]) + _varint(len(body)) + body


def _read_varint(data, pos, end):
    """(value, next position) or (None, pos) if the bytes are not all there yet."""
    value, shift = 0, 0
    while True:
        if pos >= end:
            return None, pos
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
        if shift > 21:
            raise ProtocolError("variable byte integer longer than 4 bytes")


def _properties(data, pos, end):
    """Decode the properties we care about (server keep alive, reason string) into a dict."""
    length, pos = _read_varint(data, pos, end)
    if length is None or pos + length > end:
        raise ProtocolError("properties run past the packet")
    found, stop = {}, pos + length
    while pos < stop:
        ident = data[pos]
        pos += 1
        if ident == 0x13:                                  # Server Keep Alive (two bytes)
            found["keepalive"] = struct.unpack_from(">H", data, pos)[0]
            pos += 2
        elif ident in (0x1F, 0x12, 0x1A, 0x1C, 0x03, 0x08):   # strings (reason, client id...)
            size = struct.unpack_from(">H", data, pos)[0]
            found[ident] = bytes(data[pos + 2:pos + 2 + size]).decode("utf-8", "replace")
            pos += 2 + size
        elif ident == 0x26:                                 # user property: string pair
            for _ in range(2):
                pos += 2 + struct.unpack_from(">H", data, pos)[0]
        elif ident in (0x01, 0x24, 0x25, 0x28, 0x29, 0x2A, 0x17, 0x19):
            pos += 1
        elif ident in (0x21, 0x22, 0x23):
            pos += 2
        elif ident in (0x02, 0x11, 0x18, 0x27):
            pos += 4
        elif ident == 0x0B:
            _, pos = _read_varint(data, pos, stop)
        elif ident in (0x09, 0x16):                         # binary data
            pos += 2 + struct.unpack_from(">H", data, pos)[0]
        else:
            raise ProtocolError(f"unknown property 0x{ident:02x}")
    if pos != stop:
        raise ProtocolError("properties length mismatch")
    return found


class FastMqttSource(Source):
    """Built by ``MqttSource.create`` (sources/mqtt.py) for ``type: mqtt`` with ``client: fast``."""

    def __init__(self, source_config, inbox, metrics, outbox=None):
        super().__init__(source_config, inbox, metrics, outbox)
        self._intake_open = True
        self._stopping = threading.Event()
        self._sock = None
        self._generation = 0                  # bumped on every (re)connect, see module docstring
        self._ack_lock = threading.Lock()
        self._pending_acks = []               # packet ids committed, PUBACK not yet written
        self._wake_r, self._wake_w = os.pipe()   # the worker's acks wake the network thread
        os.set_blocking(self._wake_r, False)
        self._woken = False
        self._topics = {}                     # topic bytes -> (topic str, FieldPaths): topics repeat
        self._thread = threading.Thread(target=self._run, name=f"mqtt-{self.name}", daemon=True)

    # -- source interface ---------------------------------------------------------------------
    def start(self):
        self._thread.start()

    def stop_intake(self):
        """Stop handing messages over; what is not handed over stays unacknowledged at the broker."""
        self._intake_open = False

    def close(self):
        """Write the acks still pending (the worker has committed them), then disconnect."""
        self._intake_open = False
        self._stopping.set()
        self._wake()
        self._thread.join(15)
        self._set_connected(False)
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass

    # -- acknowledgements (called by the aggregation worker after its commit) ---------------
    def _ack_later(self, generation, packet_ids):
        with self._ack_lock:
            if generation != self._generation:
                return        # received on a connection that is gone: the broker redelivers them
            self._pending_acks.extend(packet_ids)
        self._wake()

    def _wake(self):
        if not self._woken:
            self._woken = True
            try:
                os.write(self._wake_w, b"x")
            except OSError:
                pass

    def _flush_acks(self, sock):
        try:
            os.read(self._wake_r, 4096)
        except (BlockingIOError, OSError):
            pass
        self._woken = False
        with self._ack_lock:
            ids, self._pending_acks = self._pending_acks, []
        if ids:
            # PUBACK is 0x40 0x02 <id>: four bytes, so one big-endian uint32 per ack.
            sock.sendall(struct.pack(f">{len(ids)}I", *[0x40020000 | pid for pid in ids]))
            self._last_sent = time.monotonic()

    # -- connection ---------------------------------------------------------------------------
    def _set_connected(self, value):
        self.connected = value
        self.metrics.source_connected.labels(self.name).set(1 if value else 0)

    def _run(self):
        backoff = 0.2
        while not self._stopping.is_set():
            sock = None
            try:
                sock = self._connect()
                backoff = 0.2
                self._serve(sock)
            except (OSError, ProtocolError, ssl.SSLError) as exc:
                if not self._stopping.is_set():
                    log.warning("MQTT disconnected, reconnecting",
                                extra={"source": self.name, "reason": str(exc) or type(exc).__name__})
            except Exception:         # a bug or an input we did not foresee: never die silently
                log.exception("MQTT client error, reconnecting", extra={"source": self.name})
            finally:
                with self._ack_lock:
                    self._generation += 1           # late acks of this connection are now void
                    self._pending_acks = []
                self._set_connected(False)
                if sock is not None:
                    try:
                        sock.close()
                    except OSError:
                        pass
            if not self._stopping.is_set():
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)

    def _connect(self):
        cfg = self.config
        raw = socket.create_connection((cfg.host, cfg.port), timeout=CONNECT_TIMEOUT_S)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)   # acks must not wait for Nagle
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        sock = raw
        if cfg.tls:
            context = ssl.create_default_context(cafile=cfg.ca_file)
            sock = context.wrap_socket(raw, server_hostname=cfg.host)
        flags = 0x00                        # clean start OFF: resume the session the broker kept
        payload = _str(cfg.client_id)
        if cfg.username:
            flags |= 0x80
            payload += _str(cfg.username)
            if cfg.password is not None:
                flags |= 0x40
                payload += _str(cfg.password.reveal())
        # Maximum Packet Size (0x27): the broker must not send us anything larger (MQTT 5
        # 3.1.2.11.4); Mosquitto drops such messages for this client instead.
        props = (b"\x11" + struct.pack(">I", cfg.session_expiry_s)
                 + b"\x21" + struct.pack(">H", cfg.receive_maximum)
                 + b"\x27" + struct.pack(">I", cfg.max_packet_size))
        body = _str("MQTT") + bytes([5, flags]) + struct.pack(">H", cfg.keepalive) + _varint(len(props)) + props
        sock.sendall(_packet(0x10, body + payload))
        self._last_sent = time.monotonic()
        self._keepalive = cfg.keepalive
        # The CONNACK may share a read with the first queued PUBLISH packets: keep the rest.
        data = b""
        while True:
            chunk = sock.recv(RECV_SIZE)
            if not chunk:
                raise OSError("connection closed before CONNACK")
            data += chunk
            packets, rest = self._split(data, self.config.max_packet_size)
            if packets:
                break
        first_byte, start, end = packets[0]
        if first_byte >> 4 != CONNACK or end - start < 2:
            raise ProtocolError(f"expected CONNACK, got packet type {first_byte >> 4}")
        session_present, reason = data[start] & 1, data[start + 1]
        props = _properties(data, start + 2, end) if end - start > 2 else {}
        if reason >= 0x80:                           # logged and retried with backoff by _run
            raise ProtocolError(f"connect refused: reason 0x{reason:02x} {props.get(0x1F, '')}".strip())
        if "keepalive" in props:
            self._keepalive = props["keepalive"]     # the broker's word wins (MQTT 5 3.2.2.3.14)
        sock.settimeout(None)
        log.info("MQTT connected", extra={"source": self.name, "session_present": bool(session_present)})
        # Subscribing again on a present session is harmless and repairs a lost one.
        subscribe = struct.pack(">H", 1) + b"\x00"
        for topic in cfg.topics:
            subscribe += _str(topic.filter) + bytes([min(cfg.qos, 1)])
        sock.sendall(_packet(0x82, subscribe))
        self._subscribed_count = len(cfg.topics)
        self._leftover = data[packets[0][2]:]
        return sock

    # -- reading ------------------------------------------------------------------------------
    @staticmethod
    def _split(data, max_packet_size=268_435_460):
        """Cut complete packets out of ``data``: ([(first byte, body start, body end)], leftover start).

        Raises PacketTooLarge as soon as a header announces a packet above ``max_packet_size``
        (whole packet, header included), before any of its body is kept.
        """
        packets, pos, end = [], 0, len(data)
        while end - pos >= 2:
            length, body = _read_varint(data, pos + 1, end)
            if length is not None and body - pos + length > max_packet_size:
                raise PacketTooLarge(f"broker announced a packet of {body - pos + length} bytes, above "
                                     f"max_packet_size {max_packet_size}")
            if length is None or body + length > end:
                break
            packets.append((data[pos], body, body + length))
            pos = body + length
        return packets, pos

    def _serve(self, sock):
        data = self._leftover
        self._ping_sent_at = None
        tls = isinstance(sock, ssl.SSLSocket)
        while True:
            if self._stopping.is_set():
                self._flush_acks(sock)
                sock.sendall(DISCONNECT_NORMAL)
                return
            if data:
                data = self._consume(sock, data)
            self._flush_acks(sock)
            now = time.monotonic()
            if self._ping_sent_at is not None and now - self._ping_sent_at > self._keepalive:
                raise ProtocolError("no PINGRESP within the keepalive interval")
            if self._keepalive and now - self._last_sent >= self._keepalive / 2:
                sock.sendall(PINGREQ_BYTES)
                self._last_sent = now
                self._ping_sent_at = self._ping_sent_at or now
            wait = max(0.05, self._keepalive / 2 - (now - self._last_sent)) if self._keepalive else 1.0
            if not (tls and sock.pending()):     # TLS may hold decrypted bytes select cannot see
                readable, _, _ = select.select([sock, self._wake_r], [], [], min(wait, 1.0))
                if sock not in readable:
                    continue
            chunk = sock.recv(RECV_SIZE)
            if not chunk:
                raise OSError("connection closed by the broker")
            if not data:
                data = chunk
            else:
                # Grow in place: with ``data + chunk`` a packet spanning many reads was copied
                # once per read (quadratic in its size).
                if type(data) is not bytearray:
                    data = bytearray(data)
                data += chunk

    def _consume(self, sock, data):
        """Handle every complete packet in ``data``; return the incomplete tail."""
        try:
            packets, rest = self._split(data, self.config.max_packet_size)
        except PacketTooLarge:
            sock.sendall(DISCONNECT_TOO_LARGE)
            raise
        if not packets:
            return data
        publishes = []
        for first_byte, start, end in packets:
            kind = first_byte >> 4
            if kind == PUBLISH:
                publishes.append((first_byte, start, end))
            elif kind == PINGRESP:
                self._ping_sent_at = None
            elif kind == SUBACK:
                self._on_suback(data, start, end)
            elif kind == DISCONNECT:
                reason = data[start] if end > start else 0
                raise OSError(f"broker sent DISCONNECT, reason 0x{reason:02x}")
            else:
                sock.sendall(DISCONNECT_MALFORMED)
                raise ProtocolError(f"unexpected packet type {kind}")
        if publishes:
            try:
                delivery = self._deliveries(data, publishes)
            except (ProtocolError, IndexError, struct.error) as exc:
                # Nothing of this read is handed over or acked: the broker redelivers it all.
                sock.sendall(DISCONNECT_MALFORMED)
                raise ProtocolError(f"malformed PUBLISH packet: {exc}") from None
            if delivery is not None:
                self._hand_over(sock, delivery)
        return data[rest:]

    def _on_suback(self, data, start, end):
        if end - start < 3:                               # packet id, properties length, >= 1 code
            raise ProtocolError("SUBACK too short")
        props_len, pos = _read_varint(data, start + 2, end)
        if props_len is None or pos + props_len >= end:
            raise ProtocolError("SUBACK properties run past the packet")
        codes = data[pos + props_len:end]
        failed = [f"0x{code:02x}" for code in codes if code >= 0x80]
        if failed or len(codes) != self._subscribed_count:
            log.error("MQTT subscription refused", extra={"source": self.name, "reasons": failed})
            return
        # "connected" means subscribed: only from here on nothing published is missed.
        self._set_connected(True)

    def _deliveries(self, data, publishes):
        """Turn a run of PUBLISH packets into one Delivery (signals, rejects, ack of all ids)."""
        if not self._intake_open:
            return None          # shutting down: leave them unacknowledged, the broker redelivers
        signals, rejects, packet_ids = [], [], []
        received = utc_now()
        topics, loads, name = self._topics, json.loads, self.name
        for first_byte, start, end in publishes:
            qos = (first_byte >> 1) & 3
            if qos == 3 or qos == 2 or end - start < 2:
                raise ProtocolError(f"PUBLISH with QoS {qos} (only 0 and 1 are subscribed)")
            topic_end = start + 2 + ((data[start] << 8) | data[start + 1])
            if topic_end + (2 if qos else 0) >= end:          # topic, packet id, properties length
                raise ProtocolError("PUBLISH topic runs past the packet")
            pos = topic_end
            if qos:
                packet_ids.append((data[pos] << 8) | data[pos + 1])
                pos += 2
            props_len = data[pos]
            if props_len < 0x80:
                pos += 1 + props_len               # the usual case: no or short properties
            else:
                props_len, pos = _read_varint(data, pos, end)
                if props_len is None:
                    raise ProtocolError("PUBLISH properties length runs past the packet")
                pos += props_len
            if pos > end:
                raise ProtocolError("PUBLISH header runs past the packet")
            topic_raw = bytes(data[start + 2:topic_end])       # a dict key (data may be a bytearray)
            known = topics.get(topic_raw)
            if known is None:
                known = self._learn_topic(topic_raw)
            topic, paths = known
            payload = data[pos:end]
            try:
                document = loads(payload)
                if isinstance(document, list):
                    signals.extend([to_signal(name, item, paths, received, topic) for item in document])
                else:
                    signals.append(to_signal(name, document, paths, received, topic))
            except Exception as exc:      # noqa: BLE001 - whatever one message does, it is its own reject
                # Not only ValueError: deep JSON raises RecursionError, extreme timestamps
                # OverflowError. Escaping here would drop the connection and loop on redelivery.
                reason = f"malformed MQTT payload: {describe_parse_error(exc)}"
                text = bytes(payload).decode("utf-8", "replace")[:4000]
                rejects.append((name, json.dumps({"topic": topic, "payload": text}), reason))
                log.warning("malformed MQTT payload dead-lettered",
                            extra={"source": name, "topic": topic, "error": reason})
        self.metrics.messages_in.labels(name).inc(len(publishes))
        if rejects:
            self.metrics.messages_rejected_in.labels(name).inc(len(rejects))
            self.metrics.readings_rejected.labels("malformed input").inc(len(rejects))
        generation = self._generation
        ack = (lambda: self._ack_later(generation, packet_ids)) if packet_ids else None
        return Delivery(signals=signals, ack=ack, rejects=rejects)

    def _learn_topic(self, topic_raw):
        if len(self._topics) > 10000:
            self._topics.clear()                   # bound the cache if topics are unbounded
        topic = topic_raw.decode("utf-8", "replace")
        paths = self.config.topics[0].fields
        for candidate in self.config.topics:
            if topic_matches(candidate.filter, topic):
                paths = candidate.fields
                break
        self._topics[topic_raw] = (topic, paths)
        return topic, paths

    def _hand_over(self, sock, delivery):
        """Put into the inbox; while it is full keep writing acks and pings so the link stays up."""
        while not self.inbox.offer(delivery, timeout=0.2):
            if self._stopping.is_set():
                return
            self._flush_acks(sock)
            if self._keepalive and time.monotonic() - self._last_sent >= self._keepalive / 2:
                sock.sendall(PINGREQ_BYTES)
                self._last_sent = time.monotonic()
