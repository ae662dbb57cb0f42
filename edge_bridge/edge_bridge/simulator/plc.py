"""PLC simulator: an asyncua server exposing one machine per asset.

Node ids are strings, ``ns=2;s=<asset>.<tag>`` (namespace ``urn:edge-bridge:simulator`` is the
first one registered, so its index is 2). Values are written with the reading's nominal time as
SourceTimestamp, which is what the bridge windows on.
"""
import logging
from datetime import datetime, timezone

from asyncua import Server, ua

from .scenario import initial_values

NAMESPACE = "urn:edge-bridge:simulator"
_TYPES = {bool: ua.VariantType.Boolean, int: ua.VariantType.Int64, float: ua.VariantType.Double,
          str: ua.VariantType.String}


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
        await server.start()
        self.server = server

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
