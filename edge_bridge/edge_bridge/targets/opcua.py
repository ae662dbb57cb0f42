"""OPC UA write target (asyncua client): order data and setpoints written to a PLC, each write
read back, only to allow-listed nodes and within configured ranges.

Two kinds of rules, both an allow-list - a node that is not in the configuration is never
written, whatever a message says:

- ``writes``: per canonical type, the nodes to write and where each value comes from (a path
  in the envelope, or a constant such as a "new order" flag written last)::

      writes:
        production.order:
          - {node_id: "ns=2;s=PRESS1.order_ref", value: payload.order_ref, data_type: String}
          - {node_id: "ns=2;s=PRESS1.order_qty", value: payload.qty, data_type: Double, min: 1, max: 100000}

- ``setpoints``: for ``machine.setpoint``, which parameter of which equipment goes to which
  node, with its range. A message naming any parameter that is not listed, or a value out of
  range or of the wrong kind, is refused as a whole: nothing is written.

Then all values of the message are written in one Write service call; a node the PLC refuses
(BadUserAccessDenied, BadTypeMismatch, BadOutOfRange...) makes the message refused with that
status named, and each written value is read back (``read_back: true``, the default): a PLC
that clamps or ignores a value is caught and reported. A lost connection makes the message
wait and the client reconnect on the next attempt.
"""
import asyncio
import math
import struct
import threading
from dataclasses import dataclass, field

from asyncua import Client, ua

from ..config import ConfigError, Secret
from .base import Refused, Target, Unavailable, register, value_at

INTEGER_RANGES = {"SByte": (-2 ** 7, 2 ** 7 - 1), "Byte": (0, 2 ** 8 - 1), "Int16": (-2 ** 15, 2 ** 15 - 1),
                  "UInt16": (0, 2 ** 16 - 1), "Int32": (-2 ** 31, 2 ** 31 - 1), "UInt32": (0, 2 ** 32 - 1),
                  "Int64": (-2 ** 63, 2 ** 63 - 1), "UInt64": (0, 2 ** 64 - 1)}
DATA_TYPES = ("Boolean", "String", "Float", "Double", *INTEGER_RANGES)


@dataclass
class WriteRule:
    node_id: str
    data_type: str
    value: str | None = None        # path in the envelope
    constant: object = None
    minimum: float | None = None
    maximum: float | None = None
    max_length: int = 255

    @property
    def label(self):
        return self.value or self.node_id


@dataclass
class OpcuaTargetConfig:
    endpoint: str
    writes: dict = field(default_factory=dict)       # canonical type -> [WriteRule]
    setpoints: dict = field(default_factory=dict)    # (equipment, parameter) -> WriteRule
    read_back: bool = True
    timeout_s: float = 4.0
    security_policy: str | None = None
    security_mode: str = "SignAndEncrypt"
    certificate: str | None = None
    private_key: str | None = None
    username: str | None = None
    password: Secret | None = None


def _rule(node, from_message=True):
    """One allow-listed node; ``from_message``: its value comes from ``value`` (a path) or
    ``constant`` (write rules), else from the message's parameter (setpoints)."""
    keys = ["node_id", "data_type", "min", "max", "max_length"] + (["value", "constant"] if from_message else [])
    node.check_known(*keys)
    rule = WriteRule(node_id=node.str("node_id", required=True),
                     data_type=node.str("data_type", required=True, choices=DATA_TYPES),
                     value=node.str("value") if from_message else None,
                     constant=node.data.get("constant"),
                     minimum=node.num("min"), maximum=node.num("max"),
                     max_length=node.num("max_length", 255, 1, 65535, integer=True))
    if from_message and (rule.value is None) == (rule.constant is None):
        raise ConfigError(f"{node._key('value')}: give either value (a path such as payload.qty) or constant")
    if rule.constant is not None:
        coerce(rule, rule.constant, node._key("constant"), error=ConfigError)
    return rule


