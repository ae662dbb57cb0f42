"""B2MML V0701 (MESA International) for the v2 canonical types: export and import, in XML
and in B2MML-JSON.

    export(envelope, "xml" | "json") -> bytes | dict
    import_document(data, "xml" | "json", source=..., type_hint=...) -> (envelopes, rejects)

One module per B2MML noun (``operations_schedule``, ``operations_performance``,
``material_lot``) with ``NOUN``, ``TYPES``, ``bodies(envelope)`` and ``payloads(body,
facts)``. v1 envelopes are upgraded first, so a sender still on v1 exports too. Import
returns v2 envelopes for the ingest to validate one by one; a noun element that cannot be
read becomes a reject with its reason, the others still come through.

"The Business To Manufacturing Markup Language (B2MML) is used courtesy of MESA
International."
"""
import json

from ..upgrades import upgrade
from . import material_lot, operations_performance, operations_schedule
from .common import read_transaction, transaction
from .xmljson import B2mmlError, from_xml, to_xml

NOUNS = {module.NOUN: module
         for module in (operations_schedule, operations_performance, material_lot)}
BY_TYPE = {type_name: module for module in NOUNS.values() for type_name in module.TYPES}
FORMS = ("xml", "json")

__all__ = ["B2mmlError", "BY_TYPE", "FORMS", "NOUNS", "export", "import_document"]


def export(envelope, form="xml"):
    """The B2MML document of one canonical envelope."""
    if form not in FORMS:
        raise B2mmlError(f"unknown B2MML form {form!r} (xml or json)")
    module = BY_TYPE.get(envelope.get("type"))
    if module is None:
        raise B2mmlError(f"type {envelope.get('type')!r} has no B2MML form "
                         f"(supported: {', '.join(sorted(BY_TYPE))})")
    if envelope.get("schema_version", 1) < 2:
        envelope = upgrade(envelope, target=2)
    document = transaction(envelope, module.NOUN, module.bodies(envelope))
    return to_xml(document) if form == "xml" else document


def import_document(data, form="xml", source=None, type_hint=None):
    """v2 envelopes of a B2MML document. ``source``: the connector code the document came
    through (else the ApplicationArea's Sender/LogicalID); ``type_hint``: the canonical
    type the receiving flow expects, for nouns that carry several.

    Returns (envelopes, rejects) - rejects as {"key", "error"}. Raises B2mmlError when the
    document as a whole cannot be read."""
    if form not in FORMS:
        raise B2mmlError(f"unknown B2MML form {form!r} (xml or json)")
    document = from_xml(data) if form == "xml" else _json(data)
    verb, noun, facts, bodies = read_transaction(document, NOUNS)
    if not facts["key"]:
        raise B2mmlError("ApplicationArea/BODID is required: it is the message key that "
                         "makes a resent document a duplicate")
    source = source or facts["sender"]
    if not source:
        raise B2mmlError("ApplicationArea/Sender/LogicalID is required (the sender)")
    module = NOUNS[noun]
    envelopes, rejects = [], []
    for index, body in enumerate(bodies, 1):
        try:
            found = module.payloads(body, facts)
        except B2mmlError as exc:
            rejects.append({"key": f"{facts['key']}/{noun}[{index}]"[:200], "error": str(exc)})
            continue
        for suffix, payload, scope in found:
            type_name = type_hint if type_hint in module.TYPES else (
                module.canonical_type(payload) if hasattr(module, "canonical_type")
                else module.TYPES[0])
            envelope = {
                "key": f"{facts['key']}/{suffix}"[:200], "type": type_name,
                "schema_version": 2, "source": source, "verb": verb,
                "occurred_at": facts["created_at"], "created_at": facts["created_at"],
                "payload": payload,
            }
            for field in ("correlation_id", "receiver", "acknowledges"):
                if facts.get(field):
                    envelope[field] = facts[field]
            if scope:
                envelope["hierarchy_scope"] = scope
            envelopes.append(envelope)
    return envelopes, rejects


def _json(data):
    if isinstance(data, dict):
        return data
    try:
        return json.loads(data)
    except (TypeError, ValueError) as exc:
        raise B2mmlError(f"not B2MML-JSON: {exc}") from None
