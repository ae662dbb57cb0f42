"""Bulk ingest of canonical envelopes (CONTRACT.md §2).

Validation is per envelope (a bad one is rejected with its reason and never blocks the
others); persistence is one multi-row ``INSERT ... ON CONFLICT (source, key) DO NOTHING``
per page, so the database unique index, not a racy Python check, decides what is a duplicate.
"""
import json
from datetime import timezone

from mfg_canonical import EnvelopeError, parse_occurred_at, validate_envelope

INSERT_COLUMNS = (
    "name", "key", "source", "canonical_type", "schema_version", "plant_code", "occurred_at",
    "correlation_id", "payload", "connector_id", "flow_id", "company_id", "direction",
    "ordering_key", "state", "last_error", "attempts", "received_at", "edited",
    "create_uid", "write_uid", "create_date", "write_date",
)
INSERT_TEMPLATE = "(" + ", ".join(
    "%s::jsonb" if column == "payload" else "%s" for column in INSERT_COLUMNS) + ")"
PAGE_SIZE = 2000


class IngestPlan:
    """The outcome of validating one batch, before anything is written."""

    def __init__(self):
        self.rows = []          # tuples in INSERT_COLUMNS order
        self.row_index = []     # envelope index of each row
        self.rejected = []      # {"index", "key", "error"}
        self.duplicates = 0     # duplicates inside the batch itself


def _key_of(envelope):
    if isinstance(envelope, dict) and isinstance(envelope.get("key"), str):
        return envelope["key"][:200]
    return None


def plan_batch(envelopes, connectors, flows, now, uid):
    """Validate ``envelopes`` and build the rows to insert.

    ``connectors``: {code: connector record}; ``flows``: {(connector_id, type, version): flow}.
    """
    plan = IngestPlan()
    seen = set()
    for index, envelope in enumerate(envelopes):
        try:
            validate_envelope(envelope)
            connector = connectors.get(envelope["source"])
            if connector is None:
                raise EnvelopeError(f"unknown source {envelope['source']!r}: no active connector "
                                    f"with that code")
            occurred = parse_occurred_at(envelope["occurred_at"]).astimezone(timezone.utc)
        except EnvelopeError as exc:
            plan.rejected.append({"index": index, "key": _key_of(envelope), "error": str(exc)})
            continue
        dedup_key = (envelope["source"], envelope["key"])
        if dedup_key in seen:
            plan.duplicates += 1
            continue
        seen.add(dedup_key)
        type_name = envelope["type"]
        flow = flows.get((connector.id, type_name))
        state, error, ordering_key = "received", None, None
        if flow is None:
            state = "exception"
            error = (f"No active inbound flow for type {type_name} on connector "
                     f"{connector.code}: create one, then reprocess.")
        else:
            ordering_key = flow.ordering_key_of(envelope["payload"])
        plan.rows.append((
            f"{type_name}/{envelope['key']}"[:250],
            envelope["key"],
            envelope["source"],
            type_name,
            envelope["schema_version"],
            envelope.get("plant"),
            occurred.replace(tzinfo=None),
            envelope.get("correlation_id"),
            json.dumps(envelope["payload"], separators=(",", ":")),
            connector.id,
            flow.id if flow else None,
            connector.company_id.id,
            "in",
            ordering_key,
            state,
            error,
            0,
            now,
            False,
            uid, uid, now, now,
        ))
        plan.row_index.append(index)
    return plan


def insert_rows(cr, rows):
    """Insert rows, skipping (source, key) pairs already stored. Returns the new ids."""
    new_ids = []
    query = (f"INSERT INTO mfg_message ({', '.join(INSERT_COLUMNS)}) VALUES %s "
             "ON CONFLICT (source, key) DO NOTHING RETURNING id")
    for start in range(0, len(rows), PAGE_SIZE):
        page = rows[start:start + PAGE_SIZE]
        result = cr.execute_values(query, page, template=INSERT_TEMPLATE,
                                   page_size=len(page), fetch=True)
        new_ids.extend(row[0] for row in result)
    return new_ids
