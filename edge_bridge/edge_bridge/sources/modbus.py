"""Modbus TCP source (pymodbus client), polling holding/input registers, coils and discrete
inputs on its own thread.

Each register entry names a table, an address, a data type (int16, uint16, int32, uint32,
float32, float64, bool), the byte order inside a 16-bit register and the word order of
multi-register values (PLCs disagree: Siemens and most others are big/big, many Schneider and
Wago setups send the low word first), and an optional linear scaling
``value * scale + offset``. Registers next to each other in one table are read in one request.

A register the device refuses (Modbus exception: illegal address, say) becomes a dead letter
with the device's reason on every poll, while the other registers go on; a connection failure
tears the client down and reconnects with backoff. Modbus has no acknowledgement and no change
notification: counters are absolute values read at each poll, so what happened while the
bridge was away is counted at the next read.
"""
import logging
import math
import struct
from dataclasses import dataclass, field

from pymodbus.client import ModbusTcpClient
from pymodbus.exceptions import ModbusException

from ..config import ConfigError
from ..signals import Delivery, Signal, utc_now
from .base import PollingSource, register

log = logging.getLogger(__name__)

# data type -> (registers, struct format of the big-endian bytes)
TYPES = {"int16": (1, ">h"), "uint16": (1, ">H"), "int32": (2, ">i"), "uint32": (2, ">I"),
         "float32": (2, ">f"), "float64": (4, ">d"), "bool": (1, None)}
TABLES = ("holding", "input", "coil", "discrete")
MAX_REGISTERS_PER_READ = 125      # Modbus application protocol: 125 registers per read
MAX_BITS_PER_READ = 2000


@dataclass
class ModbusRegister:
    asset: str
    tag: str
    table: str
    address: int
    data_type: str = "uint16"
    byte_order: str = "big"
    word_order: str = "big"
    scale: float = 1.0
    offset: float = 0.0

    @property
    def count(self):
        return 1 if self.table in ("coil", "discrete") else TYPES[self.data_type][0]


@dataclass
class ModbusConfig:
    host: str
    port: int = 502
    unit_id: int = 1
    interval_s: float = 1.0
    timeout_s: float = 3.0
    reconnect_max_s: float = 30.0
    registers: list = field(default_factory=list)


def decode(registers, spec):
    """The value of ``spec`` from its raw 16-bit ``registers`` (bits for coils/discretes)."""
    if spec.table in ("coil", "discrete") or spec.data_type == "bool":
        return bool(registers[0])
    words = list(registers)
    if spec.word_order == "little":
        words.reverse()
    raw = b"".join(struct.pack(">H", word & 0xFFFF) for word in words)
    if spec.byte_order == "little":
        raw = b"".join(raw[i:i + 2][::-1] for i in range(0, len(raw), 2))
    value = struct.unpack(TYPES[spec.data_type][1], raw)[0]
    if spec.scale != 1.0 or spec.offset:
        value = value * spec.scale + spec.offset
    return value


def _register(node, assets):
    node.check_known("asset", "tag", "table", "address", "type", "byte_order", "word_order",
                     "scale", "offset")
    spec = ModbusRegister(
        asset=node.str("asset", required=True), tag=node.str("tag", required=True),
        table=node.str("table", "holding", choices=TABLES),
        address=node.num("address", required=True, minimum=0, maximum=65535, integer=True),
        data_type=node.str("type", "uint16", choices=tuple(TYPES)),
        byte_order=node.str("byte_order", "big", choices=("big", "little")),
        word_order=node.str("word_order", "big", choices=("big", "little")),
        scale=node.num("scale", 1.0), offset=node.num("offset", 0.0))
    if spec.asset not in assets:
        raise ConfigError(f"{node._key('asset')}: unknown asset {spec.asset!r} (define it under assets)")
    if spec.table in ("coil", "discrete") and spec.data_type not in ("bool", "uint16"):
        raise ConfigError(f"{node._key('type')}: {spec.table}s are single bits (type bool)")
    if spec.address + spec.count > 65536:
        raise ConfigError(f"{node._key('address')}: {spec.data_type} at {spec.address} runs past 65535")
    return spec


