#!/usr/bin/env python3
"""Aggregate ingest with 1 vs 2 Odoo nodes and 1 vs 4 edge bridges, same run (issue 12 §2).

Real parts: two Odoo 19 HTTP nodes (2 workers each) on one database - node A with the
queue_job runner, node B without (``--load base,web``), as ``make cluster`` starts them - and
real ``edge-bridge run`` processes, each with its own edge connector and API user. Each bridge
starts with a backlog of BACKLOG envelopes already in its SQLite outbox (a plant coming back
after a network cut: the case where ingest capacity matters) and delivers it with the shipped
sink settings (batches of 1,000). Flows are scheduled, so the figure is ingest alone, not
processing. With two nodes, the bridges list the nodes in alternating order: each sticks to
its first node and only fails over to the other (README "Several Odoo nodes").

Rate = envelopes stored / (time the last one was stored - time the first one was stored),
both read from Odoo's received_at (whole seconds: hence backlogs that take 10 s or more).
Scenarios: 1 node x 1 bridge, 1 node x 4 bridges, 2 nodes x 1 bridge, 2 nodes x 4 bridges.
Usage: .venv/bin/python bench/bench_nodes.py [--backlog 100000]
"""
import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from edge_bridge.buffer.outbox import Outbox  # noqa: E402
from edge_e2e_helpers import bridge_helpers, setup_edge_connectors  # noqa: E402
from odoo_harness import OdooServer, create_db, drop_db  # noqa: E402

CODES = tuple(f"EDGE-BENCH-{i}" for i in range(1, 5))
SCENARIOS = ((1, 1), (1, 4), (2, 1), (2, 4))


def envelopes(code, run, count):
    return [{"key": f"{run}-{code}-{i}", "type": "machine.counter", "schema_version": 1,
             "source": code, "occurred_at": "2026-12-04T08:00:00+00:00",
             "payload": {"asset": f"PRESS-{i % 40}", "counter": "good", "delta": i % 7,
                         "window_start": "2026-12-04T08:00:00+00:00",
                         "window_end": "2026-12-04T08:01:00+00:00"}} for i in range(count)]


def start_bridge(folder, code, creds, urls, db, run, backlog):
    folder.mkdir(parents=True)
    prefix = bridge_helpers.unique("bench")
    path = bridge_helpers.write_config(
        folder, [bridge_helpers.mqtt_source(1883, bridge_helpers.unique("bench-bridge"), prefix)],
        [{"name": "PRESS-0", "work_center": "WC-PRESS-0",
          "tags": {"cycle_count": {"role": "counter"}}}],
        urls, api_key=creds[code]["key"], batch_size=1000, batch_max_age_s=0.1,
        sink={"db": db, "timeout_s": 60, "backoff_max_s": 1.0},
        buffer={"max_bytes": "2GB"},
        extra={"device": {"code": code, "plant": "P1", "schema_version": 2}})
    outbox = Outbox(str(folder / "buffer.db"))
    outbox.commit(envelopes(code, run, backlog))
    outbox.close()
    return bridge_helpers.BridgeProcess(path, folder / "bridge.log").start()


def run_scenario(nodes, bridges, servers, creds, backlog, workdir):
    run = f"n{nodes}b{bridges}"
    node_urls = [server.url for server in servers[:nodes]]
    processes = []
    for index, code in enumerate(CODES[:bridges]):
        urls = node_urls[index % nodes:] + node_urls[:index % nodes]
        processes.append(start_bridge(workdir / run / code, code, creds, urls, servers[0].db,
                                      run, backlog))
    expected = bridges * backlog
    deadline = time.monotonic() + 900
    try:
        while True:
            count, span = servers[0].query(
                "SELECT count(*), extract(epoch FROM max(received_at) - min(received_at)) "
                "FROM mfg_message WHERE key LIKE %s", (f"{run}-%",))[0]
            if count >= expected or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    finally:
        for process in processes:
            process.terminate()
    assert count == expected, f"{run}: {count} of {expected} stored"
    return {"nodes": nodes, "bridges": bridges, "envelopes": count, "seconds": float(span),
            "rate": count / max(float(span), 1.0)}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backlog", type=int, default=100000)
    args = parser.parse_args()
    bridge_helpers.ensure_shared_broker()
    node_b = OdooServer(extra_args=["--load", "base,web"])
    node_a = OdooServer(db=node_b.db, env={"ODOO_QUEUE_JOB_HOST": "127.0.0.1",
                                           "ODOO_QUEUE_JOB_PORT": str(node_b.port)})
    node_b.log = node_b.log.with_name(f"{node_b.db}-node-b.log")
    create_db(node_a.db)
    results = []
    try:
        creds = setup_edge_connectors(node_a, CODES)
        node_a.execute("UPDATE mfg_flow SET sync_mode = 'scheduled', schedule_interval_min = 100000")
        node_a.start()
        node_b.start()
        with tempfile.TemporaryDirectory() as workdir:
            for nodes, bridges in SCENARIOS:
                result = run_scenario(nodes, bridges, [node_a, node_b], creds, args.backlog,
                                      Path(workdir))
                results.append(result)
                print(f"{nodes} node(s) x {bridges} bridge(s): {result['envelopes']:,} envelopes "
                      f"in {result['seconds']:.1f} s = {result['rate']:,.0f} envelopes/s",
                      flush=True)
        base = results[0]["rate"]
        print("\nratios to 1 node x 1 bridge: " + ", ".join(
            f"{r['nodes']}n x {r['bridges']}b {r['rate'] / base:.2f}x" for r in results))
        print(json.dumps(results))
    finally:
        node_a.stop()
        node_b.stop()
        drop_db(node_a.db)


if __name__ == "__main__":
    main()
