"""MQTT Sparkplug B source (paho-mqtt, protobuf payloads): a Sparkplug host application that
reads one group's edge nodes and devices.

Topics ``spBv1.0/<group>/<NBIRTH|NDEATH|DBIRTH|DDEATH|NDATA|DDATA>/<node>[/<device>]``
(Sparkplug 3.0, chapter 4). What it does with them:

- births (NBIRTH, DBIRTH) carry every metric with its name, alias and current value: the aliases
  are learnt per node/device, and the mapped metrics are handed over as readings;
- data (NDATA, DDATA) may name metrics by alias only: an alias no birth announced is a dead
  letter ("unknown alias 99") and a rebirth is requested from the node (NCMD with
  ``Node Control/Rebirth`` = true), at most once per ``rebirth_interval_s``;
- ``seq`` (0-255, +1 per message of a node after its NBIRTH) is checked: a gap means lost
  messages - dead letter with what was expected and what came, and a rebirth request (the
  message's values are still taken: they are current);
- DDEATH, and NDEATH for every device of the node, set the mapped asset's state tag to
  ``offline_value`` with the stop reason ``offline_reason`` (COMM_LOSS): the machine counts as
  stopped while its device is offline, as Odoo's availability should see it;
- a metric that is null, NaN/inf, or of a type that is no tag value (DataSet, Template, Bytes)
  is a dead letter with the reason; a payload that is not a Sparkplug B payload is one too.

Only mapped metrics (``metrics[]``: node, device, metric name -> asset, tag) become readings; a
node's other metrics are ignored. Sparkplug data is live state on QoS 0: nothing is acknowledged,
what was published while the bridge was away is not replayed (the births after a reconnect give
the current values; counters are absolute).
"""
import logging
import math
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

import paho.mqtt.client as mqtt
from google.protobuf.message import DecodeError

from ..config import ConfigError, Secret
from ..signals import Delivery, Signal, utc_now
from ._sparkplug_payload import Payload, metric_value
from .base import Source, register

log = logging.getLogger(__name__)

NAMESPACE = "spBv1.0"
MESSAGE_TYPES = ("NBIRTH", "NDEATH", "DBIRTH", "DDEATH", "NDATA", "DDATA")
REBIRTH_METRIC = "Node Control/Rebirth"


@dataclass
class SparkplugMetric:
    node: str
    device: str | None
    metric: str
    asset: str
    tag: str


@dataclass
class SparkplugConfig:
    host: str
    port: int
    client_id: str
    group_id: str
    metrics: list = field(default_factory=list)
    # (node, device) -> (asset, its state tag, its state reason tag): the asset's state follows it
    devices: dict = field(default_factory=dict)
    offline_value: str = "OFFLINE"
    offline_reason: str = "COMM_LOSS"
    rebirth_interval_s: float = 5.0
    username: str | None = None
    password: Secret | None = None
    tls: bool = False
    ca_file: str | None = None


def _stamp(milliseconds, fallback):
    if milliseconds:
        try:
            return datetime.fromtimestamp(milliseconds / 1000, timezone.utc)
        except (OverflowError, OSError, ValueError):
            return fallback
    return fallback


