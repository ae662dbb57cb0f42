"""Bulk ingest of canonical envelopes (docs/ingest-api.md).

Validation is per envelope (a bad one is rejected with its reason and never blocks the
others); persistence is one COPY plus one statement per batch that claims the keys in the key table
(``INSERT ... ON CONFLICT (source, key) DO NOTHING``) and inserts the messages claimed, so the
database, not a racy Python check, decides what is a duplicate (services/partitioning.py).
"""
import io
import json
import logging
from datetime import timezone

import psycopg2
from mfg_canonical import EnvelopeError, parse_occurred_at, validate_envelope
from mfg_canonical.upgrades import upgrade

from .mapping_spec import value_at

_logger = logging.getLogger(__name__)

INSERT_COLUMNS = (
    "name", "key", "source", "canonical_type", "schema_version", "plant_code", "occurred_at",
    "correlation_id", "payload", "connector_id", "flow_id", "company_id", "direction",
    "ordering_key", "state", "last_error", "attempts", "received_at", "edited",
    "create_uid", "write_uid", "create_date", "write_date",
    "verb", "created_at", "receiver", "hierarchy_scope", "acknowledges",
)


class IngestPlan:
    """The outcome of validating one batch, before anything is written."""

    def __init__(self):
        self.rows = []          # tuples in INSERT_COLUMNS order
        self.row_index = []     # envelope index of each row
        self.rejected = []      # {"index", "key", "error"}
        self.duplicates = 0     # duplicates inside the batch itself


def _key_of(envelope):
    """The envelope's key as it may be echoed in an answer (JSON-encodable, UTF-8-safe)."""
    if isinstance(envelope, dict) and isinstance(envelope.get("key"), str):
        return safe_text(envelope["key"][:200])
    return None


