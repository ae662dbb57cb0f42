#!/usr/bin/env python3
"""GET /mfg/metrics on an empty table and on a table of several million done messages, same run
(issue 12 §3: cheap enough to scrape every 15 s at 100M+ rows), against a naive exporter that
counts messages by flow and state and computes the latency percentiles over the whole table.

A real Odoo 19 (2 workers) with mfg_integration + mfg_integration_monitoring; 5 flows; 600
unfinished messages (received, failed, dead, exception) and 2,000 received in the last minutes.
Phase 1 scrapes that; then ROWS done messages spread over 90 days are added (server-side
INSERT ... SELECT generate_series, then ANALYZE) and phase 2 scrapes again. Each figure is the
median of 15 scrapes over HTTP with the token; the naive exporter's query runs on the same
database. If the endpoint's queries only touch unfinished rows and the last minutes (by index),
its time does not grow with the table; the naive one grows linearly.
Usage: .venv/bin/python bench/bench_metrics.py [--rows 3000000]
"""
import argparse
import hashlib
import statistics
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from odoo_harness import OdooServer, create_db, drop_db, odoo_shell  # noqa: E402

SETUP = """
import json
connector = env["mfg.connector"].create({"name": "Bench line", "code": "EDGE-BENCH", "connector_type": "edge"})
ids = [env["mfg.flow"].create({"name": t, "connector_id": connector.id, "canonical_type": t}).id
       for t in ("machine.alarm", "machine.counter", "machine.downtime", "production.confirmation",
                 "production.scrap")]
env.cr.commit()
print(json.dumps({"connector": connector.id, "flows": ids, "company": connector.company_id.id}))
"""
TOKEN = "bench-scrape-token"
NAIVE = """SELECT flow_id, state, count(*),
                  percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms)
             FROM mfg_message GROUP BY flow_id, state"""


def insert(server, ids, rows, state, age_s, prefix):
    """``rows`` messages of state ``state`` received up to ``age_s`` ago, spread over the flows."""
    flows = ids["flows"]
    server.execute(f"""
        INSERT INTO mfg_message (key, source, canonical_type, schema_version, occurred_at, received_at,
               state, direction, connector_id, flow_id, company_id, payload, latency_ms, done_at,
               missing_mappings, last_error, create_date, write_date)
        SELECT '{prefix}-' || g, 'EDGE-BENCH', 'machine.counter', 2,
               now() - (random() * {age_s}) * interval '1 second',
               now() at time zone 'UTC' - (random() * {age_s}) * interval '1 second',
               '{state}', 'in', {ids['connector']}, (ARRAY{flows})[1 + g % {len(flows)}], {ids['company']},
               '{{}}'::jsonb, CASE WHEN '{state}' = 'done' THEN random() * 2000 END,
               CASE WHEN '{state}' = 'done' THEN now() at time zone 'UTC' END,
               CASE WHEN '{state}' = 'exception' AND g % 2 = 0 THEN '[["product", "X", "p"]]'::jsonb END,
               CASE WHEN '{state}' = 'exception' THEN 'No mapping' END,
               now() at time zone 'UTC', now() at time zone 'UTC'
          FROM generate_series(1, {rows}) g""")


def scrape_ms(server, count=15):
    times = []
    for _ in range(count):
        started = time.perf_counter()
        response = requests.get(f"{server.url}/mfg/metrics", timeout=120, headers={
            "Authorization": f"Bearer {TOKEN}", "X-Odoo-Database": server.db})
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text[:300]
    return statistics.median(times), response.text


def naive_ms(server, count=3):
    times = []
    for _ in range(count):
        started = time.perf_counter()
        server.query(NAIVE)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=3_000_000)
    args = parser.parse_args()
    server = OdooServer()
    create_db(server.db, "mfg_integration,mfg_integration_monitoring")

    execute = server.execute
    try:
        ids = odoo_shell(server.db, SETUP)
        digest = hashlib.sha256(TOKEN.encode()).hexdigest()
        execute("INSERT INTO ir_config_parameter (key, value) VALUES "
                "('mfg_integration_monitoring.metrics_token_sha256', %s)", (digest,))
        for state, rows, age, prefix in (("received", 200, 600, "r"), ("failed", 100, 3600, "f"),
                                         ("dead", 100, 86400, "d"), ("exception", 200, 86400, "e"),
                                         ("done", 2000, 240, "w")):
            insert(server, ids, rows, state, age, prefix)
        execute("ANALYZE mfg_message")
        server.start()
        small, text = scrape_ms(server)
        naive_small = naive_ms(server)
        print(f"table with {server.query('SELECT count(*) FROM mfg_message')[0][0]:,} messages: "
              f"/mfg/metrics {small:.1f} ms (median of 15), naive exporter query {naive_small:.1f} ms; "
              f"{len(text.splitlines())} lines", flush=True)
        started = time.perf_counter()
        insert(server, ids, args.rows, "done", 90 * 86400, "old")
        execute("ANALYZE mfg_message")
        size = server.query("SELECT pg_size_pretty(sum(pg_total_relation_size(relid))) "
                            "FROM pg_partition_tree('mfg_message')")[0][0]
        print(f"added {args.rows:,} done messages over 90 days in {time.perf_counter() - started:.0f} s; table "
              f"{size}",
              flush=True)
        big, _text = scrape_ms(server)
        naive_big = naive_ms(server)
        print(f"table with {server.query('SELECT count(*) FROM mfg_message')[0][0]:,} messages: "
              f"/mfg/metrics {big:.1f} ms ({big / small:.2f}x the small table), naive exporter query "
              f"{naive_big:.0f} ms ({naive_big / naive_small:.0f}x)", flush=True)
    finally:
        server.stop()
        drop_db(server.db)


if __name__ == "__main__":
    main()
