#!/usr/bin/env python3
"""Confirmations applied per second (issue 4): chunked jobs vs one queue job per message.

Same run, same database, same data shape: ORDERS manufacturing orders each receive
PER_ORDER partial `production.confirmation` messages (good quantity deltas).
  (a) baseline: every message gets its own queue_job job, performed and committed one by one
      (what a naive "one job per message" design does);
  (b) ours: the messages are ingested in one call and processed by the chunked jobs the
      ingest created (500 messages per job, one ordering-key group never split).
Both run the jobs the way the runner does (Job.load -> perform -> set_done -> commit), in
process, so the difference is the design, not HTTP. Prints messages/s and the ratio.
Usage: .venv/bin/python bench/bench_mrp_apply.py [--orders 20 --per-order 25]
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from odoo_harness import create_db, drop_db, odoo_shell  # noqa: E402

SCRIPT = r"""
import json, time
from odoo.addons.queue_job.job import Job
ORDERS, PER_ORDER = __ORDERS__, __PER_ORDER__
unit = env.ref("uom.product_uom_unit")
product = env["product.product"].create({"name": "Bench bracket", "is_storable": True})
wc = env["mrp.workcenter"].create({"name": "Bench press", "code": "BP"})
connector = env["mfg.connector"].create({"name": "Bench edge", "code": "EDGE-BENCH",
                                         "connector_type": "edge"})
env["mfg.flow"].create({"name": "confirmations", "connector_id": connector.id,
                        "canonical_type": "production.confirmation",
                        "ordering_key_field": "order_ref"})
for kind, code, field, rec in (("product", "P", "product_id", product),
                               ("uom", "PCE", "uom_id", unit),
                               ("work_center", "WC", "workcenter_id", wc)):
    env["mfg.mapping"].create({"mapping_type": kind, "external_code": code, field: rec.id})
env.cr.commit()

def orders(tag):
    mos = env["mrp.production"].create([{"product_id": product.id, "product_qty": 10000}
                                        for _ in range(ORDERS)])
    mos.action_confirm()
    env.cr.commit()
    return mos

def envelopes(tag, mos):
    return [{"key": f"{tag}-{mo.id}-{i}", "type": "production.confirmation",
             "schema_version": 1, "source": "EDGE-BENCH",
             "occurred_at": f"2026-11-23T08:{i // 60:02d}:{i % 60:02d}+00:00",
             "payload": {"order_ref": mo.name, "work_center": "WC", "event": "quantity",
                         "qty_good": 2, "qty_scrap": 0, "uom": "PCE", "final": False}}
            for i in range(PER_ORDER) for mo in mos]

def perform_pending():
    jobs = env["queue.job"].search([("model_name", "=", "mfg.message"),
                                    ("state", "=", "pending")], order="id")
    for record in jobs:
        job = Job.load(env, record.uuid)
        job.set_started(); job.store(); env.cr.commit()
        job.perform(); job.set_done(); job.store(); env.cr.commit()
    return len(jobs)

Message = env["mfg.message"]
# (a) one job per message: store the messages without their chunk jobs, then queue one each
mos_a = orders("a")
Message.ingest(envelopes("a", mos_a))
env["queue.job"].search([("model_name", "=", "mfg.message"), ("state", "=", "pending")]).unlink()
env.cr.commit()
started = time.perf_counter()
for message in Message.search([("key", "like", "a-%")], order="occurred_at, id"):
    message.with_delay()._job_process()
env.cr.commit()
jobs_a = perform_pending()
elapsed_a = time.perf_counter() - started
done_a = Message.search_count([("key", "like", "a-%"), ("state", "=", "done")])
# (b) ours
mos_b = orders("b")
started = time.perf_counter()
Message.ingest(envelopes("b", mos_b))
env.cr.commit()
jobs_b = perform_pending()
elapsed_b = time.perf_counter() - started
done_b = Message.search_count([("key", "like", "b-%"), ("state", "=", "done")])
same = [round(m.mfg_reported_good_qty, 3) for m in mos_a] == [round(m.mfg_reported_good_qty, 3) for m in mos_b]
print(json.dumps({"a": done_a / elapsed_a, "b": done_b / elapsed_b, "jobs_a": jobs_a,
                  "jobs_b": jobs_b, "done_a": done_a, "done_b": done_b, "same": same,
                  "qty": mos_b[0].mfg_reported_good_qty}))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=20)
    parser.add_argument("--per-order", type=int, default=25)
    parser.add_argument("--db", default="mfg_bench_mrp")
    args = parser.parse_args()
    print(f"installing mfg_integration_mrp into {args.db} ...", flush=True)
    create_db(args.db, "mfg_integration_mrp")
    try:
        result = odoo_shell(args.db, SCRIPT.replace("__ORDERS__", str(args.orders))
                            .replace("__PER_ORDER__", str(args.per_order)))
    finally:
        drop_db(args.db)
    total = args.orders * args.per_order
    print(f"{total} confirmations on {args.orders} orders")
    print(f"(a) one queue job per message : {result['a']:8.1f} msg/s "
          f"({result['jobs_a']} jobs, {result['done_a']} done)")
    print(f"(b) chunked jobs (ours)       : {result['b']:8.1f} msg/s "
          f"({result['jobs_b']} jobs, {result['done_b']} done)")
    print(f"same end state in both runs   : {result['same']} "
          f"(reported good per order {result['qty']})")
    print(f"ratio (b)/(a) = {result['b'] / result['a']:.1f}x   goal >= 10x: "
          f"{'MET' if result['b'] / result['a'] >= 10 else 'NOT MET'}")


if __name__ == "__main__":
    main()
