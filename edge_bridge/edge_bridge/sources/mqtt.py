"""MQTT source (paho-mqtt 2.x, MQTT v5).

Exactly-once into the buffer rests on three things:
- a persistent session (fixed client id, clean start off, a session expiry) so the broker keeps
  our subscription and queued messages while we are away;
- manual acknowledgements: PUBACK is sent only after the events built from a message are
  committed to the buffer, so a crash before commit means the broker redelivers;
- per-stream sequence numbers in the payload, persisted with the aggregation state, so a message
  redelivered after a crash *between* commit and PUBACK is recognised and skipped.
MQTT v5 also lets us raise Receive Maximum: with acks delayed until commit, the broker's default
of 20 messages in flight would cap throughput.
"""
import json
import logging
import threading
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from ..config import ConfigError, Secret
from ..signals import Delivery, utc_now
from .base import Source, register
from .json_fields import FieldPaths, describe_parse_error, parse_field_paths, to_signal

log = logging.getLogger(__name__)


def topic_matches(filter_, topic):
    return mqtt.topic_matches_sub(filter_, topic)


@dataclass
class MqttTopic:
    filter: str
    fields: FieldPaths


@dataclass
class MqttConfig:
    host: str = "127.0.0.1"
    port: int = 1883
    client_id: str = ""
    qos: int = 1
    keepalive: int = 30
    receive_maximum: int = 1000
    session_expiry_s: int = 7 * 24 * 3600
    username: str | None = None
    password: Secret | None = None
    tls: bool = False
    ca_file: str | None = None
    topics: list = field(default_factory=list)
    client: str = "fast"        # sources/mqtt_fast.py (bulk socket reads, QoS 0/1); "paho": sources/mqtt.py
    max_packet_size: int = 1024 ** 2   # announced in CONNECT; larger packets are refused unread


