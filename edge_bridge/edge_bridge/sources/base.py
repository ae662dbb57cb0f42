"""The contract of an edge source, and the registry that maps a configuration ``type`` to one.

A source is one module in this package (or anywhere, once imported) holding a ``Source``
subclass decorated with ``@register``. Its ``type`` is both the ``type:`` of a ``sources[]``
entry and the key of that entry's settings block::

    sources:
      - name: mes
        type: mqtt
        mqtt: {host: ..., topics: [...]}

The subclass parses and validates its own block (``parse_settings``) - the central config.py
knows only the common sections - and turns readings into ``Delivery`` objects for the inbox.
Every module of this package is imported when the registry is first asked, so adding a module
is all it takes. README "Adding an edge source" walks through it.
"""
import importlib
import logging
import pkgutil
import threading
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

_REGISTRY = {}
_unavailable = {}           # module name -> why it could not be imported
_discovered = False


@dataclass
class ParseContext:
    """What a source's ``parse_settings`` may need beyond its own block."""
    base_dir: Path          # relative paths (secret files, certificates) are relative to the config file
    assets: dict            # asset name -> AssetConfig, to check references to assets


class Source:
    """One input of the bridge.

    The runtime calls ``start()``; at shutdown ``stop_intake()`` (stop handing new data over but
    keep the connection, so acknowledgements of what was handed over still reach the peer), then,
    once the worker committed everything, ``close()``. ``connected`` shows in /healthz and in
    ``edge_source_connected``; a source running its own thread keeps it in ``_thread`` so /healthz
    can report a dead one.

    Data goes to ``self.inbox.put(Delivery(...), self._stop)``: signals, input dead letters
    (``rejects``), an optional checkpoint committed in the same transaction, and an ``ack``
    called only after that commit.

    A source that needs a thread of its own implements ``run()`` (loop until ``self._stop`` is
    set; hand over only while ``self._intake_open`` is set) and keeps the default ``start``,
    ``stop_intake`` and ``close``. A client library with its own threads overrides those three.
    """
    type = None             # set by each registered subclass
    close_timeout_s = 10.0  # how long close() waits for the thread

    def __init__(self, source_config, inbox, metrics, outbox=None):
        self.name = source_config.name
        self.config = source_config.settings
        self.inbox = inbox
        self.metrics = metrics
        self.outbox = outbox            # for sources that keep a durable checkpoint
        self.connected = False
        self._stop = threading.Event()          # set by close(): run() returns
        self._intake_open = threading.Event()   # cleared by stop_intake(): hand nothing more over
        self._intake_open.set()
        self._thread = None

    @classmethod
    def parse_settings(cls, node, context):
        """Validate this source's block (a config ``_Node``) and return its settings object.

        Raise ``ConfigError`` naming the key: ``node._key("field")`` gives its full path.
        """
        raise NotImplementedError

    @classmethod
    def create(cls, source_config, inbox, metrics, outbox):
        """The source object for one configured entry (a type may pick among implementations)."""
        return cls(source_config, inbox, metrics, outbox)

    def run(self):
        """The body of the source's own thread (started by the default ``start``)."""
        raise NotImplementedError

    def start(self):
        self._thread = threading.Thread(target=self.run, name=f"{self.type}-{self.name}", daemon=True)
        self._thread.start()

    def stop_intake(self):
        self._intake_open.clear()

    def close(self):
        self._stop.set()
        self._intake_open.clear()
        if self._thread is not None:
            self._thread.join(self.close_timeout_s)


class PollingSource(Source):
    """A source that reads a device every ``config.interval_s`` over a connection it opens
    itself (Modbus TCP, S7): connect, poll until the connection fails, reconnect with a
    backoff doubling up to ``config.reconnect_max_s``. Subclasses give ``protocol`` (for the
    log), ``connection_errors`` (what means "reconnect") and ``_connect()``, ``_poll(client)``,
    ``_disconnect(client)``."""
    protocol = "device"
    connection_errors = (OSError,)

    def __init__(self, source_config, inbox, metrics, outbox=None):
        super().__init__(source_config, inbox, metrics, outbox)
        self.connects = 0

    def _connect(self):
        raise NotImplementedError

    def _poll(self, client):
        raise NotImplementedError

    def _disconnect(self, client):
        raise NotImplementedError

    def run(self):
        delay = 0.5
        while not self._stop.is_set():
            client = None
            try:
                client = self._connect()
                self._set_connected(True)
                self.connects += 1
                delay = 0.5
                while not self._stop.is_set():
                    self._poll(client)
                    self._stop.wait(self.config.interval_s)
            except self.connection_errors as exc:
                if not self._stop.is_set():
                    log.warning(f"{self.protocol} connection lost, reconnecting",
                                extra={"source": self.name, "error": f"{exc.__class__.__name__}: {exc}",
                                       "retry_in_s": delay})
            finally:
                self._set_connected(False)
                if client is not None:
                    self._disconnect(client)
            self._stop.wait(delay)
            delay = min(delay * 2, self.config.reconnect_max_s)

    def _set_connected(self, connected):
        self.connected = connected
        self.metrics.source_connected.labels(self.name).set(1 if connected else 0)


def register(cls):
    """Class decorator: make ``cls`` the source for configuration entries of ``type: cls.type``."""
    if not (isinstance(cls.type, str) and cls.type.isidentifier()):
        raise TypeError(f"{cls.__name__}.type must be an identifier, got {cls.type!r}")
    known = _REGISTRY.get(cls.type)
    # The same class imported again (a module loaded twice under one name) may register again.
    same = known is not None and (known.__module__, known.__qualname__) == (cls.__module__, cls.__qualname__)
    if known is not None and not same:
        raise TypeError(f"source type {cls.type!r} is already registered by {known.__module__}.{known.__name__}")
    _REGISTRY[cls.type] = cls
    return cls


def discover(package, path):
    """Import every module of ``package`` (found at ``path``): each registers its source types.

    A module whose library is not installed (ImportError) does not stop the others: it is
    remembered, and a configuration asking for its type (module name = type name, by
    convention) is told why the type is unavailable instead of "unknown type".
    """
    for module in pkgutil.iter_modules([str(path)]):
        if module.name.startswith("_"):
            continue
        try:
            importlib.import_module(f"{package}.{module.name}")
        except ImportError as exc:
            _unavailable[module.name] = f"{type(exc).__name__}: {exc}"
            log.warning("source module cannot be imported; its source type is unavailable",
                        extra={"source_module": f"{package}.{module.name}", "error": str(exc)})


def _discover():
    global _discovered
    if not _discovered:
        _discovered = True
        discover(__package__, Path(__file__).parent)


def source_types():
    """Registered types, in registration order: {type name: Source subclass}."""
    _discover()
    return dict(_REGISTRY)


def unavailable_sources():
    """{module name: import error} of source modules that could not be imported."""
    _discover()
    return dict(_unavailable)


def build_source(source_config, inbox, outbox, metrics):
    return source_types()[source_config.type].create(source_config, inbox, metrics, outbox)
