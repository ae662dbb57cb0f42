#!/usr/bin/env python3
"""Operator screens and ingest on an empty message table and on one of 20 million rows, same run
(issue 12 §1: within 1.5x of the empty-table figures).

A real Odoo 19 (2 HTTP workers) with mfg_integration + mfg_integration_monitoring, the shipped
partition width (1,000,000 ids per partition). Phase A measures on a table holding only what
the benchmark ingests; then ROWS messages are added with COPY (ids, keys and rows as ingest
writes them: 99.7 % done, 0.1 % dead letters, 0.2 % exceptions; received over the 90 days
before the last hour, in id order as in life), ANALYZE runs, and phase B measures the same:
  - ingest: 30 JSON-2 calls of 1,000 new envelopes (as an edge bridge sends), envelopes/s;
  - dashboard: get_dashboard_data over the last 60 minutes (median of 7);
  - Dead Letter: the menu's first call (grouped by flow: web_read_group) (median of 7);
  - Exceptions: the menu's first call (web_search_read, 80 rows + count) (median of 7);
  - All Messages: the same, no filter (not a goal of the issue; shown for completeness);
  - reprocess: action_requeue of one dead letter (median of 5 different messages).
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
partitioning.ensure_headroom(env.cr, width)
start = partitioning.next_id(env.cr)
partitioning.ensure_headroom(env.cr, width, spare=%d // width + 2)
env.cr.commit()
print(json.dumps({"start": start, "width": width}))
"""
MAINTAIN = """
env["mfg.message.partition"]._maintain(commit=True)
print('{"ok": 1}')
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


def timed(call, count):
    times = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure(client, phase, flows):
    figures = {}
    started = time.perf_counter()
    for batch in range(30):
        result = client.call("mfg.message", "ingest", envelopes=envelopes(phase, 1000, batch * 1000))
        assert result["accepted"] == 1000, result
    figures["ingest (envelopes/s)"] = 30000 / (time.perf_counter() - started)
    figures["dashboard (ms)"] = timed(lambda: client.call(
        "mfg.message.stats", "get_dashboard_data", period_minutes=60), 7)
    spec = {name: {} for name in ("received_at", "canonical_type", "key", "attempts",
                                  "last_error", "state", "ordering_key")}
    spec.update(connector_id={"fields": {"display_name": {}}},
                flow_id={"fields": {"display_name": {}}})
    figures["dead letter list (ms)"] = timed(lambda: client.call(
        "mfg.message", "web_read_group", domain=[("state", "=", "dead")], groupby=["flow_id"],
        aggregates=["__count"]), 7)
    figures["exceptions list (ms)"] = timed(lambda: client.call(
        "mfg.message", "web_search_read", domain=[("state", "=", "exception")],
        specification=spec, limit=80, order="received_at desc, id desc", count_limit=10001), 7)
    figures["all messages list (ms)"] = timed(lambda: client.call(
        "mfg.message", "web_search_read", domain=[], specification=spec, limit=80,
        order="received_at desc, id desc", count_limit=10001), 7)
    dead = client.call("mfg.message", "search", domain=[("state", "=", "dead")], limit=5,
                       order="id desc")
    requeue = iter(dead)
    figures["reprocess one (ms)"] = timed(lambda: client.call(
        "mfg.message", "action_requeue", ids=[next(requeue)]), len(dead))
    return figures


def make_dead_letters(server, phase):
    """A few messages of the phase made dead letters / exceptions, as a plant has."""
    server.execute(f"""UPDATE mfg_message SET state = 'dead', dead_at = now(), attempts = 5,
                              last_error = 'bench: peer refused'
                        WHERE key LIKE '{phase}-%' AND (substring(key from '[0-9]+$'))::int % 500 = 1""")
    server.execute(f"""UPDATE mfg_message SET state = 'exception', last_error = 'bench: unmapped'
                        WHERE key LIKE '{phase}-%' AND (substring(key from '[0-9]+$'))::int % 250 = 2""")


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
        if n % 1000 == 7:
            state, dead, error = "dead", stamp, "peer refused"
        elif n % 500 == 3:
            state, error = "exception", "unmapped product"
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


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20_000_000)
    args = parser.parse_args()
    server = OdooServer()
    create_db(server.db, "mfg_integration,mfg_integration_monitoring")

    def execute(sql, params=None):
        conn = psycopg2.connect(dbname=server.db, host="127.0.0.1")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(sql, params)
        conn.close()
    server.execute = execute
    try:
        ids = odoo_shell(server.db, SETUP)
        server.start()
        client = Client(server, ids["key"])
        client.call("mfg.message", "ingest", envelopes=envelopes("warmup", 1000, 0))
        make_dead_letters(server, "warmup")
        execute("ANALYZE")
        empty = measure(client, "a", ids["flows"])
        print(f"phase A: {server.query('SELECT count(*) FROM mfg_message')[0][0]:,} messages",
              flush=True)
        copy_s, width = prefill(server, ids, args.rows)
        size = server.query("SELECT pg_size_pretty(sum(pg_total_relation_size(relid))) FROM "
                            "pg_partition_tree('mfg_message')")[0][0]
        parts = server.query("SELECT count(*) FROM pg_partition_tree('mfg_message') "
                             "WHERE isleaf")[0][0]
        print(f"added {args.rows:,} messages with COPY in {copy_s:.0f} s; {parts} partitions of "
              f"{width:,} ids, {size}", flush=True)
        make_dead_letters(server, "a")
        full = measure(client, "b", ids["flows"])
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
        print(json.dumps({"empty": empty, "full": full, "rows": count}))
    finally:
        server.stop()
        drop_db(server.db)


if __name__ == "__main__":
    main()
