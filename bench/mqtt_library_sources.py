"""Bridge sources on maintained asyncio MQTT 5 clients (gmqtt, aiomqtt), for bench_edge.py only.

They let the benchmark run the very same pipeline as the bridge's own clients (inbox -> aggregation
-> SQLite commit -> PUBACK after the commit) so the clients can be compared in one run.
"""
import json
import threading


class AsyncLibrarySource:
    """A bridge source on a maintained asyncio MQTT 5 client (gmqtt or aiomqtt), for comparison.

    Same contract as ours: one Delivery per message into the bridge's inbox, PUBACK only after
    the aggregation worker committed it (gmqtt: optimistic_acknowledgement=False and an async
    on_message that returns once the commit happened; aiomqtt: paho's manual_ack_set(True) on its
    inner client and ``ack(mid)`` scheduled on the client's loop after the commit).
    """

    def __init__(self, library, port, client_id, topic, paths, inbox, metrics):
        self.library, self.port, self.client_id, self.topic, self.paths = library, port, client_id, topic, paths
        self.name, self.inbox, self.metrics = "mes", inbox, metrics
        self.connected = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._thread_main, name=f"{library}-mes", daemon=True)

    def start(self):
        self._thread.start()

    def stop_intake(self):
        self._stop.set()

    def close(self):
        self._stop.set()
        self._thread.join(10)

    def _thread_main(self):
        import asyncio
        asyncio.run(self._gmqtt() if self.library == "gmqtt" else self._aiomqtt())

    def _delivery(self, topic, payload, ack):
        from edge_bridge.signals import Delivery, utc_now
        from edge_bridge.sources.json_fields import to_signal
        self.metrics.messages_in.labels(self.name).inc()
        try:
            return Delivery(signals=[to_signal(self.name, json.loads(payload), self.paths, utc_now(), topic)], ack=ack)
        except Exception as exc:
            return Delivery(ack=ack, rejects=[(self.name, payload.decode(errors="replace"), str(exc))])

    async def _hand_over(self, delivery):
        import asyncio
        while not self.inbox.offer(delivery, 0):
            await asyncio.sleep(0.005)

    async def _gmqtt(self):
        import asyncio

        import gmqtt
        loop = asyncio.get_running_loop()
        client = gmqtt.Client(self.client_id, clean_session=False, optimistic_acknowledgement=False,
                              session_expiry_interval=3600, receive_maximum=1000)

        async def on_message(client_, topic, payload, qos, properties):
            committed = loop.create_future()
            await self._hand_over(self._delivery(topic, payload, lambda: loop.call_soon_threadsafe(
                committed.set_result, None)))
            await committed
            return 0                                       # PUBACK success, sent only now

        client.on_message = on_message
        await client.connect("127.0.0.1", self.port, version=gmqtt.constants.MQTTv50)
        client.subscribe(self.topic, qos=1)
        self.connected = True
        while not self._stop.is_set():
            await asyncio.sleep(0.05)
        await client.disconnect()

    async def _aiomqtt(self):
        import asyncio

        import aiomqtt
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties
        loop = asyncio.get_running_loop()
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        props.ReceiveMaximum = 1000
        client = aiomqtt.Client("127.0.0.1", self.port, identifier=self.client_id,
                                protocol=aiomqtt.ProtocolVersion.V5, clean_start=False, properties=props)
        paho_client = client._client            # aiomqtt has no manual-ack API of its own
        paho_client.manual_ack_set(True)
        async with client:
            await client.subscribe(self.topic, qos=1)
            self.connected = True
            messages = client.messages.__aiter__()
            while not self._stop.is_set():
                try:
                    message = await asyncio.wait_for(messages.__anext__(), 0.2)
                except TimeoutError:
                    continue
                mid = message.mid
                def ack(mid=mid):
                    loop.call_soon_threadsafe(paho_client.ack, mid, 1)
                await self._hand_over(self._delivery(str(message.topic), message.payload, ack))