def safe_text(text):
    """``text`` with lone surrogates escaped: an answer echoing a hostile key must still
    encode to UTF-8 (otherwise the reject itself becomes a server error)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def is_storable_text(text):
    return "\x00" not in text and _encodes(text)


def _encodes(text):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def plan_batch(envelopes, connectors, flows, now, uid, handler_versions=None):
    """Validate ``envelopes`` and build the rows to insert.

    ``connectors``: {code: connector record}; ``flows``: {(connector_id, type): (flow id,
    ordering key field, oldest accepted version)} - plain values, as ORM field access per
    envelope is too slow here.
    ``handler_versions``: {type: the schema version its handler reads}: a newer envelope is
    rejected, an older one must upgrade to it or is rejected here with the reason (not
    later in the handler). Types only recorded take every version they have a schema for.
    Whatever goes wrong with one envelope - a contract violation or an unexpected error
    while planning it - makes it a reject with a reason; it never fails the batch.
    """
    plan = IngestPlan()
    seen = set()
    for index, envelope in enumerate(envelopes):
        try:
            row = _plan_row(envelope, connectors, flows, now, uid, handler_versions or {})
        except EnvelopeError as exc:
            plan.rejected.append({"index": index, "key": _key_of(envelope),
                                  "error": safe_text(str(exc))})
            continue
        except Exception as exc:  # noqa: BLE001 - isolate the envelope, keep the batch
            _logger.warning("ingest: envelope %s could not be planned", index, exc_info=True)
            plan.rejected.append({"index": index, "key": _key_of(envelope),
                                  "error": f"could not be processed ({type(exc).__name__}); "
                                           "nothing was stored for this envelope"})
            continue
        dedup_key = (envelope["source"], envelope["key"])
        if dedup_key in seen:
            plan.duplicates += 1
            continue
        seen.add(dedup_key)
        plan.rows.append(row)
        plan.row_index.append(index)
    return plan


def _plan_row(envelope, connectors, flows, now, uid, handler_versions):
    validate_envelope(envelope)
    handled = handler_versions.get(envelope["type"])
    if handled and envelope["schema_version"] > handled:
        raise EnvelopeError(f"schema_version {envelope['schema_version']} of {envelope['type']} "
                            f"is not applied by this Odoo (its handler reads version "
                            f"{handled}); send version {handled}")
    if handled and envelope["schema_version"] < handled:
        upgrade(envelope, target=handled)
    connector = connectors.get(envelope["source"])
    if connector is None:
        raise EnvelopeError(f"unknown source {envelope['source']!r}: no active connector "
                            f"with that code")
    occurred = parse_occurred_at(envelope["occurred_at"]).astimezone(timezone.utc)
    type_name = envelope["type"]
    flow_id, ordering_field, oldest = (tuple(flows.get((connector.id, type_name), ()))
                                       + (None, None, 1))[:3]
    if flow_id is not None and envelope["schema_version"] < (oldest or 1):
        raise EnvelopeError(f"schema_version {envelope['schema_version']} of {type_name} is "
                            f"no longer accepted from {connector.code} (oldest accepted: "
                            f"{oldest}); send version {oldest} or newer")
    state, error, ordering_key = "received", None, None
    if flow_id is None:
        state = "exception"
        error = (f"No active inbound flow for type {type_name} on connector "
                 f"{connector.code}: create one, then reprocess.")
    elif ordering_field:
        value = value_at(envelope["payload"], ordering_field)
        ordering_key = None if value in (None, "") else str(value)[:200]
    try:
        # allow_nan=False: NaN is not JSON and jsonb refuses it. NUL and lone surrogates
        # were refused by validate_envelope (every field); should anything still slip
        # through, PostgreSQL refuses that row alone (insert_isolating).
        payload = json.dumps(envelope["payload"], separators=(",", ":"), allow_nan=False)
    except ValueError as exc:
        raise EnvelopeError(f"payload: cannot be stored as JSON ({exc})") from None
    return (
        f"{type_name}/{envelope['key']}"[:250],
        envelope["key"],
        envelope["source"],
        type_name,
        envelope["schema_version"],
        envelope.get("plant"),
        occurred.replace(tzinfo=None),
        envelope.get("correlation_id"),
        payload,
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
        envelope.get("verb"),
        _utc(envelope.get("created_at")),
        envelope.get("receiver"),
        _json_or_none(envelope.get("hierarchy_scope")),
        _json_or_none(envelope.get("acknowledges")),
    )


def _utc(value):
    if not value:
        return None
    return parse_occurred_at(value, field="created_at").astimezone(timezone.utc).replace(
        tzinfo=None)


def _json_or_none(value):
    return None if value is None else json.dumps(value, separators=(",", ":"))


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

    Rows are streamed with COPY into a temporary table, then one statement claims their keys
    in ``mfg_message_key`` (``ON CONFLICT DO NOTHING``: the primary key there, not a racy
    Python check, decides what is a duplicate, across every partition) and inserts the
    messages whose key it claimed, with the id given to the key. COPY is several times
    faster than a multi-row INSERT statement, whose SQL text the client has to build and the
    server to parse. Returns [(id, flow_id, ordering_key, state)] of the rows inserted, in
    the order of ``rows``.
    """
    columns = ", ".join(INSERT_COLUMNS)
    cr.execute("DROP TABLE IF EXISTS mfg_message_ingest_tmp")
    # columns: the constant INSERT_COLUMNS, never input.
    cr.execute(f"CREATE TEMP TABLE mfg_message_ingest_tmp ON COMMIT DROP AS "  # pylint: disable=sql-injection
               f"SELECT {columns} FROM mfg_message WITH NO DATA")
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(map(_copy_field, row)))
        buffer.write("\n")
    buffer.seek(0)
    cr.copy_expert(f"COPY mfg_message_ingest_tmp ({columns}) FROM STDIN", buffer)
    selected = ", ".join(f"t.{column}" for column in INSERT_COLUMNS)
    # The ids are drawn in the temporary table's order (a sequential scan of what COPY
    # wrote), so sorting the result by id gives the order of the batch back.
    statement = f"""
        WITH claimed AS (
            INSERT INTO mfg_message_key (source, key, message_id)
            SELECT source, key, nextval('mfg_message_id_seq') FROM mfg_message_ingest_tmp
            ON CONFLICT (source, key) DO NOTHING
            RETURNING source, key, message_id)
        INSERT INTO mfg_message (id, {columns})
        SELECT c.message_id, {selected}
          FROM mfg_message_ingest_tmp t JOIN claimed c ON c.source = t.source AND c.key = t.key
        RETURNING id, flow_id, ordering_key, state"""
    cr.execute(statement)  # pylint: disable=sql-injection
    inserted = sorted(cr.fetchall())
    cr.execute("DROP TABLE mfg_message_ingest_tmp")
    return inserted


# PostgreSQL refusing a value is that row's problem; a serialization failure or a lost
# connection is not, and propagates so that the whole request is retried.
ROW_ERRORS = (psycopg2.DataError, psycopg2.IntegrityError)


def insert_isolating(cr, rows):
    """``insert_rows``, but a row PostgreSQL refuses fails alone.

    The batch is inserted in a savepoint; if PostgreSQL refuses a value, the batch is split
    in halves until the refused rows are found (log2(n) savepoints per bad row). Returns
    (inserted as ``insert_rows`` does, [(position in rows, error text)]).
    """
    try:
        with cr.savepoint(flush=False):
            return insert_rows(cr, rows), []
    except ROW_ERRORS as exc:
        if len(rows) == 1:
            reason = (exc.pgerror or str(exc)).strip().splitlines()[0]
            _logger.warning("ingest: PostgreSQL refused a row: %s", reason)
            return [], [(0, f"could not be stored: {safe_text(reason)}")]
    middle = len(rows) // 2
    first, first_failed = insert_isolating(cr, rows[:middle])
    second, second_failed = insert_isolating(cr, rows[middle:])
    return first + second, first_failed + [(middle + pos, error) for pos, error in second_failed]
