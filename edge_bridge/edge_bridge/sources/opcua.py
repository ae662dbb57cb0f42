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
import threading
from datetime import timezone

from asyncua import Client, ua

from ..aggregate.alarms import opcua_severity
from ..signals import Delivery, Signal, utc_now

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


class OpcuaSource:
    def __init__(self, source_config, inbox, metrics):
        self.name = source_config.name
        self.config = source_config.settings
        self.inbox = inbox
        self.metrics = metrics
        self.connected = False
        self.connects = 0
        self._stop = threading.Event()
        self._intake_open = threading.Event()
        self._intake_open.set()
        self._thread = threading.Thread(target=self._thread_main, name=f"opcua-{self.name}", daemon=True)

    def start(self):
        self._thread.start()

    def stop_intake(self):
        self._intake_open.clear()

    def close(self):
        self._stop.set()
        self._intake_open.clear()
        self._thread.join(timeout=10)

    def hand_over(self, delivery):
        if self._intake_open.is_set():
            self.inbox.put(delivery, self._stop)

    def _thread_main(self):
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
            for node_config, result in zip(self.config.nodes, results):
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
            except (Exception, asyncio.TimeoutError) as exc:    # any failure -> reconnect
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
                    except (Exception, asyncio.TimeoutError):
                        pass
            deadline = loop.time() + delay
            while not self._stop.is_set() and loop.time() < deadline:
                await asyncio.sleep(0.1)
            delay = min(delay * 2, self.config.reconnect_max_s)
