#!/usr/bin/env python3
"""Operator screens and ingest on an empty message table and on one of 20 million rows, same run
(issue 12 §1: within 1.5x of the empty-table figures).

A real Odoo 19 (2 HTTP workers) with mfg_integration + mfg_integration_monitoring, the shipped
partition width (1,000,000 ids per partition). Both phases see the same live workload: 5,000
messages received in the last 50 minutes (3,000 done, 1,400 waiting, 200 failed, 200 dead
letters, 200 exceptions; their reception times refreshed before each phase). Phase A measures
on a table holding only those; then ROWS messages of history are added with COPY (ids, keys
and rows as ingest writes them: done, 0.1 % cancelled, 1 in 100,000 an old dead letter and an
old exception nobody handled; received over the 90 days before the last hour, in id order as
in life), ANALYZE runs, and phase B measures the same:
  - ingest: 30 JSON-2 calls of 1,000 new envelopes (as an edge bridge sends), envelopes/s
    (afterwards those are made done two hours ago, out of the live workload);
  - dashboard: get_dashboard_data over the last 60 minutes (median of 15);
  - Dead Letter: the menu's first call (grouped by flow: web_read_group) (median of 15);
  - Exceptions: the menu's first call (web_search_read, 80 rows + count) (median of 15);
  - All Messages: the same, no filter (not a goal of the issue; shown for completeness);
  - reprocess: action_requeue of one dead letter (median of 9 different messages).
Then retention: the maintenance drops the partitions received more than 80 days ago (kept rows
copied), against the row-by-row purge of before (DELETE of the done rows of the next
partition and of their keys), both on this table; seconds per million messages.
Usage: .venv/bin/python bench/bench_volume.py [--rows 20000000]
"""
import argparse
import io
import json
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg2
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from odoo_harness import OdooServer, create_db, drop_db, odoo_shell  # noqa: E402

SETUP = """
import json
from odoo.addons.mfg_integration.services import partitioning
c = env["mfg.connector"].create({"name": "Bench line", "code": "EDGE-BENCH", "connector_type": "edge"})
flows = [env["mfg.flow"].create({"name": t, "connector_id": c.id, "canonical_type": t,
                                 "sync_mode": "scheduled", "schedule_interval_min": 100000}).id
         for t in ("machine.counter", "machine.alarm", "production.scrap")]
admin = env.ref("base.user_admin")
key = env["res.users.apikeys"].with_user(admin).sudo()._generate("rpc", "bench", None)
env.cr.commit()
print(json.dumps({"connector": c.id, "flows": flows, "company": c.company_id.id, "key": key}))
"""
RESERVE = """
import json
from odoo.addons.mfg_integration.services import partitioning
width = env["mfg.message"]._partition_width()
partitioning.close_current(env.cr, width)   # the history starts on a partition of its own
start = partitioning.next_id(env.cr)
partitioning.ensure_headroom(env.cr, width, spare=%d // width + 2)
env.cr.commit()
print(json.dumps({"start": start, "width": width}))
"""
MAINTAIN = """
import json, time
started = time.perf_counter()
dropped = env["mfg.message.partition"]._maintain(commit=True)
print(json.dumps({"dropped": dropped, "seconds": time.perf_counter() - started}))
"""
PAYLOAD = ('{"asset":"PRESS-%d","counter":"good","delta":%d,'
           '"window_start":"2026-09-01T08:00:00+00:00","window_end":"2026-09-01T08:01:00+00:00"}')
COPY_COLUMNS = ("id, name, key, source, canonical_type, schema_version, occurred_at, payload, "
                "connector_id, flow_id, company_id, direction, state, attempts, received_at, "
                "done_at, dead_at, latency_ms, last_error, edited, create_uid, write_uid, "
                "create_date, write_date")


