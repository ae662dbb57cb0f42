"""Declarative YAML configuration, validated up front: the common sections.

Each source type parses and validates its own block (``sources/<type>.py``, see
``sources/base.py``); this module only knows a source's ``name`` and ``type``.

Every error names the offending key by its path (``sink.batch_size: must be an integer``) so a
plant engineer can fix the file without reading code. Secrets come from ``${ENV_VAR}`` or
``file:/path`` references and are wrapped in ``Secret`` so that no repr or log line shows them.
"""
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .sources.base import ParseContext, source_types, unavailable_sources
from .targets.base import target_types, unavailable_targets

ROLES = ("counter", "good", "scrap", "scrap_reason", "state", "state_reason", "alarm",
         "measurement", "order")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$", re.I)
_SIZE_UNITS = {"": 1, "b": 1, "k": 1e3, "kb": 1e3, "kib": 1024, "m": 1e6, "mb": 1e6,
               "mib": 1024 ** 2, "g": 1e9, "gb": 1e9, "gib": 1024 ** 3, "t": 1e12, "tb": 1e12}
_ENV_REF = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")


class ConfigError(ValueError):
    """The configuration cannot be used; the message names the key and the reason."""


class Secret:
    """A credential; ``repr``/``str`` never reveal it, only ``reveal()`` does."""
    __slots__ = ("_value",)

    def __init__(self, value):
        self._value = value

    def reveal(self):
        return self._value

    def __repr__(self):
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other):
        return isinstance(other, Secret) and other._value == self._value


@dataclass
class TagRule:
    name: str
    role: str
    rollover_at: int | None = None      # counters: the highest value before wrapping to 0
    running_values: tuple = ()             # state: values meaning "running"
    critical_after_s: float | None = None
    default_reason: str = "UNKNOWN"
    deadband: float = 0.0                  # measurement: report-by-exception threshold
    max_silent_windows: int = 10
    unit: str | None = None
    alarm_code: str | None = None       # alarm: code when the value is a plain boolean
    severity: str = "error"


@dataclass
class AssetConfig:
    name: str
    work_center: str
    product: str | None = None
    uom: str = "Units"
    order_ref: str | None = None
    tags: dict = field(default_factory=dict)  # tag name -> TagRule

    def tags_with_role(self, role):
        return [rule for rule in self.tags.values() if rule.role == role]


@dataclass
class SourceConfig:
    name: str
    type: str
    settings: object   # what the registered source type's parse_settings returned


@dataclass
class AggregationConfig:
    window_s: float = 60.0
    grace_s: float = 2.0


@dataclass
class BufferConfig:
    path: str = "var/edge-bridge.db"
    max_bytes: int = 512 * 1024 ** 2
    high_water: float = 0.8
    on_full: str = "drop_oldest_delivered"
    retention_s: float = 24 * 3600
    max_pending: int = 5_000_000
    alarm_envelope: bool = True
    synchronous: str = "FULL"
    dead_letter_max: int = 10_000


@dataclass
class SinkConfig:
    url: str                       # the first of ``urls``
    protocol: str = "json2"
    db: str | None = None
    api_key: Secret | None = None
    login: str | None = None
    batch_size: int = 1000
    batch_max_age_s: float = 1.0
    gzip: bool = False
    verify_tls: bool = True
    ca_file: str | None = None
    timeout_s: float = 30.0
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 60.0
    # Several Odoo HTTP nodes of one database: a node that cannot be reached (or answers
    # 502/503/504) makes the next call go to the next one (README "Several Odoo nodes").
    urls: tuple = ()

    def __post_init__(self):
        if not self.urls:
            self.urls = (self.url,)


@dataclass
class HeartbeatConfig:
    enabled: bool = True
    interval_s: float = 60.0


@dataclass
class ObservabilityConfig:
    host: str = "127.0.0.1"
    port: int = 9108
    log_format: str = "json"
    log_level: str = "INFO"


@dataclass
class TargetConfig:
    name: str
    type: str
    settings: object   # what the registered target type's parse_settings returned


@dataclass
class ReturnPathConfig:
    routes: dict                       # canonical type -> target name
    poll_interval_s: float = 2.0
    batch_size: int = 500
    retention_s: float | None = 7 * 24 * 3600