@register
class MqttSource(Source):
    """``type: mqtt``. ``client: fast`` (the default) is sources/mqtt_fast.py; ``paho`` is this class."""
    type = "mqtt"

    @classmethod
    def parse_settings(cls, node, context):
        node.check_known("host", "port", "client_id", "qos", "keepalive", "receive_maximum", "session_expiry_s",
                         "username", "password", "tls", "ca_file", "topics", "client", "max_packet_size")
        qos = node.data.get("qos", 1)
        if qos not in (0, 1, 2) or isinstance(qos, bool):
            raise ConfigError(f"{node._key('qos')}: must be 0, 1 or 2")
        # The socket client is the default; it does not do QoS 2, so QoS 2 alone keeps paho.
        client = node.str("client", "paho" if qos == 2 else "fast", choices=("fast", "paho"))
        if client == "fast" and qos == 2:
            raise ConfigError(f"{node._key('qos')}: client fast supports QoS 0 and 1 only")
        topics = []
        for topic in node.items("topics", required=True):
            topic.check_known("filter", "fields")
            topics.append(MqttTopic(filter=topic.str("filter", required=True),
                                    fields=parse_field_paths(topic.child("fields"), topic_allowed=True)))
        if not topics:
            raise ConfigError(f"{node._key('topics')}: at least one topic filter is needed")
        max_packet_size = node.size("max_packet_size", 1024 ** 2)
        if not 1024 <= max_packet_size <= 268_435_455:      # MQTT's own limit (4-byte remaining length)
            raise ConfigError(f"{node._key('max_packet_size')}: must be between 1KB and 256MB (got {max_packet_size})")
        return MqttConfig(
            host=node.str("host", "127.0.0.1"), port=node.num("port", 1883, 1, 65535, integer=True),
            client_id=node.str("client_id", required=True), qos=qos,
            keepalive=node.num("keepalive", 30, 5, 3600, integer=True),
            receive_maximum=node.num("receive_maximum", 1000, 1, 65535, integer=True),
            session_expiry_s=node.num("session_expiry_s", 7 * 24 * 3600, 0, 0xFFFFFFFF, integer=True),
            username=node.str("username"), password=node.secret("password", context.base_dir),
            tls=node.bool("tls", False), ca_file=node.str("ca_file"), topics=topics, client=client,
            max_packet_size=max_packet_size)

    @classmethod
    def create(cls, source_config, inbox, metrics, outbox):
        if source_config.settings.client == "fast":
            from .mqtt_fast import FastMqttSource
            return FastMqttSource(source_config, inbox, metrics, outbox)
        return cls(source_config, inbox, metrics, outbox)

    def __init__(self, source_config, inbox, metrics, outbox=None):
        super().__init__(source_config, inbox, metrics, outbox)
        self._stopping = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.config.client_id,
                                  protocol=mqtt.MQTTv5, manual_ack=True)
        if self.config.username:
            password = self.config.password.reveal() if self.config.password else None
            self.client.username_pw_set(self.config.username, password)
        if self.config.tls:
            self.client.tls_set(ca_certs=self.config.ca_file)
        self.client.reconnect_delay_set(min_delay=0.2, max_delay=10)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe

    def start(self):
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = self.config.session_expiry_s
        properties.ReceiveMaximum = self.config.receive_maximum
        properties.MaximumPacketSize = self.config.max_packet_size   # the broker sends nothing larger
        self.client.connect_async(self.config.host, self.config.port, keepalive=self.config.keepalive,
                                  clean_start=False, properties=properties)
        self.client.loop_start()

    def stop_intake(self):
        """Stop handing messages over; what is not handed over stays unacknowledged at the broker."""
        self._intake_open.clear()

    def close(self):
        self._stopping.set()
        self._intake_open.clear()
        self.client.disconnect()
        self.client.loop_stop()
        self.connected = False
        self.metrics.source_connected.labels(self.name).set(0)

    # -- paho callbacks (network thread) ------------------------------------------------------
    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            log.error("MQTT connect refused", extra={"source": self.name, "reason": str(reason_code)})
            return
        log.info("MQTT connected", extra={"source": self.name, "session_present": flags.session_present})
        # Subscribing again on a present session is harmless and repairs a lost one.
        client.subscribe([(topic.filter, SubscribeOptions(qos=self.config.qos)) for topic in self.config.topics])

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        failed = [str(code) for code in reason_codes if code.is_failure]
        if failed:
            log.error("MQTT subscription refused", extra={"source": self.name, "reasons": failed})
            return
        # "connected" means subscribed: only from here on nothing published is missed.
        self.connected = True
        self.metrics.source_connected.labels(self.name).set(1)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        self.connected = False
        self.metrics.source_connected.labels(self.name).set(0)
        if not self._stopping.is_set():
            log.warning("MQTT disconnected, reconnecting", extra={"source": self.name, "reason": str(reason_code)})

    def _on_message(self, client, userdata, message):
        if not self._intake_open.is_set():
            return        # shutting down: leave it unacknowledged, the broker redelivers it
        mid, qos = message.mid, message.qos
        delivery = Delivery(ack=(lambda: client.ack(mid, qos)) if qos else None)
        self.metrics.messages_in.labels(self.name).inc()
        try:
            document = json.loads(message.payload)
            paths = self._paths_for(message.topic)
            items = document if isinstance(document, list) else [document]
            received = utc_now()
            delivery.signals = [to_signal(self.name, item, paths, received, message.topic) for item in items]
        except Exception as exc:      # noqa: BLE001 - RecursionError, OverflowError...: one message, one reject
            reason = f"malformed MQTT payload: {describe_parse_error(exc)}"
            self.metrics.messages_rejected_in.labels(self.name).inc()
            self.metrics.readings_rejected.labels("malformed input").inc()
            text = message.payload.decode("utf-8", "replace")[:4000]
            delivery.signals = []
            delivery.rejects = [(self.name, json.dumps({"topic": message.topic, "payload": text}), reason)]
            log.warning("malformed MQTT payload dead-lettered",
                        extra={"source": self.name, "topic": message.topic, "error": reason})
        self.inbox.put(delivery, self._stopping)

    def _paths_for(self, topic):
        for candidate in self.config.topics:
            if topic_matches(candidate.filter, topic):
                return candidate.fields
        return self.config.topics[0].fields
