#!/usr/bin/env python3
"""Ingest benchmark (issue 2): how many envelopes per second reach the inbox.

In one run, same machine, same database, against a real Odoo 19 started by this script:
  (a) naive: one JSON-2 ``mfg.message/create`` call per envelope;
  (b) naive queue: one ORM create + one queue_job job per envelope (measured in-process
      through ``odoo-bin shell``, i.e. without any HTTP cost, an upper bound for (b));
  (c) ours: ``mfg.message/ingest`` over JSON-2 with 10,000-envelope batches incl. 10 %
      duplicates (also measured in-process, to show what HTTP/JSON costs).
Prints envelopes/s for each and the ratios. Usage: .venv/bin/python bench/bench_ingest.py
"""
import argparse
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
RUN_DIR = ROOT / "var"
PY = sys.executable


def odoo_src():
    return (RUN_DIR / "odoo_src").read_text().strip()


def envelope(i, run):
    return {"key": f"{run}-{i}", "type": "machine.counter", "schema_version": 1,
            "source": "EDGE-BENCH", "occurred_at": "2026-11-23T08:00:00+00:00",
            "payload": {"asset": "PRESS1", "counter": "cycles", "delta": len(str(i)),
                        "window_start": "2026-11-23T08:00:00+00:00",
                        "window_end": "2026-11-23T08:01:00+00:00"}}


def shell(db, code):
    cmd = [PY, f"{odoo_src()}/odoo-bin", "shell", "-c", str(RUN_DIR / "odoo.conf"), "-d", db,
           "--log-level", "warn", "--no-http"]
    out = subprocess.run(cmd, input=code, capture_output=True, text=True, check=True).stdout
    return json.loads([line for line in out.splitlines() if line.startswith("{")][-1])


SETUP = """
import json
c = env["mfg.connector"].search([("code", "=", "EDGE-BENCH")])
if not c:
    c = env["mfg.connector"].create({"name": "Bench", "code": "EDGE-BENCH", "connector_type": "edge"})
    env["mfg.flow"].create({"name": "bench counters", "connector_id": c.id,
                            "canonical_type": "machine.counter", "sync_mode": "scheduled",
                            "schedule_interval_min": 100000})
admin = env.ref("base.user_admin")
key = env["res.users.apikeys"].with_user(admin).sudo()._generate("rpc", "bench", None)
env.cr.commit()
print(json.dumps({"key": key}))
"""

