"""OPC UA source (asyncua client) running its own event loop in a thread.

Subscribes to data changes of the configured nodes (and to events of the configured event
notifiers), checks the session every second, and on any failure tears the client down and
reconnects with backoff, re-creating every subscription - a restarted PLC server forgets them.

Notifications that arrive in one publish response are handed over together, sorted by source
timestamp: a PLC that writes a stop reason and then the stop itself in one scan must be seen in
that order, whatever order the server lists its monitored items in.

OPC UA has no acknowledgement: counters are absolute values, so whatever changed while the
bridge was away is still counted; state changes that began and ended during an outage are not
visible to a subscription.
"""
import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timezone

from asyncua import Client, ua

from ..aggregate.alarms import opcua_severity
from ..config import ConfigError, Secret
from ..signals import Delivery, Signal, utc_now
from .base import Source, register

log = logging.getLogger(__name__)


def _aware(moment):
    if moment is None:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


class _Handler:
    def __init__(self, source, loop, mapping):
        self.source = source
        self.loop = loop
        self.mapping = mapping          # node id string -> (asset, tag)
        self.batch = []

    def datachange_notification(self, node, value, data):
        asset, tag = self.mapping[node.nodeid.to_string()]
        data_value = data.monitored_item.Value
        stamp = _aware(data_value.SourceTimestamp) or _aware(data_value.ServerTimestamp) or utc_now()
        self._queue(Signal(self.source.name, asset, tag, value, stamp))

    def event_notification(self, event):
        asset, tag = self.mapping["events"]
        source_name = getattr(event, "SourceName", None)
        message = getattr(event, "Message", None)
        value = {"code": str(source_name or getattr(event, "EventType", "EVENT")),
                 "severity": opcua_severity(getattr(event, "Severity", 0)), "active": True,
                 "text": getattr(message, "Text", None) if message is not None else None}
        stamp = _aware(getattr(event, "Time", None)) or utc_now()
        self._queue(Signal(self.source.name, asset, tag, value, stamp))

    def status_change_notification(self, status):
        log.warning("OPC UA subscription status changed", extra={"source": self.source.name, "status": str(status)})

    def _queue(self, signal):
        if not self.batch:
            # Runs after asyncua has called us for every item of this publish response.
            self.loop.call_soon(self._hand_over)
        self.batch.append(signal)

    def _hand_over(self):
        batch, self.batch = self.batch, []
        batch.sort(key=lambda s: s.timestamp)
        self.source.metrics.messages_in.labels(self.source.name).inc(len(batch))
        self.source.hand_over(Delivery(signals=batch))


@dataclass
class OpcuaNode:
    node_id: str
    asset: str
    tag: str


@dataclass
class OpcuaConfig:
    endpoint: str
    nodes: list = field(default_factory=list)
    events: list = field(default_factory=list)   # OpcuaNode; value is the event -> alarm
    sampling_interval_ms: float = 100.0
    publishing_interval_ms: float = 100.0
    queue_size: int = 100
    timeout_s: float = 4.0
    reconnect_max_s: float = 30.0
    security_policy: str | None = None        # "Basic256Sha256"
    security_mode: str = "SignAndEncrypt"
    certificate: str | None = None
    private_key: str | None = None
    server_certificate: str | None = None
    username: str | None = None
    password: Secret | None = None


def _opcua_node(node, assets):
    node.check_known("node_id", "asset", "tag")
    result = OpcuaNode(node.str("node_id", required=True), node.str("asset", required=True),
                       node.str("tag", required=True))
    if result.asset not in assets:
        raise ConfigError(f"{node._key('asset')}: unknown asset {result.asset!r} (define it under assets)")
    return result


