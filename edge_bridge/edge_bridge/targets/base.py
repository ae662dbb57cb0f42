"""The contract of a delivery target (the return path, Odoo -> plant) and its registry.

A target is one module in this package holding a ``Target`` subclass decorated with
``@register``; its ``type`` is the ``type:`` of a ``targets[]`` entry and the key of that
entry's settings block, as for sources::

    targets:
      - name: press1
        type: opcua
        opcua: {endpoint: ..., writes: {...}}

``deliver(envelope)`` hands one message (a canonical envelope Odoo sent) to the plant and
returns a short text saying what was done, or raises:

- ``Refused(reason)``: the plant (or the target's own allow-list) will never take this
  message as it is; the reason goes back to Odoo, where the message waits in exception;
- ``Unavailable(reason)``: the plant cannot be reached now; the message stays in the bridge
  and is delivered later, after the ones before it for the same target.

Delivery is at least once towards the plant (a bridge killed between delivering and noting
it delivers again after its restart): each target carries the message key so the receiver
can tell a repeat (MQTT: in the envelope; REST: ``Idempotency-Key``; OPC UA: writing the same
values again changes nothing).
"""
import importlib
import logging
import math
import pkgutil
import re
from pathlib import Path

log = logging.getLogger(__name__)

_REGISTRY = {}
_unavailable = {}
_discovered = False
_TEMPLATE_FIELD = re.compile(r"\{([A-Za-z0-9_.]+)\}")


class Refused(Exception):
    """This message cannot be delivered as it is: reported to Odoo, never retried here."""


class Unavailable(Exception):
    """The plant side cannot be reached now: kept and delivered later, in order."""


class Target:
    type = None

    def __init__(self, name, settings):
        self.name = name
        self.config = settings

    @classmethod
    def parse_settings(cls, node, context):
        """Validate this target's block (a config ``_Node``); raise ConfigError naming the key."""
        raise NotImplementedError

    def deliver(self, envelope):
        raise NotImplementedError

    def close(self):
        """Release connections (called at shutdown)."""


def register(cls):
    if not (isinstance(cls.type, str) and cls.type.isidentifier()):
        raise TypeError(f"{cls.__name__}.type must be an identifier, got {cls.type!r}")
    known = _REGISTRY.get(cls.type)
    if known is not None and (known.__module__, known.__qualname__) != (cls.__module__, cls.__qualname__):
        raise TypeError(f"target type {cls.type!r} is already registered by {known.__module__}")
    _REGISTRY[cls.type] = cls
    return cls


def _discover():
    global _discovered
    if _discovered:
        return
    _discovered = True
    for module in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if module.name.startswith("_") or module.name == "base":
            continue
        try:
            importlib.import_module(f"{__package__}.{module.name}")
        except ImportError as exc:
            _unavailable[module.name] = f"{type(exc).__name__}: {exc}"
            log.warning("target module cannot be imported; its target type is unavailable",
                        extra={"target_module": module.name, "error": str(exc)})


def target_types():
    _discover()
    return dict(_REGISTRY)


def unavailable_targets():
    _discover()
    return dict(_unavailable)


_MISSING = object()


def value_at(envelope, path):
    """The value at a dotted path of the envelope (``payload.order_ref``,
    ``payload.material_requirements.0.quantity.value``), or raise Refused naming it."""
    value = envelope
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part, _MISSING)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            value = _MISSING
        if value is _MISSING or value is None:
            raise Refused(f"the message has no {path}")
    return value


def render(template, envelope, escape):
    """``template`` with each ``{path}`` replaced by that value of the envelope (``{type}``,
    ``{key}``, ``{payload.order_ref}``), passed through ``escape`` so that a value never chooses
    another place (``WH/MO/00042`` must not add an MQTT topic level or a URL segment)."""
    def one(match):
        value = value_at(envelope, match.group(1))
        if isinstance(value, (dict, list)) or (isinstance(value, float) and not math.isfinite(value)):
            raise Refused(f"{match.group(1)} is not a plain value")
        text = escape(str(value))
        if not text:
            raise Refused(f"{match.group(1)} is empty: it cannot be used in {template!r}")
        return text
    return _TEMPLATE_FIELD.sub(one, template)


def topic_level(text):
    """A value as one MQTT topic level: level separators and wildcards become ``_``."""
    return text.translate(str.maketrans("/+#\x00", "____"))


def template_fields(template):
    return _TEMPLATE_FIELD.findall(template)
