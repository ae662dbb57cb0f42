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

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from ..signals import Delivery, utc_now
from .json_fields import describe_parse_error, to_signal

log = logging.getLogger(__name__)


def topic_matches(filter_, topic):
    return mqtt.topic_matches_sub(filter_, topic)


class MqttSource:
    def __init__(self, source_config, inbox, metrics):
        self.name = source_config.name
        self.config = source_config.settings
        self.inbox = inbox
        self.metrics = metrics
        self.connected = False
        self._intake_open = threading.Event()
        self._intake_open.set()
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
