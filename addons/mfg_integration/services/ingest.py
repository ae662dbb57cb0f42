"""Bulk ingest of canonical envelopes (CONTRACT.md §2).

Validation is per envelope (a bad one is rejected with its reason and never blocks the
others); persistence is one COPY plus one ``INSERT ... ON CONFLICT (source, key) DO NOTHING``
per batch, so the database unique index, not a racy Python check, decides what is a duplicate.
"""
import io
import json
from datetime import timezone

from mfg_canonical import EnvelopeError, parse_occurred_at, validate_envelope

INSERT_COLUMNS = (
    "name", "key", "source", "canonical_type", "schema_version", "plant_code", "occurred_at",
    "correlation_id", "payload", "connector_id", "flow_id", "company_id", "direction",
    "ordering_key", "state", "last_error", "attempts", "received_at", "edited",
    "create_uid", "write_uid", "create_date", "write_date",
)


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

    ``connectors``: {code: connector record}; ``flows``: {(connector_id, type): (flow id,
    ordering key field)} - plain values, as ORM field access per envelope is too slow here.
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
        flow_id, ordering_field = flows.get((connector.id, type_name), (None, None))
        state, error, ordering_key = "received", None, None
        if flow_id is None:
            state = "exception"
            error = (f"No active inbound flow for type {type_name} on connector "
                     f"{connector.code}: create one, then reprocess.")
        elif ordering_field:
            value = envelope["payload"].get(ordering_field)
            ordering_key = None if value in (None, "") else str(value)[:200]
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
            flow_id,
            connector.company_id,
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


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_field(value):
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    return str(value)


def insert_rows(cr, rows):
    """Insert rows, skipping (source, key) pairs already stored.

    Rows are streamed with COPY into a temporary table, then moved with one
    INSERT ... SELECT ... ON CONFLICT DO NOTHING: several times faster than a multi-row
    INSERT statement, whose SQL text the client has to build and the server to parse.
    Returns [(id, flow_id, ordering_key, state)] of the rows actually inserted.
    """
    columns = ", ".join(INSERT_COLUMNS)
    cr.execute("DROP TABLE IF EXISTS mfg_message_ingest_tmp")
    cr.execute(f"CREATE TEMP TABLE mfg_message_ingest_tmp ON COMMIT DROP AS "
               f"SELECT {columns} FROM mfg_message WITH NO DATA")
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(map(_copy_field, row)))
        buffer.write("\n")
    buffer.seek(0)
    cr.copy_expert(f"COPY mfg_message_ingest_tmp ({columns}) FROM STDIN", buffer)
    cr.execute(f"INSERT INTO mfg_message ({columns}) SELECT {columns} FROM mfg_message_ingest_tmp "
               "ON CONFLICT (source, key) DO NOTHING RETURNING id, flow_id, ordering_key, state")
    inserted = cr.fetchall()
    cr.execute("DROP TABLE mfg_message_ingest_tmp")
    return inserted