@dataclass
class Config:
    device_code: str
    plant: str | None
    assets: dict
    sources: list
    aggregation: AggregationConfig
    buffer: BufferConfig
    sink: SinkConfig
    heartbeat: HeartbeatConfig
    observability: ObservabilityConfig
    # Canonical schema version of the envelopes emitted: 2 (ISA-95, the default) or 1 for
    # an Odoo that does not apply v2 yet.
    schema_version: int = 2
    path: str | None = None
    targets: list = field(default_factory=list)          # TargetConfig (the return path)
    return_path: ReturnPathConfig | None = None


class _Node:
    """A mapping with its path, so every accessor can report errors at the right key."""

    def __init__(self, data, path):
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ConfigError(f"{path or '<root>'}: must be a mapping")
        self.data, self.path = data, path

    def _key(self, name):
        return f"{self.path}.{name}" if self.path else name

    def check_known(self, *names):
        for name in self.data:
            if name not in names:
                raise ConfigError(f"{self._key(name)}: unknown key (expected one of {', '.join(names)})")

    def has(self, name):
        return self.data.get(name) is not None

    def child(self, name, required=False):
        if required and name not in self.data:
            raise ConfigError(f"{self._key(name)}: required")
        return _Node(self.data.get(name), self._key(name))

    def items(self, name, required=False):
        value = self.data.get(name)
        if value is None:
            if required:
                raise ConfigError(f"{self._key(name)}: required (a list)")
            return []
        if not isinstance(value, list):
            raise ConfigError(f"{self._key(name)}: must be a list")
        return [_Node(item, f"{self._key(name)}[{index}]") for index, item in enumerate(value)]

    def str(self, name, default=None, required=False, choices=None):
        value = self.data.get(name, default)
        if value is None:
            if required:
                raise ConfigError(f"{self._key(name)}: required")
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ConfigError(f"{self._key(name)}: must be a string")
        value = str(value)
        if required and not value.strip():
            raise ConfigError(f"{self._key(name)}: must not be empty")
        if choices and value not in choices:
            raise ConfigError(f"{self._key(name)}: must be one of {', '.join(choices)} (got {value!r})")
        return value

    def num(self, name, default=None, minimum=None, maximum=None, integer=False, required=False):
        value = self.data.get(name, default)
        if value is None:
            if required:
                raise ConfigError(f"{self._key(name)}: required")
            return None
        kind = "an integer" if integer else "a number"
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)):
            raise ConfigError(f"{self._key(name)}: must be {kind} (got {value!r})")
        if minimum is not None and value < minimum:
            raise ConfigError(f"{self._key(name)}: must be >= {minimum} (got {value})")
        if maximum is not None and value > maximum:
            raise ConfigError(f"{self._key(name)}: must be <= {maximum} (got {value})")
        return value

    def bool(self, name, default):
        value = self.data.get(name, default)
        if not isinstance(value, bool):
            raise ConfigError(f"{self._key(name)}: must be true or false (got {value!r})")
        return value

    def size(self, name, default):
        value = self.data.get(name, default)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
        match = _SIZE.match(str(value)) if isinstance(value, str) else None
        unit = (match.group(2) or "").lower() if match else None
        if not match or unit not in _SIZE_UNITS or float(match.group(1)) <= 0:
            raise ConfigError(f"{self._key(name)}: must be a positive size like 500MB (got {value!r})")
        return int(float(match.group(1)) * _SIZE_UNITS[unit])

    def secret(self, name, base_dir):
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            raise ConfigError(f"{self._key(name)}: must be a string, ${{ENV_VAR}} or file:/path")
        env = _ENV_REF.match(value)
        if env:
            if env.group(1) not in os.environ:
                raise ConfigError(f"{self._key(name)}: environment variable {env.group(1)} is not set")
            return Secret(os.environ[env.group(1)])
        if value.startswith("file:"):
            path = Path(value[5:]).expanduser()
            if not path.is_absolute():
                path = base_dir / path
            try:
                return Secret(path.read_text().strip())
            except OSError as exc:
                raise ConfigError(f"{self._key(name)}: cannot read secret file {path}: {exc.strerror}") from None
        return Secret(value)


def _tag_rule(node, name):
    node.check_known("role", "rollover_at", "running_values", "critical_after_s", "default_reason",
                     "deadband", "max_silent_windows", "unit", "alarm_code", "severity")
    role = node.str("role", required=True, choices=ROLES)
    running = node.data.get("running_values", [])
    if role == "state" and (not isinstance(running, list) or not running):
        raise ConfigError(f"{node._key('running_values')}: a state tag needs a non-empty list of running values")
    return TagRule(
        name=name, role=role,
        rollover_at=node.num("rollover_at", minimum=1, integer=True),
        running_values=tuple(str(v) for v in running) if isinstance(running, list) else (),
        critical_after_s=node.num("critical_after_s", minimum=0),
        default_reason=node.str("default_reason", "UNKNOWN"),
        deadband=node.num("deadband", 0.0, minimum=0),
        max_silent_windows=node.num("max_silent_windows", 10, minimum=1, integer=True),
        unit=node.str("unit"), alarm_code=node.str("alarm_code"),
        severity=node.str("severity", "error", choices=("info", "warning", "error", "critical")))


