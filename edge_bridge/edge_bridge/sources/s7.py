"""Siemens S7 source (python-snap7 3.x, pure Python: ISO-on-TCP / S7comm), polling data blocks on
its own thread.

Each variable is a data-block address in Siemens notation and a type, as the PLC programmer
lists them (TIA Portal, "non-optimized" block access, PUT/GET enabled on S7-1200/1500)::

    variables:
      - {asset: PRESS1, tag: cycle_count, address: DB1.DBW0, type: word}
      - {asset: PRESS1, tag: temperature, address: DB1.DBD10, type: real}
      - {asset: PRESS1, tag: guard_closed, address: DB1.DBX20.0, type: bool}

Types and sizes follow the S7 elementary types (big-endian, as the CPU stores them): bool (bit
of DBX), byte, int (16-bit signed), word (16-bit unsigned), dint, dword, real (32-bit float),
lreal (64-bit float), string (S7 STRING: max length byte, actual length byte, characters;
``length`` sets the max). The size letter must fit the type (DBX bool, DBB byte or any start
byte, DBW 2 bytes, DBD 4 bytes). Variables of one DB within ``max_gap`` bytes of each other are
read in one request (the client splits what exceeds the negotiated PDU).

A read the CPU refuses (a DB that does not exist, an address past its end) becomes one dead
letter per variable with the CPU's reason, while the other DBs go on; a float that is NaN or
infinite is dead-lettered too; a lost connection reconnects with backoff. S7 has no change
notification: values are read every ``interval_s`` and counters are absolute.
"""
import logging
import math
import re
import struct
from dataclasses import dataclass, field

from snap7.client import Client
from snap7.error import S7ConnectionError, S7Error, S7TimeoutError

from ..config import ConfigError
from ..signals import Delivery, Signal, utc_now
from .base import PollingSource, register

log = logging.getLogger(__name__)

# type -> (bytes, struct format); bool and string are decoded apart
TYPES = {"bool": (1, None), "byte": (1, ">B"), "int": (2, ">h"), "word": (2, ">H"), "dint": (4, ">i"),
         "dword": (4, ">I"), "real": (4, ">f"), "lreal": (8, ">d"), "string": (None, None)}
SIZE_LETTERS = {"X": ("bool",), "B": tuple(t for t in TYPES if t != "bool"), "W": ("int", "word"),
                "D": ("dint", "dword", "real")}
ADDRESS = re.compile(r"^DB(\d{1,5})\.DB([XBWD])(\d{1,5})(?:\.([0-7]))?$", re.I)


@dataclass
class S7Variable:
    asset: str
    tag: str
    db: int
    offset: int
    data_type: str
    bit: int = 0
    length: int = 254          # string: the declared max length
    scale: float = 1.0

    @property
    def size(self):
        return self.length + 2 if self.data_type == "string" else TYPES[self.data_type][0]

    @property
    def address(self):
        letter = "X" if self.data_type == "bool" else {1: "B", 2: "W", 4: "D"}.get(self.size, "B")
        return f"DB{self.db}.DB{letter}{self.offset}" + (f".{self.bit}" if self.data_type == "bool" else "")


@dataclass
class S7Config:
    host: str
    port: int = 102
    rack: int = 0
    slot: int = 1
    interval_s: float = 1.0
    reconnect_max_s: float = 30.0
    max_gap: int = 32
    variables: list = field(default_factory=list)


def decode(data, spec):
    """The value of ``spec`` from the bytes of its own span."""
    if spec.data_type == "bool":
        return bool(data[0] >> spec.bit & 1)
    if spec.data_type == "string":
        declared, actual = data[0], data[1]
        return bytes(data[2:2 + min(actual, declared, spec.length)]).decode("latin-1")
    value = struct.unpack(TYPES[spec.data_type][1], bytes(data))[0]
    return value * spec.scale if spec.scale != 1.0 else value


