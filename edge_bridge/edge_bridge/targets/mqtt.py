"""MQTT publish target (paho-mqtt 2.x, MQTT v5): each message is published, QoS 1 by default,
on a topic made from a template (``plant1/orders/{payload.order_ref}``), the envelope as JSON.

Done means the broker acknowledged it (PUBACK for QoS 1); a broker that does not answer in
``timeout_s`` makes the message wait (Unavailable) and the next attempt publishes it again -
the envelope's ``key`` lets subscribers drop the repeat. In topic values ``/``, ``+`` and ``#``
become ``_`` (``WH/MO/00042`` -> ``WH_MO_00042``): a value never adds a level or a wildcard.
"""
import json
import threading
from dataclasses import dataclass

import paho.mqtt.client as mqtt

from ..config import ConfigError, Secret
from .base import Refused, Target, Unavailable, register, render, topic_level


@dataclass
class MqttTargetConfig:
    host: str
    port: int
    client_id: str
    topic: str
    qos: int = 1
    retain: bool = False
    timeout_s: float = 10.0
    username: str | None = None
    password: Secret | None = None
    tls: bool = False
    ca_file: str | None = None


@register
class MqttTarget(Target):
    type = "mqtt"

    @classmethod
    def parse_settings(cls, node, context):
        node.check_known("host", "port", "client_id", "topic", "qos", "retain", "timeout_s", "username",
                         "password", "tls", "ca_file")
        qos = node.data.get("qos", 1)
        if qos not in (0, 1, 2) or isinstance(qos, bool):
            raise ConfigError(f"{node._key('qos')}: must be 0, 1 or 2")
        topic = node.str("topic", required=True)
        if "+" in topic or "#" in topic:
            raise ConfigError(f"{node._key('topic')}: a publish topic cannot hold the wildcards + or #")
        return MqttTargetConfig(
            host=node.str("host", "127.0.0.1"), port=node.num("port", 1883, 1, 65535, integer=True),
            client_id=node.str("client_id", required=True), topic=topic, qos=qos,
            retain=node.bool("retain", False), timeout_s=node.num("timeout_s", 10.0, minimum=0.1),
            username=node.str("username"), password=node.secret("password", context.base_dir),
            tls=node.bool("tls", False), ca_file=node.str("ca_file"))

    def __init__(self, name, settings):
        super().__init__(name, settings)
        self._lock = threading.Lock()
        self._client = None

    def _connected_client(self):
        if self._client is not None and self._client.is_connected():
            return self._client
        self.close()
        config = self.config
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=config.client_id,
                             protocol=mqtt.MQTTv5)
        if config.username:
            client.username_pw_set(config.username, config.password.reveal() if config.password else None)
        if config.tls:
            client.tls_set(ca_certs=config.ca_file)
        connected = threading.Event()
        client.on_connect = lambda c, userdata, flags, reason, props: reason == 0 and connected.set()
        try:
            client.connect(config.host, config.port, keepalive=30)
        except OSError as exc:
            raise Unavailable(f"MQTT broker {config.host}:{config.port} unreachable: {exc}") from None
        client.loop_start()
        if not connected.wait(config.timeout_s):
            client.loop_stop()
            client.disconnect()
            raise Unavailable(f"MQTT broker {config.host}:{config.port} did not accept the connection")
        self._client = client
        return client

    def deliver(self, envelope):
        topic = render(self.config.topic, envelope, topic_level)
        body = json.dumps(envelope, separators=(",", ":"))
        with self._lock:
            client = self._connected_client()
            info = client.publish(topic, body, qos=self.config.qos, retain=self.config.retain)
            if info.rc == mqtt.MQTT_ERR_PAYLOAD_SIZE:
                raise Refused(f"{len(body)} bytes is more than the broker takes")
            try:
                info.wait_for_publish(self.config.timeout_s)
            except (RuntimeError, ValueError) as exc:
                self.close()
                raise Unavailable(f"MQTT publish on {topic} failed: {exc}") from None
            if not info.is_published():
                self.close()
                raise Unavailable(f"the broker did not acknowledge the publish on {topic} in "
                                  f"{self.config.timeout_s:g} s")
        return f"published on {topic} (QoS {self.config.qos})"

    def close(self):
        client, self._client = self._client, None
        if client is not None:
            client.loop_stop()
            client.disconnect()