def _asset(node):
    node.check_known("name", "work_center", "product", "uom", "order_ref", "tags")
    name = node.str("name", required=True)
    tags_node = node.child("tags", required=True)
    tags = {str(tag): _tag_rule(tags_node.child(tag, required=True), str(tag)) for tag in tags_node.data}
    asset = AssetConfig(name=name, work_center=node.str("work_center", name), product=node.str("product"),
                        uom=node.str("uom", "Units"), order_ref=node.str("order_ref"), tags=tags)
    if asset.tags_with_role("scrap") and not asset.product:
        raise ConfigError(f"{node._key('product')}: required when a tag has role scrap "
                          "(production.scrap needs the product)")
    for role in ("counter", "good", "scrap", "state", "scrap_reason", "state_reason", "order"):
        if role in ("scrap_reason", "state_reason", "order", "state") and len(asset.tags_with_role(role)) > 1:
            raise ConfigError(f"{node._key('tags')}: at most one tag may have role {role}")
    return asset


def _plugin_entry(node, context, what, types, unavailable):
    """One ``sources[]`` / ``targets[]`` entry: name and type here, the type's own block by its
    registered class. Returns (name, type, settings)."""
    missing = unavailable.get(node.data.get("type"))
    if missing:
        raise ConfigError(f"{node._key('type')}: {what} type {node.data['type']!r} is not available here ({missing})")
    kind = node.str("type", required=True, choices=tuple(types))
    node.check_known("name", "type", kind)
    name = node.str("name", required=True)
    return name, kind, types[kind].parse_settings(node.child(kind, required=True), context)


def _source(node, context):
    return SourceConfig(*_plugin_entry(node, context, "source", source_types(), unavailable_sources()))


def _sink(node, base_dir):
    node.check_known("url", "protocol", "db", "api_key", "login", "batch_size", "batch_max_age_s", "gzip",
                     "verify_tls", "ca_file", "timeout_s", "backoff_initial_s", "backoff_max_s")
    raw = node.data.get("url")
    values = raw if isinstance(raw, list) else [node.str("url", required=True)]
    if not values:
        raise ConfigError(f"{node._key('url')}: at least one URL is needed")
    urls = []
    for index, value in enumerate(values):
        if not isinstance(value, str) or not value.startswith(("http://", "https://")):
            where = node._key("url") + (f"[{index}]" if isinstance(raw, list) else "")
            raise ConfigError(f"{where}: must be an http:// or https:// URL")
        urls.append(value.rstrip("/"))
    sink = SinkConfig(
        url=urls[0], urls=tuple(urls), db=node.str("db"),
        protocol=node.str("protocol", "json2", choices=("json2", "jsonrpc")),
        api_key=node.secret("api_key", base_dir), login=node.str("login"),
        batch_size=node.num("batch_size", 1000, 1, 10000, integer=True),
        batch_max_age_s=node.num("batch_max_age_s", 1.0, minimum=0),
        gzip=node.bool("gzip", False), verify_tls=node.bool("verify_tls", True), ca_file=node.str("ca_file"),
        timeout_s=node.num("timeout_s", 30.0, minimum=0.1),
        backoff_initial_s=node.num("backoff_initial_s", 0.5, minimum=0.01),
        backoff_max_s=node.num("backoff_max_s", 60.0, minimum=0.01))
    if sink.api_key is None:
        raise ConfigError(f"{node._key('api_key')}: required (Odoo API key, e.g. ${{ODOO_API_KEY}})")
    if sink.protocol == "jsonrpc" and not (sink.db and sink.login):
        raise ConfigError(f"{node._key('login')}: protocol jsonrpc needs db and login")
    return sink


def _target(node, context):
    return TargetConfig(*_plugin_entry(node, context, "target", target_types(), unavailable_targets()))


