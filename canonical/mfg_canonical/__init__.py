"""Canonical envelope and payload schemas of the manufacturing integration suite.

This package is the single home of the JSON Schemas (``schemas/<type>.v<version>.json``).
The Odoo addons validate ingested envelopes with it and the edge bridge validates what it
emits with it, so both ends always agree on the contract (documented in docs/contract/,
generated from these schemas by canonical/tools/gen_docs.py).
"""
from .validation import (  # noqa: F401
    ENVELOPE_FIELDS,
    ENVELOPE_V2_FIELDS,
    MAX_KEY_LENGTH,
    EnvelopeError,
    available_types,
    envelope_version_for,
    load_schema,
    parse_occurred_at,
    schema_path,
    validate_envelope,
    validate_payload,
)
from .values import MAX_DEPTH, find_bad_value, storable_copy  # noqa: F401

__version__ = "2.0.0"
