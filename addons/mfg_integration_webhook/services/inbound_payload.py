"""Shape of pushes to /mfg/in/<code>: one envelope or {"envelopes": [...]}.

The endpoint fills in a missing ``source`` with the connector's code and rejects, per
envelope, those that claim another source; the rest goes to ``mfg.message.ingest`` and
the answers are merged back with the caller's indexes.
"""
from mfg_canonical import jsonio

from odoo.addons.mfg_integration.services.ingest import safe_text


class PayloadError(Exception):
    """The body as a whole is unusable (HTTP 400)."""


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
