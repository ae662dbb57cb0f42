"""PLC simulator: an asyncua server exposing one machine per asset.

Node ids are strings, ``ns=2;s=<asset>.<tag>`` (namespace ``urn:edge-bridge:simulator`` is the
first one registered, so its index is 2). Values are written with the reading's nominal time as
SourceTimestamp, which is what the bridge windows on.

Each machine also has what the bridge's return path writes (Odoo -> plant): an order download
area (``order_ref``, ``order_product``, ``order_qty``, ``order_loaded``) and setpoints
(``temperature_sp``, ``speed_sp`` as a Float like many drives). ``mode_sp`` is read-only (a
write is refused with BadUserAccessDenied / BadNotWritable), and the drive clamps ``speed_sp``
to ``SPEED_LIMIT`` right after a write - what a read-back must catch. Every accepted client
write is recorded in ``written`` (asset, tag, value).
"""
import logging
from datetime import datetime, timezone

from asyncua import Server, ua
from asyncua.common.callback import CallbackType

from .scenario import initial_values

NAMESPACE = "urn:edge-bridge:simulator"
_TYPES = {bool: ua.VariantType.Boolean, int: ua.VariantType.Int64, float: ua.VariantType.Double,
          str: ua.VariantType.String}


# tag -> (initial value, variant type, writable by clients)
WRITABLE = {"order_ref": ("", ua.VariantType.String, True),
            "order_product": ("", ua.VariantType.String, True),
            "order_qty": (0.0, ua.VariantType.Double, True),
            "order_loaded": (False, ua.VariantType.Boolean, True),
            "temperature_sp": (180.0, ua.VariantType.Double, True),
            "speed_sp": (60.0, ua.VariantType.Float, True),
            "mode_sp": (1, ua.VariantType.Int32, False)}
SPEED_LIMIT = 120.0


def node_id(asset, tag):
    return f"ns=2;s={asset}.{tag}"


class PlcSimulator:
    def __init__(self, port, assets, scenario="normal"):
        self.port = port
        self.assets = list(assets)
        self.scenario = scenario
        self.server = None
        self.nodes = {}
        self.values = {asset: initial_values(scenario) for asset in self.assets}
        self.written = []           # (asset, tag, value) of each write a client made
        self._writable = {}         # node id -> (asset, tag)

    @property
    def endpoint(self):
        return f"opc.tcp://127.0.0.1:{self.port}/edge-sim/"

    async def start(self):
        logging.getLogger("asyncua").setLevel(logging.ERROR)
        server = Server()
        await server.init()
        server.set_endpoint(self.endpoint)
        server.set_server_name("edge-bridge PLC simulator")
        server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        index = await server.register_namespace(NAMESPACE)
        objects = server.nodes.objects
        for asset in self.assets:
            folder = await objects.add_object(index, asset)
            for tag, value in self.values[asset].items():
                node = await folder.add_variable(ua.NodeId(f"{asset}.{tag}", index), tag,
                                                 ua.Variant(value, _TYPES[type(value)]))
                self.nodes[(asset, tag)] = node
            for tag, (value, variant, writable) in WRITABLE.items():
                node = await folder.add_variable(ua.NodeId(f"{asset}.{tag}", index), tag, ua.Variant(value, variant))
                if writable:
                    await node.set_writable()
                self.nodes[(asset, tag)] = node
                self._writable[node.nodeid] = (asset, tag)
        server.subscribe_server_callback(CallbackType.PostWrite, self._after_client_write)
        await server.start()
        self.server = server

    async def _after_client_write(self, event, dispatcher):
        for item, status in zip(event.request_params.NodesToWrite, event.response_params, strict=False):
            place = self._writable.get(item.NodeId)
            if place is None or not status.is_good():
                continue
            value = item.Value.Value.Value
            if place[1] == "speed_sp" and value > SPEED_LIMIT:      # the drive's own limit
                value = SPEED_LIMIT
                await self.server.write_attribute_value(item.NodeId, ua.DataValue(
                    ua.Variant(value, ua.VariantType.Float)))
            self.written.append((*place, value))

    def value_of(self, asset, tag):
        """What the PLC holds now (from any thread of the simulation: the node's stored value)."""
        return self.server.iserver.aspace.read_attribute_value(self.nodes[(asset, tag)].nodeid,
                                                               ua.AttributeIds.Value).Value.Value

    async def stop(self):
        if self.server is not None:
            await self.server.stop()
            self.server = None

    async def write(self, asset, tag, value, at):
        """Set a tag as the PLC would at nominal time ``at`` (epoch seconds)."""
        self.values[asset][tag] = value
        if self.server is None:
            return      # "powered off": the value changes, nobody can see it
        stamp = datetime.fromtimestamp(at, timezone.utc).replace(tzinfo=None)
        data_value = ua.DataValue(ua.Variant(value, _TYPES[type(value)]), SourceTimestamp=stamp,
                                  ServerTimestamp=stamp)
        await self.server.write_attribute_value(self.nodes[(asset, tag)].nodeid, data_value)
