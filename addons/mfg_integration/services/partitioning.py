"""PostgreSQL partitioning of ``mfg_message`` and its key table (issue 12 §1).

Why partitions by id range, not by a timestamp: Odoo reads and writes records by ``id``
(``WHERE id IN (...)``), and a unique or primary key on a partitioned table must contain the
partition key. Partitioned by ``id``, the primary key stays ``id``, every read by id touches
one partition, and ids grow with time (one sequence, allocated at reception): a partition of
a few days of ids *is* a few days of messages. Each partition's time span is read from its
``received_at`` index, and retention works on whole partitions.

Why a key table: a unique index on ``(source, key)`` across partitions is impossible for the
same reason. ``mfg_message_key`` (source, key) -> message id is an ordinary table with that
primary key: ingest claims keys there (``INSERT ... ON CONFLICT DO NOTHING``) in the same
statement that inserts the messages, so concurrent senders of one key still see exactly one
accepted. Its rows are narrow (no payload) and are forgotten with their partition.

A DEFAULT partition catches ids beyond the pre-created ranges (maintenance late, a burst):
nothing is ever refused for want of a partition; maintenance moves those rows into a range
partition later.

Everything here is plain SQL on a cursor: the model (``mfg.message.partition``) decides when
and what, and runs each change in its own transaction.
"""
import collections
import logging
import re

from odoo.tools import SQL
from odoo.tools import sql as odoo_sql

_logger = logging.getLogger(__name__)

PARENT = "mfg_message"
KEY_TABLE = "mfg_message_key"
DEFAULT_PARTITION = "mfg_message_pdefault"
SEQUENCE = "mfg_message_id_seq"
PARTITION_NAME = "mfg_message_p%06d"
_BOUNDS = re.compile(r"FROM \('?(-?\d+|MINVALUE)'?\) TO \('?(-?\d+|MAXVALUE)'?\)")

Partition = collections.namedtuple("Partition", "name id_from id_to")


def recognise_partitioned_tables():
    """Make Odoo see a partitioned table as an existing table.

    ``odoo.tools.sql.existing_tables`` only lists ordinary tables, views and materialized
    views: the ORM would try to create ``mfg_message`` again and log "Model has no table" at
    every start. A partitioned table is a table for every purpose the ORM has; Odoo core never
    creates one, so the change affects only ours. Foreign keys are still not created by the
    ORM for it (``is_an_ordinary_table``): ``ensure_foreign_keys`` adds the outgoing ones,
    and there are no incoming ones on purpose (a partition can then be dropped in O(1);
    references are honoured by the retention, which keeps referenced messages).
    """
    if getattr(odoo_sql.existing_tables, "_mfg_partition_aware", False):
        return

    def existing_tables(cr, tablenames):
        cr.execute(SQL("""
            SELECT c.relname
              FROM pg_class c
             WHERE c.relname IN %s
               AND c.relkind IN ('r', 'v', 'm', 'p')
               AND c.relnamespace = current_schema::regnamespace
        """, tuple(tablenames)))
        return [row[0] for row in cr.fetchall()]

    existing_tables._mfg_partition_aware = True
    odoo_sql.existing_tables = existing_tables


def relkind(cr, table):
    cr.execute("SELECT relkind FROM pg_class WHERE relname = %s "
               "AND relnamespace = current_schema::regnamespace", (table,))
    row = cr.fetchone()
    return row[0] if row else None


def create_partitioned_table(cr, width):
    """The parent table (only ``id``: the ORM adds the columns), its DEFAULT partition and a
    first range partition of ``width`` ids."""
    cr.execute(SQL("CREATE TABLE %s (id SERIAL NOT NULL, PRIMARY KEY (id)) PARTITION BY RANGE (id)",
                   SQL.identifier(PARENT)))
    cr.execute(SQL("COMMENT ON TABLE %s IS 'Integration Message (partitioned by id range)'",
                   SQL.identifier(PARENT)))
    cr.execute(SQL("CREATE TABLE %s PARTITION OF %s DEFAULT", SQL.identifier(DEFAULT_PARTITION),
                   SQL.identifier(PARENT)))
    add_partition(cr, 1, 1 + width)
    _logger.info("%s created, partitioned by id range (%s ids per partition)", PARENT, width)