def coerce(rule, value, label, error=Refused):
    """The value to write for ``rule``, checked against its type and range; ``error`` names why not."""
    kind = rule.data_type
    if kind == "Boolean":
        if not isinstance(value, bool):
            raise error(f"{label} = {value!r} is not true/false")
        return value
    if kind == "String":
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise error(f"{label} = {str(value)[:80]!r} is not text")
        text = str(value)
        if len(text) > rule.max_length or "\x00" in text:
            raise error(f"{label} is longer than {rule.max_length} characters or holds NUL")
        return text
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            (isinstance(value, float) and not math.isfinite(value)):
        raise error(f"{label} = {str(value)[:80]!r} is not a finite number")
    if kind in INTEGER_RANGES:
        if isinstance(value, float) and not value.is_integer():
            raise error(f"{label} = {value} is not a whole number ({kind})")
        value = int(value)
        low, high = INTEGER_RANGES[kind]
        if not low <= value <= high:
            raise error(f"{label} = {value} does not fit {kind}")
    else:
        value = float(value)
    if (rule.minimum is not None and value < rule.minimum) or (rule.maximum is not None and value > rule.maximum):
        raise error(f"{label} = {value} is outside the allowed range [{rule.minimum}, {rule.maximum}]")
    return value


def _same(rule, written, read):
    if rule.data_type == "Float":      # the PLC holds it as float32
        return isinstance(read, float) and struct.pack("<f", written) == struct.pack("<f", read)
    return type(read) is type(written) and read == written


class _Loop:
    """An event loop in a thread of its own: the delivery thread stays synchronous."""

    def __init__(self, name):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self.thread.start()

    def run(self, coroutine, timeout):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(2)