@register
class SparkplugSource(Source):
    type = "sparkplug"

    @classmethod
    def parse_settings(cls, node, context):
        node.check_known("host", "port", "client_id", "group_id", "metrics", "devices", "offline_value",
                         "offline_reason", "rebirth_interval_s", "username", "password", "tls", "ca_file")
        metrics = []
        for item in node.items("metrics", required=True):
            item.check_known("node", "device", "metric", "asset", "tag")
            metric = SparkplugMetric(item.str("node", required=True), item.str("device"),
                                     item.str("metric", required=True), item.str("asset", required=True),
                                     item.str("tag", required=True))
            if metric.asset not in context.assets:
                raise ConfigError(f"{item._key('asset')}: unknown asset {metric.asset!r} (define it under assets)")
            metrics.append(metric)
        if not metrics:
            raise ConfigError(f"{node._key('metrics')}: at least one metric is needed")
        devices = {}
        for item in node.items("devices"):
            item.check_known("node", "device", "asset")
            asset = item.str("asset", required=True)
            if asset not in context.assets or not context.assets[asset].tags_with_role("state"):
                raise ConfigError(f"{item._key('asset')}: {asset!r} must be an asset with a state tag")
            reason = context.assets[asset].tags_with_role("state_reason")
            devices[(item.str("node", required=True), item.str("device"))] = (
                asset, context.assets[asset].tags_with_role("state")[0].name, reason[0].name if reason else None)
        group = node.str("group_id", required=True)
        if any(char in group for char in "/+#"):
            raise ConfigError(f"{node._key('group_id')}: a Sparkplug group id cannot hold / + #")
        return SparkplugConfig(
            host=node.str("host", "127.0.0.1"), port=node.num("port", 1883, 1, 65535, integer=True),
            client_id=node.str("client_id", required=True), group_id=group, metrics=metrics, devices=devices,
            offline_value=node.str("offline_value", "OFFLINE"), offline_reason=node.str("offline_reason", "COMM_LOSS"),
            rebirth_interval_s=node.num("rebirth_interval_s", 5.0, minimum=0),
            username=node.str("username"), password=node.secret("password", context.base_dir),
            tls=node.bool("tls", False), ca_file=node.str("ca_file"))

    def __init__(self, source_config, inbox, metrics, outbox=None):
        super().__init__(source_config, inbox, metrics, outbox)
        self._stopping = threading.Event()
        self._mapping = {(m.node, m.device, m.metric): (m.asset, m.tag) for m in self.config.metrics}
        self._aliases = {}         # (node, device) -> {alias: metric name}
        self._next_seq = {}        # node -> the seq its next message must carry (None: not born)
        self._rebirth_asked = {}   # node -> monotonic time of the last request
        self.rebirths_requested = 0
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.config.client_id,
                                  protocol=mqtt.MQTTv311)
        if self.config.username:
            self.client.username_pw_set(self.config.username,
                                        self.config.password.reveal() if self.config.password else None)
        if self.config.tls:
            self.client.tls_set(ca_certs=self.config.ca_file)
        self.client.reconnect_delay_set(min_delay=0.2, max_delay=10)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message

    def start(self):
        self.client.connect_async(self.config.host, self.config.port, keepalive=30)
        self.client.loop_start()

    def stop_intake(self):
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
            log.error("Sparkplug MQTT connect refused", extra={"source": self.name, "reason": str(reason_code)})
            return
        # A fresh session: every node must be born again before its data can be read.
        self._aliases.clear()
        self._next_seq.clear()
        client.subscribe(f"{NAMESPACE}/{self.config.group_id}/#", qos=1)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        if any(code.is_failure for code in reason_codes):
            log.error("Sparkplug subscription refused", extra={"source": self.name})
            return
        self.connected = True
        self.metrics.source_connected.labels(self.name).set(1)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        self.connected = False
        self.metrics.source_connected.labels(self.name).set(0)
        if not self._stopping.is_set():
            log.warning("Sparkplug MQTT disconnected, reconnecting", extra={"source": self.name})

    def _on_message(self, client, userdata, message):
        if not self._intake_open.is_set():
            return
        self.metrics.messages_in.labels(self.name).inc()
        parts = message.topic.split("/")
        if len(parts) not in (4, 5) or parts[2] not in MESSAGE_TYPES:
            return                  # NCMD, DCMD, STATE: not data
        kind, node = parts[2], parts[3]
        device = parts[4] if len(parts) == 5 else None
        delivery = Delivery()
        try:
            payload = Payload.FromString(message.payload)
        except (DecodeError, RuntimeWarning, ValueError) as exc:
            self._reject(delivery, message.topic, f"malformed Sparkplug B payload: {exc}")
        else:
            self._handle(kind, node, device, payload, message.topic, delivery)
        if delivery.signals or delivery.rejects:
            self.inbox.put(delivery, self._stopping)

    # -- Sparkplug state machine --------------------------------------------------------------
    def _handle(self, kind, node, device, payload, topic, delivery):
        received = utc_now()
        if kind == "NDEATH":
            self._next_seq[node] = None
            for (dead_node, dead_device) in [key for key in self._aliases if key[0] == node]:
                self._aliases.pop((dead_node, dead_device), None)
                self._offline(node, dead_device, received, delivery)
            for (known_node, known_device) in self.config.devices:
                if known_node == node and (node, known_device) not in self._aliases:
                    self._offline(node, known_device, received, delivery)
            return
        if kind == "NBIRTH":
            for key in [key for key in self._aliases if key[0] == node]:
                del self._aliases[key]
            self._next_seq[node] = (payload.seq + 1) % 256
        elif not self._check_seq(node, payload, topic, delivery):
            return
        if kind in ("NBIRTH", "DBIRTH"):
            self._aliases[(node, device)] = {m.alias: m.name for m in payload.metrics if m.HasField("alias")}
        elif kind == "DDEATH":
            self._aliases.pop((node, device), None)
            self._offline(node, device, received, delivery)
            return
        known = self._aliases.get((node, device))
        if known is None:
            self._reject(delivery, topic, f"{kind} of {node}/{device} before its birth: rebirth requested")
            self._request_rebirth(node)
            return
        stamp = _stamp(payload.timestamp, received)
        for metric in payload.metrics:
            name = metric.name if metric.HasField("name") else known.get(metric.alias)
            if name is None:
                self._reject(delivery, topic, f"unknown alias {metric.alias} on {node}/{device}: rebirth requested")
                self._request_rebirth(node)
                continue
            target = self._mapping.get((node, device, name))
            if target is None:
                continue
            value, problem = metric_value(metric)
            if problem is None and isinstance(value, float) and not math.isfinite(value):
                problem = f"{value} is not a measurement"
            if problem:
                self._reject(delivery, topic, f"{node}/{device} {name}: {problem}")
                continue
            delivery.signals.append(Signal(self.name, *target, value, _stamp(metric.timestamp, stamp)))

    def _check_seq(self, node, payload, topic, delivery):
        expected = self._next_seq.get(node)
        if expected is None:
            self._reject(delivery, topic, f"message of {node} before its NBIRTH: rebirth requested")
            self._request_rebirth(node)
            return False
        got = payload.seq if payload.HasField("seq") else None
        self._next_seq[node] = ((got if got is not None else expected) + 1) % 256
        if got != expected:
            self.metrics.readings_rejected.labels("sparkplug seq gap").inc()
            self._reject(delivery, topic, f"seq gap on {node}: expected {expected}, got {got} (messages lost): "
                                          "rebirth requested")
            self._request_rebirth(node)
        return True

    def _offline(self, node, device, stamp, delivery):
        place = self.config.devices.get((node, device))
        if place is None:
            return
        asset, state_tag, reason_tag = place
        if reason_tag:      # the reason first: the stop that follows is booked with it
            delivery.signals.append(Signal(self.name, asset, reason_tag, self.config.offline_reason, stamp))
        delivery.signals.append(Signal(self.name, asset, state_tag, self.config.offline_value, stamp))

    def _reject(self, delivery, topic, reason):
        self.metrics.messages_rejected_in.labels(self.name).inc()
        delivery.rejects.append((self.name, topic, reason))
        log.warning("Sparkplug input dead-lettered", extra={"source": self.name, "topic": topic, "error": reason})

    def _request_rebirth(self, node):
        now = time.monotonic()
        if now - self._rebirth_asked.get(node, -1e9) < self.config.rebirth_interval_s:
            return
        self._rebirth_asked[node] = now
        request = Payload(timestamp=int(time.time() * 1000))
        request.metrics.add(name=REBIRTH_METRIC, datatype=11, boolean_value=True)
        self.client.publish(f"{NAMESPACE}/{self.config.group_id}/NCMD/{node}", request.SerializeToString(), qos=0)
        self.rebirths_requested += 1
        log.info("Sparkplug rebirth requested", extra={"source": self.name, "node": node})