def convert_regular_table(cr, width):
    """Turn an existing ordinary ``mfg_message`` (a database from before partitioning) into the
    first partition of a new partitioned parent, without copying the messages.

    Their keys go into the key table; foreign keys pointing at the table are dropped (the
    retention honours references instead) and its own are declared again on the parent by the
    model; its indexes are renamed so that the ORM's indexes on the parent adopt them.
    """
    legacy = PARTITION_NAME % 0
    cr.execute("""SELECT conname, conrelid::regclass::text FROM pg_constraint
                   WHERE contype = 'f' AND (confrelid = %s::regclass OR conrelid = %s::regclass)""",
               (PARENT, PARENT))
    for name, table in cr.fetchall():
        cr.execute(SQL("ALTER TABLE %s DROP CONSTRAINT %s", SQL.identifier(table),
                       SQL.identifier(name)))
    ensure_key_table(cr)
    cr.execute(SQL("INSERT INTO %s (source, key, message_id) SELECT source, key, id FROM %s "
                   "ON CONFLICT DO NOTHING", SQL.identifier(KEY_TABLE), SQL.identifier(PARENT)))
    cr.execute("SELECT conname FROM pg_constraint WHERE contype = 'u' AND conrelid = %s::regclass",
               (PARENT,))
    for (name,) in cr.fetchall():
        cr.execute(SQL("ALTER TABLE %s DROP CONSTRAINT %s", SQL.identifier(PARENT),
                       SQL.identifier(name)))
    cr.execute(SQL("ALTER TABLE %s RENAME TO %s", SQL.identifier(PARENT), SQL.identifier(legacy)))
    cr.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s "
               "AND schemaname = current_schema", (legacy,))
    for (index,) in cr.fetchall():
        cr.execute(SQL("ALTER INDEX %s RENAME TO %s", SQL.identifier(index),
                       SQL.identifier(f"{legacy}_{index}"[:63])))
    cr.execute(SQL("CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS) PARTITION BY RANGE (id)",
                   SQL.identifier(PARENT), SQL.identifier(legacy)))
    cr.execute(SQL("ALTER TABLE %s ADD PRIMARY KEY (id)", SQL.identifier(PARENT)))
    # Owned by the old table, the sequence would be dropped with that partition one day.
    cr.execute(SQL("ALTER SEQUENCE %s OWNED BY %s", SQL.identifier(SEQUENCE),
                   SQL.identifier(PARENT, "id")))
    cr.execute(SQL("CREATE TABLE %s PARTITION OF %s DEFAULT", SQL.identifier(DEFAULT_PARTITION),
                   SQL.identifier(PARENT)))
    cr.execute(SQL("SELECT COALESCE(max(id), 0) + 1 FROM %s", SQL.identifier(legacy)))
    top = max(cr.fetchone()[0], next_id(cr))
    cr.execute(SQL("ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (MINVALUE) TO (%s)",
                   SQL.identifier(PARENT), SQL.identifier(legacy), top))
    ensure_headroom(cr, width)
    _logger.info("%s converted: the existing rows are partition %s (ids below %s)", PARENT,
                 legacy, top)


def ensure_key_table(cr):
    cr.execute(SQL("""
        CREATE TABLE IF NOT EXISTS %(table)s (
            source varchar NOT NULL,
            key varchar NOT NULL,
            message_id integer NOT NULL,
            PRIMARY KEY (source, key))
    """, table=SQL.identifier(KEY_TABLE)))
    # Keys are forgotten by id range with their partition.
    cr.execute(SQL("CREATE INDEX IF NOT EXISTS %s ON %s (message_id)",
                   SQL.identifier(f"{KEY_TABLE}_message_id_index"), SQL.identifier(KEY_TABLE)))