@register
class OpcuaSource(Source):
    type = "opcua"

    @classmethod
    def parse_settings(cls, node, context):
        node.check_known("endpoint", "nodes", "events", "sampling_interval_ms", "publishing_interval_ms",
                         "queue_size", "timeout_s", "reconnect_max_s", "security_policy", "security_mode",
                         "certificate", "private_key", "server_certificate", "username", "password")
        endpoint = node.str("endpoint", required=True)
        if not endpoint.startswith("opc.tcp://"):
            raise ConfigError(f"{node._key('endpoint')}: must start with opc.tcp:// (got {endpoint!r})")
        config = OpcuaConfig(
            endpoint=endpoint, nodes=[_opcua_node(n, context.assets) for n in node.items("nodes")],
            events=[_opcua_node(n, context.assets) for n in node.items("events")],
            sampling_interval_ms=node.num("sampling_interval_ms", 100.0, minimum=0),
            publishing_interval_ms=node.num("publishing_interval_ms", 100.0, minimum=1),
            queue_size=node.num("queue_size", 100, 1, 100000, integer=True),
            timeout_s=node.num("timeout_s", 4.0, minimum=0.1),
            reconnect_max_s=node.num("reconnect_max_s", 30.0, minimum=0.1),
            security_policy=node.str("security_policy", choices=("Basic256Sha256",)),
            security_mode=node.str("security_mode", "SignAndEncrypt", choices=("Sign", "SignAndEncrypt")),
            certificate=node.str("certificate"), private_key=node.str("private_key"),
            server_certificate=node.str("server_certificate"),
            username=node.str("username"), password=node.secret("password", context.base_dir))
        if config.security_policy and not (config.certificate and config.private_key):
            raise ConfigError(f"{node._key('certificate')}: security_policy {config.security_policy} needs "
                              "certificate and private_key")
        if not config.nodes and not config.events:
            raise ConfigError(f"{node._key('nodes')}: at least one node or event source is needed")
        return config

    def __init__(self, source_config, inbox, metrics, outbox=None):
        super().__init__(source_config, inbox, metrics, outbox)
        self.connects = 0

    def hand_over(self, delivery):
        if self._intake_open.is_set():
            self.inbox.put(delivery, self._stop)

    def run(self):
        asyncio.run(self._run())

    async def _client(self):
        client = Client(self.config.endpoint, timeout=self.config.timeout_s)
        if self.config.security_policy:
            parts = [self.config.security_policy, self.config.security_mode, self.config.certificate,
                     self.config.private_key]
            if self.config.server_certificate:
                parts.append(self.config.server_certificate)
            await client.set_security_string(",".join(parts))
        if self.config.username:
            client.set_user(self.config.username)
            if self.config.password:
                client.set_password(self.config.password.reveal())
        return client

    async def _subscribe(self, client, loop):
        mapping = {client.get_node(n.node_id).nodeid.to_string(): (n.asset, n.tag) for n in self.config.nodes}
        params = ua.CreateSubscriptionParameters(
            RequestedPublishingInterval=self.config.publishing_interval_ms, RequestedLifetimeCount=300,
            RequestedMaxKeepAliveCount=10, MaxNotificationsPerPublish=0, PublishingEnabled=True, Priority=0)
        if self.config.nodes:
            subscription = await client.create_subscription(params, _Handler(self, loop, mapping))
            nodes = [client.get_node(n.node_id) for n in self.config.nodes]
            results = await subscription.subscribe_data_change(
                nodes, queuesize=self.config.queue_size, sampling_interval=self.config.sampling_interval_ms)
            for node_config, result in zip(self.config.nodes, results, strict=False):
                if isinstance(result, ua.StatusCode):
                    log.error("OPC UA node cannot be monitored",
                              extra={"source": self.name, "node_id": node_config.node_id, "status": str(result)})
        for event_config in self.config.events:
            handler = _Handler(self, loop, {"events": (event_config.asset, event_config.tag)})
            subscription = await client.create_subscription(params, handler)
            await subscription.subscribe_events(client.get_node(event_config.node_id))

    async def _run(self):
        loop = asyncio.get_running_loop()
        delay = 0.5
        while not self._stop.is_set():
            client = None
            try:
                client = await self._client()
                await client.connect()
                await self._subscribe(client, loop)
                self.connected = True
                self.connects += 1
                self.metrics.source_connected.labels(self.name).set(1)
                log.info("OPC UA connected and subscribed", extra={"source": self.name,
                                                                   "endpoint": self.config.endpoint})
                delay = 0.5
                while not self._stop.is_set():
                    await asyncio.sleep(0.5)
                    await client.check_connection()
            except (TimeoutError, Exception) as exc:    # any failure -> reconnect
                if not self._stop.is_set():
                    log.warning("OPC UA connection lost, reconnecting",
                                extra={"source": self.name, "error": f"{exc.__class__.__name__}: {exc}",
                                       "retry_in_s": delay})
            finally:
                self.connected = False
                self.metrics.source_connected.labels(self.name).set(0)
                if client is not None:
                    try:
                        await asyncio.wait_for(client.disconnect(), 2)
                    except (TimeoutError, Exception):
                        pass
            deadline = loop.time() + delay
            while not self._stop.is_set() and loop.time() < deadline:
                await asyncio.sleep(0.1)
            delay = min(delay * 2, self.config.reconnect_max_s)