def _variable(node, assets):
    node.check_known("asset", "tag", "address", "type", "length", "scale")
    address = node.str("address", required=True)
    data_type = node.str("type", required=True, choices=tuple(TYPES))
    match = ADDRESS.match(address.strip())
    if not match:
        raise ConfigError(f"{node._key('address')}: {address!r} is not a data-block address like DB1.DBW0, "
                          "DB1.DBD4 or DB1.DBX8.3")
    db, letter, offset, bit = int(match.group(1)), match.group(2).upper(), int(match.group(3)), match.group(4)
    if data_type not in SIZE_LETTERS[letter]:
        raise ConfigError(f"{node._key('type')}: {data_type} does not fit {address} (DB{letter} holds "
                          f"{', '.join(SIZE_LETTERS[letter])})")
    if (letter == "X") != (bit is not None):
        raise ConfigError(f"{node._key('address')}: a bool needs DBX<byte>.<bit>, other types no bit")
    spec = S7Variable(asset=node.str("asset", required=True), tag=node.str("tag", required=True), db=db,
                      offset=offset, data_type=data_type, bit=int(bit or 0),
                      length=node.num("length", 254, 1, 254, integer=True), scale=node.num("scale", 1.0))
    if spec.asset not in assets:
        raise ConfigError(f"{node._key('asset')}: unknown asset {spec.asset!r} (define it under assets)")
    return spec


def read_spans(variables, max_gap):
    """Variables grouped per DB into spans read in one request: [(db, start, size, [vars])]."""
    spans = []
    for spec in sorted(variables, key=lambda v: (v.db, v.offset)):
        last = spans[-1] if spans else None
        if last and last[0] == spec.db and spec.offset <= last[1] + last[2] + max_gap:
            end = max(last[1] + last[2], spec.offset + spec.size)
            spans[-1] = (last[0], last[1], end - last[1], last[3] + [spec])
            continue
        spans.append((spec.db, spec.offset, spec.size, [spec]))
    return spans


@register
class S7Source(PollingSource):
    protocol = "S7"
    connection_errors = (S7ConnectionError, S7TimeoutError, OSError)

    type = "s7"

    @classmethod
    def parse_settings(cls, node, context):
        node.check_known("host", "port", "rack", "slot", "interval_s", "reconnect_max_s", "max_gap", "variables")
        config = S7Config(
            host=node.str("host", required=True), port=node.num("port", 102, 1, 65535, integer=True),
            rack=node.num("rack", 0, 0, 7, integer=True), slot=node.num("slot", 1, 0, 31, integer=True),
            interval_s=node.num("interval_s", 1.0, minimum=0.01),
            reconnect_max_s=node.num("reconnect_max_s", 30.0, minimum=0.1),
            max_gap=node.num("max_gap", 32, 0, 1024, integer=True),
            variables=[_variable(n, context.assets) for n in node.items("variables", required=True)])
        if not config.variables:
            raise ConfigError(f"{node._key('variables')}: at least one variable is needed")
        return config

    def __init__(self, source_config, inbox, metrics, outbox=None):
        super().__init__(source_config, inbox, metrics, outbox)
        self.close_timeout_s = self.config.interval_s + 6
        self._spans = read_spans(self.config.variables, self.config.max_gap)

    def _connect(self):
        client = Client()
        try:
            client.connect(self.config.host, self.config.rack, self.config.slot, self.config.port)
        except BaseException:
            self._disconnect(client)
            raise
        return client

    def _disconnect(self, client):
        try:
            client.disconnect()
        except (S7Error, OSError):
            pass

    def _poll(self, client):
        """Read every span once; hand the values and the refused variables over together."""
        signals, rejects = [], []
        for db, start, size, specs in self._spans:
            try:
                data = client.db_read(db, start, size)
            except (S7ConnectionError, S7TimeoutError):
                raise
            except S7Error as exc:          # the CPU's own refusal: one dead letter per variable
                for spec in specs:
                    rejects.append((self.name, f"{spec.address} {spec.asset}.{spec.tag}",
                                    f"PLC refused the read of DB{db}.DBB{start} ({size} bytes): {exc}"))
                continue
            stamp = utc_now()
            for spec in specs:
                value = decode(data[spec.offset - start:spec.offset - start + spec.size], spec)
                if isinstance(value, float) and not math.isfinite(value):
                    rejects.append((self.name, f"{spec.address} {value}",
                                    f"{spec.asset}.{spec.tag}: {value} is not a measurement"))
                    continue
                signals.append(Signal(self.name, spec.asset, spec.tag, value, stamp))
        if (signals or rejects) and self._intake_open.is_set():
            self.metrics.messages_in.labels(self.name).inc(len(signals))
            self.inbox.put(Delivery(signals=signals, rejects=rejects), self._stop)
