"""Durable outbox in SQLite (WAL mode).

Why SQLite: one file, transactional, survives kill -9 and power loss when the WAL is fsynced on
commit (``synchronous=FULL``, the default here; NORMAL trades the last commits on power loss for
speed, never corruption, and is offered for flash-wear-sensitive boxes).

One transaction holds, together: the events produced from a batch of readings, the aggregation
state they were produced from, source checkpoints (HTTP cursors) and input dead letters. Sources
are acknowledged only after it commits. So after any crash the database is either before or after
the batch, and the source re-delivers exactly what is not in it.

Rows: ``pending`` -> ``delivered`` (Odoo accepted it or already had it) or ``dead`` (Odoo rejected
it; the reason is in ``dead_letter``). ``key`` is unique, so re-emitting an event is a no-op.

Dead letters have their own bound (``dead_letter_max`` rows; the oldest are dropped with a
counter and a log line) and do not count against ``max_bytes``: a flood of rejected input can
neither fill the disk nor make the bridge hold back new data.
"""
import json
import logging
import sqlite3
import threading
import time
from dataclasses import dataclass

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    critical INTEGER NOT NULL DEFAULT 0,
    body TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
    created_at REAL NOT NULL,
    delivered_at REAL
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (state, critical DESC, id);
CREATE INDEX IF NOT EXISTS outbox_delivered ON outbox (state, delivered_at);
CREATE TABLE IF NOT EXISTS dead_letter (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    stage TEXT NOT NULL CHECK (stage IN ('input', 'sink')),
    source TEXT,
    outbox_id INTEGER,
    key TEXT,
    body TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS aggregation_state (asset TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoint (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class OutboxFull(RuntimeError):
    """No room for new events under the configured disk policy; the caller must hold back."""


@dataclass
class PendingRow:
    id: int
    key: str
    body: str


class Outbox:
    """Thread-safe: the aggregation worker and the sink each use it; writes are serialized."""

    def __init__(self, path, max_bytes=512 * 1024 ** 2, on_full="drop_oldest_delivered",
                 synchronous="FULL", high_water=0.8, dead_letter_max=10_000):
        self.path = str(path)
        self.dead_letter_max = dead_letter_max
        self.on_dead_letters_dropped = None      # callable(count): the metric
        self.dead_letters_dropped = 0
        self.max_bytes = max_bytes
        self.on_full = on_full
        self.high_water = high_water
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={synchronous}")
        # Keep the WAL from growing without bound under a constant write load.
        self._db.execute("PRAGMA wal_autocheckpoint=1000")
        self._db.executescript(SCHEMA)
        self._page_size = self._db.execute("PRAGMA page_size").fetchone()[0]
        self._pending = self._db.execute("SELECT count(*) FROM outbox WHERE state='pending'").fetchone()[0]
        self._dead_count = self._db.execute("SELECT count(*) FROM dead_letter").fetchone()[0]

    def close(self):
        with self._lock:
            try:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                self._db.close()

    # -- size policy --------------------------------------------------------------------------
    def used_bytes(self):
        """Bytes held by live pages (freed pages are reused, so they do not count)."""
        with self._lock:
            pages = self._db.execute("PRAGMA page_count").fetchone()[0]
            free = self._db.execute("PRAGMA freelist_count").fetchone()[0]
        return (pages - free) * self._page_size

    def _dead_bytes(self):
        """Approximate bytes held by dead letters (and their dead outbox rows); bounded separately."""
        with self._lock:
            letters = self._db.execute("SELECT coalesce(sum(length(body) + length(reason) + coalesce(length(key), 0)"
                                       " + 48), 0) FROM dead_letter").fetchone()[0]
            rows = self._db.execute("SELECT coalesce(sum(length(body) + length(key) + 48), 0) FROM outbox "
                                    "WHERE state='dead'").fetchone()[0]
        return letters + rows

    def budget_bytes(self):
        """Bytes that count against ``max_bytes``: everything but the dead letters.

        The dead-letter sum is only computed near the limit (it reads those tables).
        """
        used = self.used_bytes()
        if used < self.max_bytes * min(self.high_water, 0.9) or not self._dead_count:
            return used
        return max(0, used - self._dead_bytes())

    def fill_ratio(self):
        return self.budget_bytes() / self.max_bytes

    def make_room(self):
        """Apply the disk policy. Returns True if there is room for new events."""
        if self.budget_bytes() < self.max_bytes:
            return True
        if self.on_full == "drop_oldest_delivered":
            with self._lock:
                while self.budget_bytes() >= self.max_bytes:
                    deleted = self._db.execute(
                        "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE state='delivered' "
                        "ORDER BY id LIMIT 5000)").rowcount
                    if not deleted:
                        break
        # Pending rows are never dropped: with only undelivered data left, we refuse new data
        # and the sources stop acknowledging (the broker / PLC keeps it instead).
        return self.budget_bytes() < self.max_bytes

    # -- writing ------------------------------------------------------------------------------
    def commit(self, events, states=None, checkpoints=None, input_dead_letters=(), critical_of=None):
        """Store everything produced by one batch of readings in ONE transaction.

        events: envelopes (dicts). Returns the number of new rows (re-emitted keys are ignored).
        """
        now = time.time()
        rows = [(env["key"], env["type"], 1 if critical_of and critical_of(env) else 0,
                 json.dumps(env, separators=(",", ":")), now) for env in events]
        dropped = 0
        count_before = self._dead_count
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                before = self._db.total_changes
                self._db.executemany(
                    "INSERT OR IGNORE INTO outbox (key, type, critical, body, created_at) VALUES (?,?,?,?,?)", rows)
                inserted = self._db.total_changes - before
                if states:
                    self._db.executemany(
                        "INSERT OR REPLACE INTO aggregation_state (asset, body) VALUES (?, ?)",
                        [(asset, json.dumps(state, separators=(",", ":"))) for asset, state in states.items()])
                if checkpoints:
                    self._db.executemany("INSERT OR REPLACE INTO checkpoint (name, value) VALUES (?, ?)",
                                         [(name, json.dumps(value)) for name, value in checkpoints.items()])
                if input_dead_letters:
                    self._db.executemany(
                        "INSERT INTO dead_letter (stage, source, body, reason, created_at) VALUES ('input',?,?,?,?)",
                        [(source, body, reason, now) for source, body, reason in input_dead_letters])
                    self._dead_count += len(input_dead_letters)
                    dropped = self._bound_dead_letters()
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                self._dead_count = count_before
                raise
            self._pending += inserted
        self._report_dropped(dropped)
        return inserted

    def _bound_dead_letters(self):
        """Inside a write transaction: drop the oldest dead letters above the bound."""
        excess = self._dead_count - self.dead_letter_max
        if excess <= 0:
            return 0
        oldest = self._db.execute("SELECT id, outbox_id FROM dead_letter ORDER BY id LIMIT ?", (excess,)).fetchall()
        self._db.executemany("DELETE FROM outbox WHERE id=? AND state='dead'",
                             [(outbox_id,) for _, outbox_id in oldest if outbox_id is not None])
        self._db.executemany("DELETE FROM dead_letter WHERE id=?", [(dead_id,) for dead_id, _ in oldest])
        self._dead_count -= len(oldest)
        return len(oldest)

    def _report_dropped(self, dropped):
        if not dropped:
            return
        self.dead_letters_dropped += dropped
        log.warning("dead letter full: oldest dead letters dropped",
                    extra={"dropped": dropped, "dead_letter_max": self.dead_letter_max})
        if self.on_dead_letters_dropped:
            self.on_dead_letters_dropped(dropped)

    # -- reading state back -------------------------------------------------------------------
    def load_states(self):
        with self._lock:
            return {asset: json.loads(body)
                    for asset, body in self._db.execute("SELECT asset, body FROM aggregation_state")}

    def checkpoint(self, name, default=None):
        with self._lock:
            row = self._db.execute("SELECT value FROM checkpoint WHERE name=?", (name,)).fetchone()
        return json.loads(row[0]) if row else default

    def set_meta(self, name, value):
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", (name, json.dumps(value)))

    def meta(self, name, default=None):
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE name=?", (name,)).fetchone()
        return json.loads(row[0]) if row else default

    # -- sink side ----------------------------------------------------------------------------
    def pending_count(self):
        return self._pending

    def fetch_pending(self, limit):
        """Oldest first, critical events ahead of the rest."""
        with self._lock:
            return [PendingRow(*row) for row in self._db.execute(
                "SELECT id, key, body FROM outbox WHERE state='pending' ORDER BY critical DESC, id LIMIT ?",
                (limit,))]

    def oldest_pending_at(self):
        with self._lock:
            row = self._db.execute("SELECT min(created_at) FROM outbox WHERE state='pending'").fetchone()
        return row[0]

    def has_critical_pending(self):
        with self._lock:
            return self._db.execute(
                "SELECT 1 FROM outbox WHERE state='pending' AND critical=1 LIMIT 1").fetchone() is not None

    def record_result(self, rows, rejected):
        """Apply Odoo's answer to a pushed batch: rejected -> dead letter, the rest delivered.

        ``rejected`` is the contract's list of {"index", "key", "error"}. Duplicates are delivered:
        Odoo already holds them.
        """
        now = time.time()
        reasons = {}
        for item in rejected:
            index = item.get("index")
            if isinstance(index, int) and 0 <= index < len(rows):
                reasons[index] = str(item.get("error") or "rejected")
        dropped = 0
        count_before = self._dead_count
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany("UPDATE outbox SET state='delivered', delivered_at=? "
                                     "WHERE id=? AND state='pending'",
                                     [(now, row.id) for index, row in enumerate(rows) if index not in reasons])
                for index, reason in reasons.items():
                    row = rows[index]
                    self._db.execute("UPDATE outbox SET state='dead' WHERE id=?", (row.id,))
                    self._db.execute(
                        "INSERT INTO dead_letter (stage, source, outbox_id, key, body, reason, created_at) "
                        "VALUES ('sink', NULL, ?, ?, ?, ?, ?)", (row.id, row.key, row.body, reason, now))
                    self._dead_count += 1
                if reasons:
                    dropped = self._bound_dead_letters()
                self._db.execute("INSERT OR REPLACE INTO meta (name, value) VALUES ('last_push_at', ?)",
                                 (json.dumps(now),))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                self._dead_count = count_before
                raise
            self._pending -= len(rows)
        self._report_dropped(dropped)

    def prune_delivered(self, retention_s):
        with self._lock:
            return self._db.execute("DELETE FROM outbox WHERE state='delivered' AND delivered_at < ?",
                                    (time.time() - retention_s,)).rowcount

    # -- dead letters -------------------------------------------------------------------------
    def dead_letters(self, limit=100):
        with self._lock:
            cursor = self._db.execute(
                "SELECT id, stage, source, key, reason, created_at, body FROM dead_letter ORDER BY id LIMIT ?",
                (limit,))
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor]

    def replay_dead_letters(self, ids=None):
        """Move rejected (sink) dead letters back to pending, e.g. after fixing master data in Odoo.

        Input dead letters (malformed readings) cannot be replayed: there is no event to resend.
        """
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                query = "SELECT id, outbox_id FROM dead_letter WHERE stage='sink'"
                params = ()
                if ids:
                    query += f" AND id IN ({','.join('?' * len(ids))})"
                    params = tuple(ids)
                found = self._db.execute(query, params).fetchall()
                self._db.executemany("UPDATE outbox SET state='pending' WHERE id=? AND state='dead'",
                                     [(outbox_id,) for _, outbox_id in found])
                self._db.executemany("DELETE FROM dead_letter WHERE id=?", [(dead_id,) for dead_id, _ in found])
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._pending = self._db.execute("SELECT count(*) FROM outbox WHERE state='pending'").fetchone()[0]
            self._dead_count = self._db.execute("SELECT count(*) FROM dead_letter").fetchone()[0]
        return len(found)

    def status(self):
        with self._lock:
            counts = dict(self._db.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall())
            dead = dict(self._db.execute("SELECT stage, count(*) FROM dead_letter GROUP BY stage").fetchall())
        oldest = self.oldest_pending_at()
        return {
            "pending": counts.get("pending", 0), "delivered_retained": counts.get("delivered", 0),
            "rejected": dead.get("sink", 0), "input_dead_letters": dead.get("input", 0),
            "oldest_pending_at": oldest, "last_push_at": self.meta("last_push_at"),
            "used_bytes": self.used_bytes(), "max_bytes": self.max_bytes,
            "dead_letters_dropped": self.dead_letters_dropped, "dead_letter_max": self.dead_letter_max,
        }