def read_groups(registers):
    """Registers of one table with adjacent addresses, each group one read request."""
    groups = []
    for spec in sorted(registers, key=lambda r: (r.table, r.address)):
        limit = MAX_BITS_PER_READ if spec.table in ("coil", "discrete") else MAX_REGISTERS_PER_READ
        last = groups[-1] if groups else None
        if last and last[0].table == spec.table:
            start = last[0].address
            end = max(r.address + r.count for r in last)
            if spec.address <= end and spec.address + spec.count - start <= limit:
                last.append(spec)
                continue
        groups.append([spec])
    return groups


@register
class ModbusSource(PollingSource):
    protocol = "Modbus"
    connection_errors = (ConnectionError, OSError, ModbusException)

    type = "modbus"

    @classmethod
    def parse_settings(cls, node, context):
        node.check_known("host", "port", "unit_id", "interval_s", "timeout_s", "reconnect_max_s",
                         "registers")
        config = ModbusConfig(
            host=node.str("host", required=True),
            port=node.num("port", 502, 1, 65535, integer=True),
            unit_id=node.num("unit_id", 1, 0, 255, integer=True),
            interval_s=node.num("interval_s", 1.0, minimum=0.01),
            timeout_s=node.num("timeout_s", 3.0, minimum=0.1),
            reconnect_max_s=node.num("reconnect_max_s", 30.0, minimum=0.1),
            registers=[_register(n, context.assets) for n in node.items("registers", required=True)])
        if not config.registers:
            raise ConfigError(f"{node._key('registers')}: at least one register is needed")
        return config

    def __init__(self, source_config, inbox, metrics, outbox=None):
        super().__init__(source_config, inbox, metrics, outbox)
        self.close_timeout_s = self.config.timeout_s + self.config.interval_s + 2
        self._groups = read_groups(self.config.registers)

    def _connect(self):
        client = ModbusTcpClient(self.config.host, port=self.config.port, timeout=self.config.timeout_s,
                                 retries=0)
        if not client.connect():
            client.close()
            raise ConnectionError(f"{self.config.host}:{self.config.port} not reachable")
        return client

    def _disconnect(self, client):
        client.close()

    def _poll(self, client):
        """Read every group once; hand the values and the refused registers over together."""
        signals, rejects = [], []
        for group in self._groups:
            start = group[0].address
            count = max(r.address + r.count for r in group) - start
            read = {"holding": client.read_holding_registers, "input": client.read_input_registers,
                    "coil": client.read_coils, "discrete": client.read_discrete_inputs}[group[0].table]
            answer = read(start, count=count, device_id=self.config.unit_id)
            stamp = utc_now()
            if answer.isError():
                # The device's own refusal (illegal address...): one dead letter per register.
                for spec in group:
                    rejects.append((self.name, f"{spec.table}:{spec.address} {spec.asset}.{spec.tag}",
                                    f"device refused the read: {answer}"))
                continue
            values = answer.bits if group[0].table in ("coil", "discrete") else answer.registers
            for spec in group:
                raw = values[spec.address - start:spec.address - start + spec.count]
                value = decode(raw, spec)
                if isinstance(value, float) and not math.isfinite(value):
                    rejects.append((self.name, f"{spec.table}:{spec.address} {raw}",
                                    f"{spec.asset}.{spec.tag}: {value} is not a measurement"))
                    continue
                signals.append(Signal(self.name, spec.asset, spec.tag, value, stamp))
        if (signals or rejects) and self._intake_open.is_set():
            self.metrics.messages_in.labels(self.name).inc(len(signals))
            self.inbox.put(Delivery(signals=signals, rejects=rejects), self._stop)