def _return_path(root, context):
    targets = [_target(node, context) for node in root.items("targets")]
    names = [target.name for target in targets]
    for index, name in enumerate(names):
        if names.index(name) != index:
            raise ConfigError(f"targets[{index}].name: duplicate target name {name!r}")
    if not root.has("return_path"):
        if targets:
            raise ConfigError("return_path: required when targets are configured (routes: {type: target})")
        return targets, None
    node = root.child("return_path")
    node.check_known("routes", "poll_interval_s", "batch_size", "retention_s")
    routes_node = node.child("routes", required=True)
    routes = {str(kind): routes_node.str(kind, required=True) for kind in routes_node.data}
    if not routes:
        raise ConfigError(f"{routes_node.path}: at least one route (canonical type: target name) is needed")
    for kind, name in routes.items():
        if name not in names:
            raise ConfigError(f"{routes_node._key(kind)}: unknown target {name!r} (define it under targets)")
    return targets, ReturnPathConfig(
        routes=routes, poll_interval_s=node.num("poll_interval_s", 2.0, minimum=0.05),
        batch_size=node.num("batch_size", 500, 1, 5000, integer=True),
        retention_s=node.num("retention_s", 7 * 24 * 3600, minimum=0))


def parse_config(data, base_dir=Path("."), path=None):
    root = _Node(data, "")
    root.check_known("device", "assets", "sources", "aggregation", "buffer", "sink", "heartbeat", "observability",
                     "targets", "return_path")
    device = root.child("device", required=True)
    device.check_known("code", "plant", "schema_version")
    assets = {}
    for node in root.items("assets", required=not root.has("return_path")):
        asset = _asset(node)
        if asset.name in assets:
            raise ConfigError(f"{node._key('name')}: duplicate asset {asset.name!r}")
        assets[asset.name] = asset
    context = ParseContext(base_dir=base_dir, assets=assets)
    sources = [_source(node, context) for node in root.items("sources", required=not root.has("return_path"))]
    if not sources and not root.has("return_path"):
        raise ConfigError("sources: at least one source is needed (or a return_path)")
    names = [s.name for s in sources]
    for index, name in enumerate(names):
        if names.index(name) != index:
            raise ConfigError(f"sources[{index}].name: duplicate source name {name!r}")
    agg = root.child("aggregation")
    agg.check_known("window_s", "grace_s")
    buf = root.child("buffer")
    buf.check_known("path", "max_bytes", "high_water", "on_full", "retention_s", "max_pending",
                    "alarm_envelope", "synchronous", "dead_letter_max")
    buffer_path = buf.str("path", "var/edge-bridge.db")
    if not Path(buffer_path).is_absolute():
        buffer_path = str(base_dir / buffer_path)
    hb = root.child("heartbeat")
    hb.check_known("enabled", "interval_s")
    obs = root.child("observability")
    obs.check_known("host", "port", "log_format", "log_level")
    host = obs.str("host", "127.0.0.1")
    targets, return_path = _return_path(root, context)
    return Config(
        targets=targets, return_path=return_path,
        device_code=device.str("code", required=True), plant=device.str("plant"),
        schema_version=int(device.num("schema_version", 2, minimum=1, maximum=2, integer=True)),
        assets=assets, sources=sources,
        aggregation=AggregationConfig(agg.num("window_s", 60.0, minimum=0.1), agg.num("grace_s", 2.0, minimum=0)),
        buffer=BufferConfig(
            path=buffer_path, max_bytes=buf.size("max_bytes", 512 * 1024 ** 2),
            high_water=buf.num("high_water", 0.8, minimum=0.05, maximum=1.0),
            on_full=buf.str("on_full", "drop_oldest_delivered", choices=("drop_oldest_delivered", "reject_new")),
            retention_s=buf.num("retention_s", 24 * 3600, minimum=0),
            max_pending=buf.num("max_pending", 5_000_000, minimum=1, integer=True),
            alarm_envelope=buf.bool("alarm_envelope", True),
            synchronous=buf.str("synchronous", "FULL", choices=("FULL", "NORMAL")),
            dead_letter_max=buf.num("dead_letter_max", 10_000, minimum=1, integer=True)),
        sink=_sink(root.child("sink", required=True), base_dir),
        heartbeat=HeartbeatConfig(hb.bool("enabled", True), hb.num("interval_s", 60.0, minimum=1)),
        observability=ObservabilityConfig(
            host=host, port=obs.num("port", 9108, 0, 65535, integer=True),
            log_format=obs.str("log_format", "json", choices=("json", "text")),
            log_level=obs.str("log_level", "INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))),
        path=path)


def load_config(path):
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    return parse_config(data, base_dir=path.resolve().parent, path=str(path))