def ensure_foreign_keys(cr, foreign_keys):
    """Outgoing foreign keys of the parent, [(column, target table, on delete)].

    Declared on the parent, PostgreSQL clones them on every partition."""
    for column, target, ondelete in foreign_keys:
        name = f"{PARENT}_{column}_fkey"
        cr.execute("SELECT 1 FROM pg_constraint WHERE conname = %s AND conrelid = %s::regclass",
                   (name, PARENT))
        if cr.fetchone():
            continue
        cr.execute(SQL("ALTER TABLE %s ADD CONSTRAINT %s FOREIGN KEY (%s) REFERENCES %s (id) "
                       "ON DELETE %s", SQL.identifier(PARENT), SQL.identifier(name),
                       SQL.identifier(column), SQL.identifier(target),
                       SQL(ondelete.upper())))


def partitions(cr):
    """Range partitions of the parent, in id order (the DEFAULT partition apart)."""
    cr.execute("""
        SELECT c.relname, pg_get_expr(c.relpartbound, c.oid)
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = %s::regclass
    """, (PARENT,))
    found = []
    for name, bound in cr.fetchall():
        match = _BOUNDS.search(bound or "")
        if not match:
            continue
        low, high = match.groups()
        found.append(Partition(name, -2**31 if low == "MINVALUE" else int(low),
                               2**31 if high == "MAXVALUE" else int(high)))
    return sorted(found, key=lambda part: part.id_from)


def next_id(cr):
    """The id the sequence gives next (no id is consumed)."""
    cr.execute(SQL("SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM %s",
                   SQL.identifier(SEQUENCE)))
    return cr.fetchone()[0]


def _free_name(cr):
    cr.execute("SELECT relname FROM pg_class WHERE relname ~ '^mfg_message_p[0-9]+$' "
               "AND relnamespace = current_schema::regnamespace")
    numbers = [int(row[0][len("mfg_message_p"):]) for row in cr.fetchall()]
    return PARTITION_NAME % (max(numbers, default=0) + 1)


def add_partition(cr, id_from, id_to, rows_from_default=False):
    """Attach a new partition for [id_from, id_to).

    Created apart and attached, not ``CREATE TABLE ... PARTITION OF``: attaching locks the
    parent in SHARE UPDATE EXCLUSIVE mode only, so ingest goes on meanwhile. Rows of that range
    waiting in the DEFAULT partition are moved in first (PostgreSQL refuses the attach else).
    """
    name = _free_name(cr)
    cr.execute(SQL("CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS)", SQL.identifier(name),
                   SQL.identifier(PARENT)))
    if rows_from_default:
        cr.execute(SQL("LOCK TABLE %s IN ACCESS EXCLUSIVE MODE", SQL.identifier(DEFAULT_PARTITION)))
        cr.execute(SQL("""
            WITH moved AS (DELETE FROM %(default)s WHERE id >= %(low)s AND id < %(high)s
                           RETURNING *)
            INSERT INTO %(part)s SELECT * FROM moved
        """, default=SQL.identifier(DEFAULT_PARTITION), low=id_from, high=id_to,
            part=SQL.identifier(name)))
    cr.execute(SQL("ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%s) TO (%s)",
                   SQL.identifier(PARENT), SQL.identifier(name), id_from, id_to))
    _logger.info("%s: partition %s attached for ids [%s, %s)", PARENT, name, id_from, id_to)
    return Partition(name, id_from, id_to)


def default_rows_range(cr):
    """(min id, max id) of the rows waiting in the DEFAULT partition, or None."""
    cr.execute(SQL("SELECT min(id), max(id) FROM %s", SQL.identifier(DEFAULT_PARTITION)))
    low, high = cr.fetchone()
    return None if low is None else (low, high)


