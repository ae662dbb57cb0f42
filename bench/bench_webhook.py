#!/usr/bin/env python3
"""Webhook benchmark: do subscriptions slow message processing down, and how fast are
deliveries sent?

In one run, against a scratch database with mfg_integration_webhook installed (measured
in-process through ``odoo-bin shell``, the way the queue job runs the code):
  (a) processing N inbound messages to done with no webhook subscription;
  (b) the same with 3 subscriptions that do not match (other event type): evaluation only;
  (c) the same with 3 matching subscriptions: deliveries created and queued (3 per message);
  (d) sending deliveries to a real local HTTP receiver (200 OK), queue jobs run in-process.
Prints messages/s for (a)-(c), the overhead of (b) and (c) relative to (a), and
deliveries/s for (d). Usage: .venv/bin/python bench/bench_webhook.py [--messages 10000]
"""
import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN_DIR = ROOT / "var"
PY = sys.executable

BENCH = r"""
import json, threading, time, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

N = %(messages)d
DELIVERIES = %(deliveries)d
Message = env["mfg.message"]
connector = env["mfg.connector"].search([("code", "=", "EDGE-WHB")])
if not connector:
    connector = env["mfg.connector"].create({"name": "Webhook bench", "code": "EDGE-WHB",
                                              "connector_type": "edge"})
    env["mfg.flow"].create({"name": "bench alarms", "connector_id": connector.id,
                            "canonical_type": "machine.alarm", "sync_mode": "scheduled",
                            "schedule_interval_min": 100000, "batch_size": 500})
Subscription = env["mfg.webhook.subscription"].with_context(tracking_disable=True)
Subscription.with_context(active_test=False).search([]).unlink()
env.cr.commit()

def envelopes(run):
    return [{"key": f"{run}-{i}", "type": "machine.alarm", "schema_version": 1,
             "source": "EDGE-WHB", "occurred_at": "2026-11-23T08:00:00+00:00",
             "payload": {"asset": f"PRESS-{i %% 7}", "code": "E42", "severity": "critical",
                         "active": True}} for i in range(N)]

def process(run):
    Message.ingest(envelopes(run))
    env.cr.commit()
    messages = Message.search([("source", "=", "EDGE-WHB"), ("key", "=like", f"{run}-%%")],
                              order="id")
    started = time.perf_counter()
    for start in range(0, len(messages), 500):
        messages[start:start + 500]._job_process()
        env.cr.commit()  # as the job runner does after each job: deliveries are created here
        env.invalidate_all()
    elapsed = time.perf_counter() - started
    done = Message.search_count([("id", "in", messages.ids), ("state", "=", "done")])
    assert done == N, (done, N)
    return N / elapsed

def subscribe(types, url="http://127.0.0.1:9/unused"):
    kinds = env["mfg.webhook.event.type"].search([("name", "in", types)])
    for index in range(3):
        Subscription.create({"name": f"bench {index}", "target_url": url,
                             "event_type_ids": [(6, 0, kinds.ids)],
                             "message_domain": "[('source', '=', 'EDGE-WHB')]"})
    env.cr.commit()

result = {}
run = uuid.uuid4().hex[:8]
result["a_no_subscription"] = process(run + "a")
subscribe(["production.scrap"])
result["b_non_matching"] = process(run + "b")
Subscription.search([]).unlink()
subscribe(["machine.alarm"])
result["c_matching"] = process(run + "c")
created = env["mfg.webhook.delivery"].search_count([("message_id.key", "=like", run + "c-%%")])
result["c_deliveries_created"] = created

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
Subscription.search([]).write({"target_url": f"http://127.0.0.1:{server.server_port}/hook"})
env.cr.commit()
deliveries = env["mfg.webhook.delivery"].search([("state", "=", "pending")], order="id",
                                                 limit=DELIVERIES)
started = time.perf_counter()
for start in range(0, len(deliveries), 50):
    deliveries[start:start + 50]._job_deliver()
    env.cr.commit()
elapsed = time.perf_counter() - started
sent = env["mfg.webhook.delivery"].search_count([("id", "in", deliveries.ids),
                                                 ("state", "=", "done")])
result["d_deliveries_per_s"] = sent / elapsed
result["d_sent"] = sent
server.shutdown()
env["queue.job"].search([("model_name", "=", "mfg.webhook.delivery")]).unlink()
env.cr.commit()
print(json.dumps(result))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="mfg_wh_bench")
    parser.add_argument("--messages", type=int, default=10000)
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    src = (RUN_DIR / "odoo_src").read_text().strip()
    conf = str(RUN_DIR / "odoo.conf")
    subprocess.run(["dropdb", "-h", "127.0.0.1", "--if-exists", args.db], check=True)
    print(f"installing mfg_integration_webhook into {args.db} ...", flush=True)
    subprocess.run([PY, f"{src}/odoo-bin", "-c", conf, "-d", args.db, "-i",
                    "mfg_integration_webhook", "--stop-after-init", "--log-level", "warn"],
                   check=True)
    try:
        out = subprocess.run(
            [PY, f"{src}/odoo-bin", "shell", "-c", conf, "-d", args.db, "--log-level", "warn",
             "--no-http"],
            input=BENCH % {"messages": args.messages, "deliveries": args.deliveries},
            capture_output=True, text=True, check=True).stdout
        result = json.loads([line for line in out.splitlines() if line.startswith("{")][-1])
    finally:
        if not args.keep_db:
            subprocess.run(["dropdb", "-h", "127.0.0.1", "--if-exists", args.db], check=False)
    base = result["a_no_subscription"]
    print(f"messages processed to done, {args.messages} per variant (messages/s):")
    print(f"  (a) no webhook subscription          {base:8.0f}")
    for label, key in (("(b) 3 subscriptions, none matching  ", "b_non_matching"),
                       ("(c) 3 matching (3 deliveries/msg)   ", "c_matching")):
        value = result[key]
        print(f"  {label} {value:8.0f}   ({(base / value - 1) * 100:+.1f} % time vs (a))")
    print(f"  deliveries created in (c): {result['c_deliveries_created']}")
    print(f"(d) deliveries sent to a local receiver: {result['d_sent']} at "
          f"{result['d_deliveries_per_s']:.0f}/s")


if __name__ == "__main__":
    main()