class Client:
    def __init__(self, server, key):
        self.server, self.session = server, requests.Session()
        self.session.headers.update({"Authorization": f"bearer {key}",
                                     "X-Odoo-Database": server.db})

    def call(self, model, method, **kwargs):
        response = self.session.post(f"{self.server.url}/json/2/{model}/{method}", json=kwargs,
                                     timeout=600)
        assert response.status_code == 200, response.text[:500]
        return response.json()


def envelopes(run, count, offset):
    return [{"key": f"{run}-{offset + i}", "type": "machine.counter", "schema_version": 1,
             "source": "EDGE-BENCH", "occurred_at": "2026-12-04T08:00:00+00:00",
             "payload": {"asset": f"PRESS-{i % 40}", "counter": "good", "delta": i % 7,
                         "window_start": "2026-12-04T08:00:00+00:00",
                         "window_end": "2026-12-04T08:01:00+00:00"}} for i in range(count)]


def timed(call, count, warmup=4):
    """Median of ``count`` calls after ``warmup`` ones (each HTTP worker loads the catalog of
    new partitions on its first query: a one-time cost, not the screen's)."""
    for _ in range(warmup):
        call()
    times = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure(client, server, phase):
    figures = {}
    started = time.perf_counter()
    for batch in range(30):
        result = client.call("mfg.message", "ingest", envelopes=envelopes(phase, 1000, batch * 1000))
        assert result["accepted"] == 1000, result
    figures["ingest (envelopes/s)"] = 30000 / (time.perf_counter() - started)
    server.execute(f"""UPDATE mfg_message SET state = 'done', latency_ms = 50,
                              received_at = received_at - interval '2 hours',
                              done_at = received_at - interval '2 hours'
                        WHERE key LIKE '{phase}-%'""")
    refresh_live(server)
    figures["dashboard (ms)"] = timed(lambda: client.call(
        "mfg.message.stats", "get_dashboard_data", period_minutes=60), 15)
    spec = {name: {} for name in ("received_at", "canonical_type", "key", "attempts",
                                  "last_error", "state", "ordering_key")}
    spec.update(connector_id={"fields": {"display_name": {}}},
                flow_id={"fields": {"display_name": {}}})
    figures["dead letter list (ms)"] = timed(lambda: client.call(
        "mfg.message", "web_read_group", domain=[("state", "=", "dead")], groupby=["flow_id"],
        aggregates=["__count"]), 15)
    figures["exceptions list (ms)"] = timed(lambda: client.call(
        "mfg.message", "web_search_read", domain=[("state", "=", "exception")],
        specification=spec, limit=80, order="received_at desc, id desc", count_limit=10001), 15)
    figures["all messages list (ms)"] = timed(lambda: client.call(
        "mfg.message", "web_search_read", domain=[], specification=spec, limit=80,
        order="received_at desc, id desc", count_limit=10001), 15)
    dead = client.call("mfg.message", "search", domain=[("state", "=", "dead"),
                                                       ("key", "=like", "live-%")], limit=13)
    requeue = iter(dead)
    figures["reprocess one (ms)"] = timed(lambda: client.call(
        "mfg.message", "action_requeue", ids=[next(requeue)]), len(dead) - 4)
    return figures


def make_live_workload(client, server):
    """5,000 messages of the last hour in every state an operator meets."""
    for batch in range(5):
        client.call("mfg.message", "ingest", envelopes=envelopes("live", 1000, batch * 1000))
    number = "(substring(key from '[0-9]+$'))::int"
    for state, low, high, extra in (
            ("done", 0, 3000, "done_at = now() at time zone 'UTC', latency_ms = 80"),
            ("failed", 3000, 3200, "attempts = 2, last_error = 'bench: peer timeout', "
                                   "next_retry_at = now() at time zone 'UTC' + interval '1 hour'"),
            ("dead", 3200, 3400, "attempts = 5, dead_at = now() at time zone 'UTC', "
                                 "last_error = 'bench: peer refused'"),
            ("exception", 3400, 3600, "last_error = 'bench: unmapped product'")):
        server.execute(f"""UPDATE mfg_message SET state = '{state}', {extra}
                            WHERE key LIKE 'live-%' AND {number} >= {low} AND {number} < {high}""")


