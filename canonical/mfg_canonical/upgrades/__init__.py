"""Upgrades of canonical envelopes from one schema version to the next.

One module per type, named after it (``production_confirmation.py``), defining ``TYPE`` and
``v1_to_v2(envelope)`` (later ``v2_to_v3``...): each takes a whole envelope valid at its
version and returns a new one valid at the next, payload and envelope fields (the B2MML
verb, say) together. ``upgrade`` chains them, so ingest can store and handlers can read the
latest version only, whatever version the sender still speaks. A new type or version is one
module here, no other edit.
"""
import functools
import importlib
import pkgutil
import re

from ..validation import EnvelopeError, available_types, validate_envelope

_STEP = re.compile(r"^v(?P<source>\d+)_to_v(?P<target>\d+)$")


@functools.cache
def steps():
    """{(type, from version): function} of every upgrade shipped."""
    found = {}
    for module_info in pkgutil.iter_modules(__path__):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        for name in dir(module):
            match = _STEP.match(name)
            if match and int(match["target"]) == int(match["source"]) + 1:
                found[(module.TYPE, int(match["source"]))] = getattr(module, name)
    return found


def latest_version(type_name):
    versions = available_types().get(type_name)
    if not versions:
        raise EnvelopeError(f"unknown type {type_name!r}")
    return versions[-1]


def upgrade(envelope, target=None, validate=True):
    """``envelope`` (already valid at its own version) brought to ``target`` (default: the
    type's latest version) and validated there. Raises EnvelopeError when a step is
    missing or the upgraded envelope does not satisfy the newer schema - the reason names
    the version, so a sender knows which of its fields did not translate. ``validate``
    False: the caller validates the result itself (the edge bridge's worker does)."""
    type_name = envelope["type"]
    target = target or latest_version(type_name)
    current = envelope
    while current["schema_version"] < target:
        version = current["schema_version"]
        step = steps().get((type_name, version))
        if step is None:
            raise EnvelopeError(f"no upgrade of {type_name} from version {version} to "
                                f"{version + 1}; send version {target}")
        current = step(current)
        if not validate:
            continue
        try:
            validate_envelope(current)
        except EnvelopeError as exc:
            raise EnvelopeError(f"upgraded from v{version} to v{version + 1}: {exc}") from None
    return current
