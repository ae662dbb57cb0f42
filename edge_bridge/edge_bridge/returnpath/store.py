"""The bridge's durable copy of what Odoo handed it (the return path), in the buffer's SQLite file.

A fetched message is committed here *before* the bridge acknowledges it to Odoo: Odoo stops
offering it only once the bridge holds it on disk. ``odoo_id`` is unique, so a message fetched
twice (the bridge died between storing and acknowledging) is stored once. Rows then go
``fetched`` -> ``delivered`` or ``refused`` (with the detail) and are ``reported`` once Odoo has
recorded the result; reported rows are kept ``retention_s`` for the operator, then deleted.

Its own connection on the same file (WAL: the outbox's writer and this one do not block each
other for long; ``busy_timeout`` covers the overlap).
"""
import json
import sqlite3
import threading
import time

SCHEMA = """
CREATE TABLE IF NOT EXISTS command (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    odoo_id INTEGER NOT NULL UNIQUE,
    key TEXT NOT NULL,
    type TEXT NOT NULL,
    body TEXT NOT NULL,
    target TEXT,
    state TEXT NOT NULL DEFAULT 'fetched' CHECK (state IN ('fetched', 'delivered', 'refused')),
    detail TEXT,
    acked INTEGER NOT NULL DEFAULT 0,
    reported INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    fetched_at REAL NOT NULL,
    finished_at REAL
);
CREATE INDEX IF NOT EXISTS command_todo ON command (state, seq);
CREATE INDEX IF NOT EXISTS command_unreported ON command (reported, state);
"""


class CommandStore:
    def __init__(self, path, synchronous="FULL"):
        self._lock = threading.Lock()
        self.db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(f"PRAGMA synchronous={synchronous}")
        self.db.executescript(SCHEMA)

    def add(self, items):
        """Store fetched messages [(odoo_id, envelope dict or None, refusal or None)] in one
        transaction; returns how many were new."""
        now = time.time()
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                before = self.db.total_changes
                for odoo_id, envelope, refusal in items:
                    envelope = envelope if isinstance(envelope, dict) else {}
                    self.db.execute(
                        "INSERT OR IGNORE INTO command (odoo_id, key, type, body, state, detail, fetched_at, "
                        "finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (odoo_id, str(envelope.get("key", "")), str(envelope.get("type", "")),
                         json.dumps(envelope), "refused" if refusal else "fetched", refusal, now,
                         now if refusal else None))
                added = self.db.total_changes - before
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
        return added

    def unacked_ids(self, limit=5000):
        with self._lock:
            return [row[0] for row in self.db.execute(
                "SELECT odoo_id FROM command WHERE acked = 0 ORDER BY seq LIMIT ?", (limit,))]

    def mark_acked(self, ids):
        self._mark(ids, "acked = 1")

    def mark_reported(self, ids):
        self._mark(ids, "reported = 1")

    def _mark(self, ids, assignment):
        if not ids:
            return
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.executemany(f"UPDATE command SET {assignment} WHERE odoo_id = ?", [(i,) for i in ids])
            self.db.execute("COMMIT")

    def withdraw(self, ids):
        """Messages Odoo withdrew before handing them over (cancelled meanwhile): never delivered."""
        if not ids:
            return
        with self._lock:
            self.db.executemany("UPDATE command SET state = 'refused', reported = 1, finished_at = ?, "
                                "detail = 'withdrawn in Odoo before it was handed over' "
                                "WHERE odoo_id = ? AND state = 'fetched'", [(time.time(), i) for i in ids])

    def to_deliver(self, limit=1000):
        """Rows Odoo handed over (acknowledged) and not delivered yet, in the order Odoo gave
        them: [(odoo_id, envelope)]. Nothing is delivered before Odoo confirmed the hand-over:
        a message cancelled in Odoo in between is withdrawn instead."""
        with self._lock:
            rows = self.db.execute("SELECT odoo_id, body FROM command WHERE state = 'fetched' AND acked = 1 "
                                   "ORDER BY seq LIMIT ?", (limit,)).fetchall()
        return [(odoo_id, json.loads(body)) for odoo_id, body in rows]

    def finish(self, odoo_id, state, detail, target=None):
        with self._lock:
            self.db.execute("UPDATE command SET state = ?, detail = ?, target = ?, finished_at = ?, "
                            "attempts = attempts + 1 WHERE odoo_id = ?",
                            (state, detail[:2000], target, time.time(), odoo_id))

    def note_attempt(self, odoo_id, detail):
        with self._lock:
            self.db.execute("UPDATE command SET attempts = attempts + 1, detail = ? WHERE odoo_id = ?",
                            (detail[:2000], odoo_id))

    def unreported(self, limit=1000):
        """Finished rows Odoo has not recorded yet (acknowledged ones: Odoo knows they are here)."""
        with self._lock:
            rows = self.db.execute(
                "SELECT odoo_id, state, detail FROM command WHERE reported = 0 AND acked = 1 "
                "AND state IN ('delivered', 'refused') ORDER BY seq LIMIT ?", (limit,)).fetchall()
        return [{"id": odoo_id, "ok": state == "delivered", "detail": detail} for odoo_id, state, detail in rows]

    def counts(self):
        with self._lock:
            rows = self.db.execute("SELECT state, reported, count(*) FROM command GROUP BY state, reported").fetchall()
        return {f"{state}{'' if reported else '_unreported'}": count for state, reported, count in rows}

    def purge(self, older_than_s):
        with self._lock:
            self.db.execute("DELETE FROM command WHERE reported = 1 AND finished_at < ?",
                            (time.time() - older_than_s,))

    def close(self):
        with self._lock:
            self.db.close()