def refresh_live(server):
    """The live workload received within the last 50 minutes, whenever the phase runs; dead
    letters requeued by the previous phase are dead again."""
    number = "(substring(key from '[0-9]+$'))::int"
    server.execute(f"""UPDATE mfg_message
                          SET received_at = now() at time zone 'UTC'
                                            - ({number} % 3000) * interval '1 second',
                              state = CASE WHEN {number} >= 3200 AND {number} < 3400 THEN 'dead'
                                           ELSE state END
                        WHERE key LIKE 'live-%'""")


class RowStream(io.RawIOBase):
    """COPY text for ``count`` messages from id ``start``, generated while PostgreSQL reads."""

    def __init__(self, ids, start, count, chunk=20000):
        super().__init__()
        self.ids, self.start, self.count, self.chunk = ids, start, count, chunk
        self.position, self.buffer = 0, b""
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        self.first_received = now - timedelta(days=90)
        self.step = timedelta(days=90, hours=-1) / count

    def readable(self):
        return True

    def _line(self, n):
        ident = self.start + n
        received = self.first_received + self.step * n
        stamp = received.isoformat(sep=" ")
        state, dead, error = "done", "\\N", "\\N"
        if n % 100000 == 7:
            state, dead, error = "dead", stamp, "peer refused"
        elif n % 100000 == 8:
            state, error = "exception", "unmapped product"
        elif n % 1000 == 9:
            state = "cancelled"
        done = stamp if state == "done" else "\\N"
        flow = self.ids["flows"][n % 3]
        return (f"{ident}\tmachine.counter/old-{n}\told-{n}\tEDGE-BENCH\tmachine.counter\t1\t"
                f"{stamp}\t{PAYLOAD % (n % 40, n % 7)}\t{self.ids['connector']}\t{flow}\t"
                f"{self.ids['company']}\tin\t{state}\t0\t{stamp}\t{done}\t{dead}\t"
                f"{(n % 900) + 35}\t{error}\tf\t1\t1\t{stamp}\t{stamp}\n")

    def readinto(self, target):
        while len(self.buffer) < len(target) and self.position < self.count:
            end = min(self.position + self.chunk, self.count)
            self.buffer += "".join(self._line(n) for n in range(self.position, end)).encode()
            self.position = end
        size = min(len(target), len(self.buffer))
        target[:size] = self.buffer[:size]
        self.buffer = self.buffer[size:]
        return size


class KeyStream(RowStream):
    def _line(self, n):
        return f"EDGE-BENCH\told-{n}\t{self.start + n}\n"


def prefill(server, ids, rows):
    reserved = odoo_shell(server.db, RESERVE % rows)
    start = reserved["start"]
    conn = psycopg2.connect(dbname=server.db, host="127.0.0.1")
    started = time.perf_counter()
    with conn, conn.cursor() as cur:
        cur.copy_expert(f"COPY mfg_message ({COPY_COLUMNS}) FROM STDIN",
                        io.BufferedReader(RowStream(ids, start, rows), 1 << 20))
        cur.copy_expert("COPY mfg_message_key (source, key, message_id) FROM STDIN",
                        io.BufferedReader(KeyStream(ids, start, rows), 1 << 20))
        cur.execute("SELECT setval('mfg_message_id_seq', %s)", (start + rows,))
    conn.close()
    copy_s = time.perf_counter() - started
    odoo_shell(server.db, MAINTAIN)
    server.execute("ANALYZE")
    return copy_s, reserved["width"]