IN_PROCESS = """
import json, time
from odoo.addons.mfg_integration.models.mfg_message_processing import _lock_id
run, n_b, batch, batches = %r, %d, %d, %d
def envelope(i):
    return {"key": f"{run}-{i}", "type": "machine.counter", "schema_version": 1,
            "source": "EDGE-BENCH", "occurred_at": "2026-11-23T08:00:00+00:00",
            "payload": {"asset": "PRESS1", "counter": "cycles", "delta": len(str(i)),
                        "window_start": "2026-11-23T08:00:00+00:00",
                        "window_end": "2026-11-23T08:01:00+00:00"}}
connector = env["mfg.connector"].search([("code", "=", "EDGE-BENCH")])
flow = connector.flow_ids[:1]
Message = env["mfg.message"]
started = time.perf_counter()
for i in range(n_b):
    e = envelope(f"b{i}")
    m = Message.create({"key": e["key"], "source": e["source"], "canonical_type": e["type"],
                        "schema_version": 1, "occurred_at": "2026-11-23 08:00:00",
                        "payload": e["payload"], "connector_id": connector.id, "flow_id": flow.id,
                        "company_id": connector.company_id.id, "name": e["key"]})
    m.with_delay(channel="root.bench")._job_process()
    env.cr.commit()
b_rate = n_b / (time.perf_counter() - started)
started = time.perf_counter()
total = 0
for j in range(batches):
    envs = [envelope(f"c{j}-{i}") for i in range(batch - batch // 10)]
    envs += envs[: batch // 10]
    result = Message.ingest(envs)
    env.cr.commit()
    total += len(envs)
c_rate = total / (time.perf_counter() - started)
print(json.dumps({"b": b_rate, "c_inproc": c_rate}))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default="mfg_bench")
    parser.add_argument("--port", type=int, default=8269)
    parser.add_argument("--naive", type=int, default=1000, help="envelopes for (a)")
    parser.add_argument("--naive-queue", type=int, default=2000, help="envelopes for (b)")
    parser.add_argument("--batches", type=int, default=10, help="10k batches for (c)")
    args = parser.parse_args()
    src = odoo_src()
    run = uuid.uuid4().hex[:8]
    subprocess.run(["dropdb", "-h", "127.0.0.1", "--if-exists", args.db], check=True)
    print(f"installing mfg_integration into {args.db} ...", flush=True)
    subprocess.run([PY, f"{src}/odoo-bin", "-c", str(RUN_DIR / "odoo.conf"), "-d", args.db,
                    "-i", "mfg_integration", "--stop-after-init", "--log-level", "warn"],
                   check=True, capture_output=True)
    key = shell(args.db, SETUP)["key"]
    server = subprocess.Popen(
        [PY, f"{src}/odoo-bin", "-c", str(RUN_DIR / "odoo.conf"), "-d", args.db,
         "--db-filter", f"^{args.db}$", "--http-port", str(args.port), "--workers", "0",
         "--max-cron-threads", "0", "--log-level", "warn",
         "--logfile", str(RUN_DIR / "bench-odoo.log")])
    base = f"http://127.0.0.1:{args.port}"
    try:
        for _ in range(60):
            try:
                if requests.get(f"{base}/web/health", timeout=2).ok:
                    break
            except requests.RequestException:
                time.sleep(1)
        session = requests.Session()
        session.headers.update({"Authorization": f"bearer {key}", "X-Odoo-Database": args.db,
                                "Content-Type": "application/json"})
        connector_id = session.post(f"{base}/json/2/mfg.connector/search",
                                    data=json.dumps({"domain": [["code", "=", "EDGE-BENCH"]]})
                                    ).json()[0]
        company_id = session.post(f"{base}/json/2/res.users/read", data=json.dumps(
            {"ids": [2], "fields": ["company_id"]})).json()[0]["company_id"][0]
        # (a) one JSON-2 create per envelope
        started = time.perf_counter()
        for i in range(args.naive):
            e = envelope(f"a{i}", run)
            response = session.post(f"{base}/json/2/mfg.message/create", data=json.dumps({
                "vals_list": [{"key": e["key"], "source": e["source"], "name": e["key"],
                               "canonical_type": e["type"], "schema_version": 1,
                               "occurred_at": "2026-11-23 08:00:00", "payload": e["payload"],
                               "connector_id": connector_id, "company_id": company_id}]}))
            response.raise_for_status()
        a_rate = args.naive / (time.perf_counter() - started)
        print(f"(a) JSON-2 create per envelope : {a_rate:10.0f} envelopes/s", flush=True)
        # (c) our batch ingest over JSON-2
        total = accepted = dups = 0
        started = time.perf_counter()
        for j in range(args.batches):
            envs = [envelope(f"c{j}-{i}", run) for i in range(9000)]
            envs += envs[:1000]
            body = json.dumps({"envelopes": envs})
            result = session.post(f"{base}/json/2/mfg.message/ingest", data=body).json()
            total += len(envs)
            accepted += result["accepted"]
            dups += result["duplicates"]
        c_rate = total / (time.perf_counter() - started)
        assert accepted == 9000 * args.batches and dups == 1000 * args.batches, (accepted, dups)
        print(f"(c) ingest, 10k batches, JSON-2: {c_rate:10.0f} envelopes/s "
              f"({accepted} accepted, {dups} duplicates)", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
    inproc = shell(args.db, IN_PROCESS % (run, args.naive_queue, 10000, 3))
    b_rate = inproc["b"]
    print(f"(b) create + 1 queue job each  : {b_rate:10.0f} envelopes/s (in-process, no HTTP)")
    print(f"(c') ingest in-process          : {inproc['c_inproc']:10.0f} envelopes/s")
    print(f"ratio (c)/(a) = {c_rate / a_rate:6.1f}x   ratio (c)/(b) = {c_rate / b_rate:6.1f}x   "
          f"goal (c) >= 10,000/s: {'MET' if c_rate >= 10000 else 'NOT MET'}")
    subprocess.run(["dropdb", "-h", "127.0.0.1", "--if-exists", args.db], check=False)


if __name__ == "__main__":
    main()
