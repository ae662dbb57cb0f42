"""Shape of pushes to /mfg/in/<code>: one envelope or {"envelopes": [...]}, or a B2MML
V0701 document (XML, or B2MML-JSON) of an OperationsSchedule, OperationsPerformance or
MaterialLot, turned into canonical v2 envelopes by mfg_canonical.b2mml.

The endpoint fills in a missing ``source`` with the connector's code and rejects, per
envelope, those that claim another source; the rest goes to ``mfg.message.ingest`` and
the answers are merged back with the caller's indexes.
"""
import re

from mfg_canonical import jsonio

from odoo.addons.mfg_integration.services.ingest import safe_text


class PayloadError(Exception):
    """The body as a whole is unusable (HTTP 400)."""


_B2MML_JSON = re.compile(rb'^\s*\{\s*"(Process|Change|Cancel|Sync|Acknowledge|Show|Respond)'
                         rb'(OperationsSchedule|OperationsPerformance|MaterialLot)"')


def parse_b2mml(body, code):
    """(envelopes, rejects) of a B2MML push, or None when the body is not B2MML (told
    from its first bytes, so a canonical push is parsed once)."""
    stripped = (body or b"").lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"<"):
        form, data = "xml", stripped
    elif _B2MML_JSON.match(stripped):
        form = "json"
        try:
            data = jsonio.loads(stripped)
        except jsonio.BodyError as exc:
            raise PayloadError(str(exc)) from None
    else:
        return None
    from mfg_canonical.b2mml import B2mmlError, import_document  # lxml: B2MML pushes only
    try:
        return import_document(data, form, source=code)
    except B2mmlError as exc:
        raise PayloadError(f"B2MML: {exc}") from None


def parse_envelopes(body):
    if not body:
        raise PayloadError("empty body: send one envelope or {\"envelopes\": [...]}")
    try:
        # The canonical parser: invalid UTF-8 is refused with the reason, and a payload
        # nested beyond the recursion limit parses (cut below depth 200) so that only its
        # envelope is rejected ("nested deeper than 32 levels") instead of a 500.
        document = jsonio.loads(body)
    except jsonio.BodyError as exc:
        raise PayloadError(str(exc)) from None
    if isinstance(document, dict) and "envelopes" in document:
        envelopes = document["envelopes"]
        if not isinstance(envelopes, list):
            raise PayloadError("'envelopes' must be a JSON array of envelope objects")
    elif isinstance(document, dict):
        envelopes = [document]
    else:
        raise PayloadError("the body must be one envelope object or {\"envelopes\": [...]}, "
                           f"got a JSON {type(document).__name__}")
    if not envelopes:
        raise PayloadError("'envelopes' is empty")
    return envelopes


def _key_of(envelope):
    key = envelope.get("key")
    # Escaped like the core's rejects: a lone surrogate echoed raw cannot be encoded.
    return safe_text(key[:200]) if isinstance(key, str) else None


def assign_source(envelopes, code):
    """Return (envelopes to ingest, their original indexes, rejections for other sources)."""
    forwarded, indexes, rejected = [], [], []
    for index, envelope in enumerate(envelopes):
        if isinstance(envelope, dict):
            source = envelope.get("source")
            if source in (None, ""):
                envelope = dict(envelope, source=code)
            elif source != code:
                rejected.append({"index": index, "key": _key_of(envelope),
                                 "error": f"source {source!r} does not match connector {code!r} "
                                          "of this endpoint"})
                continue
        forwarded.append(envelope)
        indexes.append(index)
    return forwarded, indexes, rejected


def merge_result(result, indexes, own_rejected):
    rejected = [dict(entry, index=indexes[entry["index"]]) for entry in result["rejected"]]
    rejected.extend(own_rejected)
    rejected.sort(key=lambda entry: entry["index"])
    return {"accepted": result["accepted"], "duplicates": result["duplicates"],
            "rejected": rejected}
