#!/usr/bin/env python3
"""Critical alarms while Odoo drains a backlog (issue 11 §4): PLC alarm raised -> its message
*applied* (state done) in a real Odoo, with the priority lane (critical messages applied within
the ingest call) vs without it (they wait in the queue), same run.

A real Odoo 19 (2 HTTP workers + its queue_job runner) on a throwaway database with
mfg_integration; an edge connector with flows for every type the bridge emits. Each phase:
  1. the bridge's buffer holds a 10-minute outage (600,000 MQTT readings at 1,000/s from 10
     machines -> ~24,000 events) and delivers it into Odoo: Odoo now has its jobs to process;
  2. at once, the real bridge (OPC UA PLC simulator + 1,000 msg/s MQTT background) gets 40 alarm
     changes on the PLC; for the 20 raised (critical) ones, the time from the PLC value change to
     the message being done in Odoo (polled every 10 ms on committed rows).
Phases: (A) the queue only (``apply_critical_at_ingest`` off), queue_job may use both workers
(``root:2``, the dev default); (B) the lane on, same capacity; (C) the lane on with the job
runner capped at one worker (``root:1``): one HTTP worker is always free for ingest - the
reserved capacity the lane needs (README "Configuration notes").
Usage: .venv/bin/python bench/bench_priority_lane.py
"""
import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from edge_e2e_helpers import setup_edge_connectors  # noqa: E402
from odoo_harness import OdooServer, create_db, drop_db  # noqa: E402

import bench_edge  # noqa: E402

CODE = "EDGE-LANE"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only-reserved", action="store_true", help="phase C only")
    args_ = parser.parse_args()
    server = OdooServer()
    create_db(server.db, "mfg_integration")
    try:
        creds = setup_edge_connectors(server, [CODE])[CODE]
        args = argparse.Namespace(odoo_url=server.url, db=server.db, api_key=creds["key"], device=CODE,
                                  login=creds["login"], odoo_db_dsn=None)
        sink = bench_edge.Sink(args)
        sink.until = "done"
        start = time.time() - 3600
        with tempfile.TemporaryDirectory() as tmpdir:
            tmp = Path(tmpdir)
            broker = bench_edge.PrivateBroker(tmp).start()
            try:
                phases = [(False, "root:2", "(A) queue only, jobs on 2 workers"),
                          (True, "root:2", "(B) lane, jobs on 2 workers"),
                          (True, "root:1", "(C) lane, jobs on 1 worker")]
                if args_.only_reserved:
                    phases = phases[2:]
                for phase, (lane, channels, label) in enumerate(phases):
                    if os.environ.get("ODOO_QUEUE_JOB_CHANNELS") != channels:
                        server.stop()
                        os.environ["ODOO_QUEUE_JOB_CHANNELS"] = channels    # read by queue_job's runner
                        server.start()
                    with sink.pg().cursor() as cur:     # autocommit
                        cur.execute("UPDATE mfg_flow SET apply_critical_at_ingest = %s", (lane,))
                    (tmp / f"drain{phase}").mkdir()
                    backlog, committed, _tally, drain_s = bench_edge.delivery_and_backlog(
                        tmp / f"drain{phase}", sink, start - (phase + 1) * 200_000)
                    jobs = sink.jobs_pending()
                    p50, p95, worst, events = bench_edge.latency(tmpdir, broker, sink, f"lat{phase}",
                                                                 raised_only=True)
                    print(f"{label:<36} backlog {backlog:,} events delivered in {drain_s:.1f} s, "
                          f"{jobs:,} queue jobs pending at start; raised alarm PLC -> done in Odoo: "
                          f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {worst:.0f} ms "
                          f"(20 alarms; {events:.0f} events delivered meanwhile)", flush=True)
                    sink.settle(900)
            finally:
                broker.stop()
                sink.close()
    finally:
        server.stop()
        drop_db(server.db)


if __name__ == "__main__":
    main()