def measure_retention(server):
    """The maintenance drops what was received more than 80 days ago; then the row-by-row
    purge of before deletes the done messages (and their keys) of the next, unexpired
    partition. Both on this table, seconds per million messages."""
    server.execute("UPDATE ir_config_parameter SET value = '80' "
                   "WHERE key = 'mfg_integration.done_retention_days'")
    result = odoo_shell(server.db, MAINTAIN)
    server.execute("ANALYZE mfg_message")
    name, low, high = server.query("""
        SELECT c.relname, (regexp_match(pg_get_expr(c.relpartbound, c.oid),
                                        'FROM \\((\\d+)\\) TO \\((\\d+)\\)'))[1]::int,
               (regexp_match(pg_get_expr(c.relpartbound, c.oid),
                             'FROM \\((\\d+)\\) TO \\((\\d+)\\)'))[2]::int
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'mfg_message'::regclass AND c.reltuples > 100000
         ORDER BY 2 LIMIT 1""")[0]
    started = time.perf_counter()
    rows = server.query(f"""WITH gone AS (DELETE FROM mfg_message WHERE id >= {low} AND id < {high}
                                          AND state = 'done' RETURNING id),
                             keys AS (DELETE FROM mfg_message_key WHERE message_id IN
                                      (SELECT id FROM gone) RETURNING 1)
                            SELECT count(*) FROM keys""")[0][0]
    naive_s = time.perf_counter() - started
    if not result["dropped"]:
        print("retention: no partition expired (the history fits in the partitions still "
              "receiving; run with more --rows or a smaller --width)", flush=True)
        return {"dropped": 0, "seconds": result["seconds"]}
    ours = result["seconds"] / result["dropped"] * 1e6
    naive = naive_s / max(rows, 1) * 1e6
    print(f"retention: the maintenance dropped {result['dropped']:,} messages in "
          f"{result['seconds']:.1f} s ({ours:.2f} s per million); the row-by-row DELETE of "
          f"{rows:,} messages of {name} and their keys {naive_s:.1f} s ({naive:.2f} s per "
          f"million): {naive / ours:.1f}x", flush=True)
    return {"dropped": result["dropped"], "seconds": result["seconds"],
            "naive_rows": rows, "naive_seconds": naive_s}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--width", type=int, default=None,
                        help="ids per partition (default: the shipped 1,000,000)")
    args = parser.parse_args()
    server = OdooServer()
    create_db(server.db, "mfg_integration,mfg_integration_monitoring")

    execute = server.execute
    try:
        ids = odoo_shell(server.db, SETUP)
        if args.width:
            execute("UPDATE ir_config_parameter SET value = %s "
                    "WHERE key = 'mfg_integration.partition_rows'", (str(args.width),))
        server.start()
        client = Client(server, ids["key"])
        make_live_workload(client, server)
        execute("ANALYZE")
        empty = measure(client, server, "a")
        print(f"phase A: {server.query('SELECT count(*) FROM mfg_message')[0][0]:,} messages",
              flush=True)
        copy_s, width = prefill(server, ids, args.rows)
        size = server.query("SELECT pg_size_pretty(sum(pg_total_relation_size(relid))) FROM "
                            "pg_partition_tree('mfg_message')")[0][0]
        parts = server.query("SELECT count(*) FROM pg_partition_tree('mfg_message') "
                             "WHERE isleaf")[0][0]
        print(f"added {args.rows:,} messages with COPY in {copy_s:.0f} s; {parts} partitions of "
              f"{width:,} ids, {size}", flush=True)
        full = measure(client, server, "b")
        count = server.query("SELECT count(*) FROM mfg_message")[0][0]
        print(f"\n{'':28}{'empty table':>14}{f'{count:,} rows':>16}{'ratio':>8}")
        for name, value in empty.items():
            if name.startswith("ingest"):
                ratio = value / full[name]      # slower = higher, like the times
            else:
                ratio = full[name] / value
            goal = "" if name.startswith("all messages") else (
                "  ok" if ratio <= 1.5 else "  OVER 1.5x")
            print(f"{name:28}{value:14.1f}{full[name]:16.1f}{ratio:7.2f}x{goal}")
        retention = measure_retention(server)
        print(json.dumps({"empty": empty, "full": full, "rows": count, "retention": retention}))
    finally:
        server.stop()
        drop_db(server.db)


if __name__ == "__main__":
    main()