def ensure_headroom(cr, width, spare=2):
    """Keep ``spare`` partitions of ``width`` ids ready above the next id; move rows that
    landed in the DEFAULT partition into range partitions. Returns the partitions added."""
    added = []
    parts = partitions(cr)
    top = parts[-1].id_to if parts else 1
    waiting = default_rows_range(cr)
    while waiting and waiting[1] >= top:
        high = max(top + width, waiting[0] + 1)
        added.append(add_partition(cr, top, high, rows_from_default=True))
        top = high
        waiting = default_rows_range(cr)
    needed = next_id(cr) + spare * width
    while top < needed:
        added.append(add_partition(cr, top, top + width))
        top += width
    return added


def close_current(cr, width):
    """Send new messages to a fresh partition from now on: the sequence jumps to the end of
    the partition now being filled (the ids in between are simply never used)."""
    ensure_headroom(cr, width)
    current = next_id(cr)
    part = next((p for p in partitions(cr) if p.id_from <= current < p.id_to), None)
    if part is not None:
        cr.execute(SQL("SELECT setval(%s, %s, false)", SEQUENCE, part.id_to))
    ensure_headroom(cr, width)
    return part


def received_span(cr, part):
    """(first, last) received_at of a partition and whether it holds rows; read from its
    received_at index and its first page, never by counting."""
    cr.execute(SQL("SELECT min(received_at), max(received_at), EXISTS (SELECT 1 FROM %s) FROM %s",
                   SQL.identifier(part.name), SQL.identifier(part.name)))
    return cr.fetchone()


def compact(cr, part, keep_ids, rows, lock_timeout_ms=3000):
    """Replace partition ``part`` (``rows`` rows, counted by the caller: a closed partition
    gets no new rows) by one holding only the rows ``keep_ids`` (same ids).

    One transaction: a new table receives the kept rows, the old partition is detached and
    dropped, the new one attached on the same range. No row is deleted one by one; the
    parent stays locked (ACCESS EXCLUSIVE) until the caller's transaction ends, and the lock
    is waited for at most ``lock_timeout_ms`` (retried at the next run rather than queueing
    every reader behind a long transaction). Returns the number of rows dropped.
    """
    cr.execute(SQL("SET LOCAL lock_timeout = %s", f"{int(lock_timeout_ms)}ms"))
    cr.execute(SQL("LOCK TABLE %s IN ACCESS EXCLUSIVE MODE", SQL.identifier(PARENT)))
    cr.execute("SET LOCAL lock_timeout = DEFAULT")
    replacement = f"{part.name}_k"
    cr.execute(SQL("CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS)", SQL.identifier(replacement),
                   SQL.identifier(PARENT)))
    if keep_ids:
        cr.execute(SQL("INSERT INTO %s SELECT * FROM %s WHERE id = ANY(%s)",
                       SQL.identifier(replacement), SQL.identifier(part.name), list(keep_ids)))
    kept = cr.rowcount if keep_ids else 0
    cr.execute(SQL("ALTER TABLE %s DETACH PARTITION %s", SQL.identifier(PARENT),
                   SQL.identifier(part.name)))
    cr.execute(SQL("DROP TABLE %s", SQL.identifier(part.name)))
    cr.execute(SQL("ALTER TABLE %s RENAME TO %s", SQL.identifier(replacement),
                   SQL.identifier(part.name)))
    cr.execute(SQL("ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%s) TO (%s)",
                   SQL.identifier(PARENT), SQL.identifier(part.name), part.id_from, part.id_to))
    _logger.info("%s: partition %s compacted, %s rows dropped, %s kept", PARENT, part.name,
                 rows - kept, kept)
    return rows - kept


def forget_keys(cr, part, keep_ids):
    """Delete the dedup keys of the messages ``compact`` dropped from ``part``: every key of
    the id range but those of the rows kept (found by the message_id index, in the same
    transaction as the drop)."""
    cr.execute(SQL("""
        DELETE FROM %(keys)s
         WHERE message_id >= %(low)s AND message_id < %(high)s
           AND message_id <> ALL(%(keep)s)
    """, keys=SQL.identifier(KEY_TABLE), low=part.id_from, high=part.id_to,
        keep=sorted(keep_ids)))
    return cr.rowcount