@register
class OpcuaTarget(Target):
    type = "opcua"

    @classmethod
    def parse_settings(cls, node, context):
        node.check_known("endpoint", "writes", "setpoints", "read_back", "timeout_s", "security_policy",
                         "security_mode", "certificate", "private_key", "username", "password")
        endpoint = node.str("endpoint", required=True)
        if not endpoint.startswith("opc.tcp://"):
            raise ConfigError(f"{node._key('endpoint')}: must start with opc.tcp:// (got {endpoint!r})")
        writes_node = node.child("writes")
        writes = {str(type_name): [_rule(item) for item in writes_node.items(type_name, required=True)]
                  for type_name in writes_node.data}
        setpoints = {}
        for item in node.items("setpoints"):
            item.check_known("equipment", "parameter", "node_id", "data_type", "min", "max", "max_length")
            key = (item.str("equipment", required=True), item.str("parameter", required=True))
            if key in setpoints:
                raise ConfigError(f"{item._key('parameter')}: {key[1]} of {key[0]} is listed twice")
            rule_node = type(item)({k: v for k, v in item.data.items() if k not in ("equipment", "parameter")},
                                   item.path)
            setpoints[key] = _rule(rule_node, from_message=False)
        if not writes and not setpoints:
            raise ConfigError(f"{node._key('writes')}: at least one write rule or setpoint is needed")
        config = OpcuaTargetConfig(
            endpoint=endpoint, writes=writes, setpoints=setpoints, read_back=node.bool("read_back", True),
            timeout_s=node.num("timeout_s", 4.0, minimum=0.1),
            security_policy=node.str("security_policy", choices=("Basic256Sha256",)),
            security_mode=node.str("security_mode", "SignAndEncrypt", choices=("Sign", "SignAndEncrypt")),
            certificate=node.str("certificate"), private_key=node.str("private_key"),
            username=node.str("username"), password=node.secret("password", context.base_dir))
        if config.security_policy and not (config.certificate and config.private_key):
            raise ConfigError(f"{node._key('certificate')}: security_policy needs certificate and private_key")
        return config

    def __init__(self, name, settings):
        super().__init__(name, settings)
        self._loop = _Loop(f"target-{name}")
        self._client = None

    # -- what to write ------------------------------------------------------------------------
    def planned_writes(self, envelope):
        """[(rule, value)] for this message, or Refused: nothing outside the allow-list."""
        kind = envelope.get("type")
        if kind == "machine.setpoint" and self.config.setpoints:
            equipment = value_at(envelope, "payload.equipment_id.value")
            planned = []
            for index, parameter in enumerate(value_at(envelope, "payload.parameters")):
                name = parameter.get("id") if isinstance(parameter, dict) else None
                rule = self.config.setpoints.get((equipment, name))
                if rule is None:
                    raise Refused(f"parameter {str(name)[:80]!r} of {equipment} is not allowed "
                                  "(not in this bridge's setpoint list): nothing written")
                planned.append((rule, coerce(rule, parameter.get("value"), f"parameters[{index}] {name}")))
            return planned
        rules = self.config.writes.get(kind)
        if not rules:
            raise Refused(f"no OPC UA writes are configured for {kind} on target {self.name}")
        return [(rule, coerce(rule, rule.constant if rule.value is None else value_at(envelope, rule.value),
                              rule.label)) for rule in rules]

    # -- writing ------------------------------------------------------------------------------
    async def _connect(self):
        config = self.config
        client = Client(config.endpoint, timeout=config.timeout_s)
        if config.security_policy:
            await client.set_security_string(",".join([config.security_policy, config.security_mode,
                                                       config.certificate, config.private_key]))
        if config.username:
            client.set_user(config.username)
            if config.password:
                client.set_password(config.password.reveal())
        await client.connect()
        return client

    async def _write(self, planned):
        if self._client is None:
            self._client = await self._connect()
        client = self._client
        node_ids = [client.get_node(rule.node_id).nodeid for rule, _value in planned]
        values = [ua.DataValue(ua.Variant(value, getattr(ua.VariantType, rule.data_type)))
                  for rule, value in planned]
        statuses = await client.uaclient.write_attributes(node_ids, values, ua.AttributeIds.Value)
        refused = [f"{rule.node_id}: {status.name}" for (rule, _value), status in zip(planned, statuses, strict=True)
                   if not status.is_good()]
        written = len(planned) - len(refused)
        if refused:
            raise Refused(f"the PLC refused {', '.join(refused)} ({written} of {len(planned)} written)")
        if not self.config.read_back:
            return f"wrote {len(planned)} value(s)"
        read = await client.uaclient.read_attributes(node_ids, ua.AttributeIds.Value)
        differ = [f"{rule.node_id} reads {result.Value.Value if result.Value else None!r}, wrote {value!r}"
                  for (rule, value), result in zip(planned, read, strict=True)
                  if not (result.StatusCode.is_good() and result.Value and _same(rule, value, result.Value.Value))]
        if differ:
            raise Refused(f"read-back differs: {'; '.join(differ)}")
        return f"wrote and read back {len(planned)} value(s)"

    async def _drop_client(self):
        client, self._client = self._client, None
        if client is not None:
            try:
                await asyncio.wait_for(client.disconnect(), 2)
            except (TimeoutError, Exception):   # the connection is gone anyway
                pass

    def deliver(self, envelope):
        planned = self.planned_writes(envelope)
        try:
            return self._loop.run(self._write(planned), self.config.timeout_s * 3 + 5)
        except Refused:
            raise
        except ua.UaStatusCodeError as exc:
            status = exc.code if hasattr(exc, "code") else None
            self._loop.run(self._drop_client(), 5)
            raise Unavailable(f"OPC UA {self.config.endpoint}: {type(exc).__name__} {status or ''}".strip()) from None
        except (TimeoutError, OSError, Exception) as exc:     # connection trouble of any kind: try later
            self._loop.run(self._drop_client(), 5)
            raise Unavailable(f"OPC UA {self.config.endpoint} unreachable: {type(exc).__name__}: {exc}"[:300]) from None

    def close(self):
        try:
            self._loop.run(self._drop_client(), 5)
        finally:
            self._loop.stop()
