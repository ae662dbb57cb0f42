#!/usr/bin/env python3
"""The SAP loop out of Odoo (issue 10): MO completions -> confirmations + goods movements
delivered to the SAP OData simulator, batched vs one call per message, same run.

Same database, same data shape, in one Odoo process (``odoo shell``) with the OData
simulator serving real HTTP on 127.0.0.1:
  (a) baseline: connector with ``sap_batch_size = 1`` on real-time flows - one queue job and
      one HTTP call (POST, or the CSRF handshake + POST) per message;
  (b) ours: micro-batch flows, ``sap_batch_size = 50`` - one ``$batch`` per 50 messages.
Each phase completes ORDERS manufacturing orders (1 component, 1 operation) in Odoo, which
emits 3 messages per order (production.confirmation, material.consumption 261,
goods.receipt 101), then runs the queue jobs the way the runner does (load, perform, done,
commit) until the outbox is empty. Delivery is timed; completion is reported apart. SAP's
ledger is checked: each quantity booked once in both phases.
Usage: .venv/bin/python bench/bench_execution_loop.py [--orders 1000]
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from odoo_harness import create_db, drop_db, odoo_shell  # noqa: E402

SCRIPT = r"""
import json, time
from odoo.addons.queue_job.job import Job
from odoo.addons.mfg_integration_sap.tests.odata_server import ODataSimulator
from odoo.addons.mfg_integration_sap.tests.sap_backend import SapBackend
ORDERS = __ORDERS__
LOOP = ("production.confirmation", "material.consumption", "goods.receipt")
unit = env.ref("uom.product_uom_unit")
bracket = env["product.product"].create({"name": "Bench bracket", "is_storable": True})
bolt = env["product.product"].create({"name": "Bench bolt", "is_storable": True})
wc = env["mrp.workcenter"].create({"name": "Bench assembly", "code": "ASSY-1"})
bom = env["mrp.bom"].create({
    "product_tmpl_id": bracket.product_tmpl_id.id, "product_qty": 1, "consumption": "flexible",
    "bom_line_ids": [(0, 0, {"product_id": bolt.id, "product_qty": 2})],
    "operation_ids": [(0, 0, {"name": "Assembly", "workcenter_id": wc.id, "time_cycle_manual": 1})]})
env["stock.quant"]._update_available_quantity(bolt, env.ref("stock.stock_location_stock"), 10 ** 7)
for code, field, rec, kind in (("SB-200", "product_id", bracket, "product"),
                               ("40000815", "product_id", bolt, "product"),
                               ("ST", "uom_id", unit, "uom")):
    env["mfg.mapping"].create({"mapping_type": kind, "external_code": code, field: rec.id})
backend = SapBackend()
server = ODataSimulator(backend).__enter__()

def connector(code, batch):
    record = env["mfg.connector"].create({
        "name": code, "code": code, "connector_type": "sap_odata", "endpoint_url": server.url,
        "auth_method": "basic", "username": "ODATA_USER", "password": "secret",
        "sap_client": "100", "sap_plant": "1010", "sap_storage_location": "0001",
        "sap_goods_movements": "odoo", "sap_batch_size": batch, "timeout_s": 30})
    for type_name in LOOP:
        env["mfg.flow"].create({
            "name": f"{type_name} to {code}", "connector_id": record.id,
            "canonical_type": type_name, "direction": "out", "ordering_key_field": "order_ref",
            "sync_mode": "micro_batch" if batch > 1 else "realtime", "batch_window_s": 0,
            "active": False})
    return record

def run_all_jobs():
    jobs = 0
    while True:
        pending = env["queue.job"].search([("state", "in", ("pending", "enqueued"))], order="id")
        if not pending:
            return jobs
        for record in pending:
            job = Job.load(env, record.uuid)
            job.set_started(); job.store(); env.cr.commit()
            job.perform(); job.set_done(); job.store(); env.cr.commit()
            jobs += 1

def phase(tag, record):
    record.with_context(active_test=False).flow_ids.active = True
    numbers = [str(2000000 + (0 if tag == "a" else ORDERS) + i) for i in range(ORDERS)]
    for number in numbers:
        backend.add_order(number, qty=10 ** 6)
    mos = env["mrp.production"].create([{"product_id": bracket.id, "product_qty": 5,
                                         "bom_id": bom.id, "mfg_external_ref": n}
                                        for n in numbers])
    mos.action_confirm()
    env.cr.commit()
    started = time.perf_counter()
    for mo in mos:
        mo.qty_producing = 5
        mo._set_qty_producing()
        mo.button_mark_done()
    env.cr.commit()
    completion = time.perf_counter() - started
    messages = env["mfg.message"].search([("connector_id", "=", record.id)])
    requests_before = len(server.requests) if hasattr(server, "requests") else 0
    started = time.perf_counter()
    jobs = run_all_jobs()
    delivery = time.perf_counter() - started
    record.flow_ids.active = False
    env.cr.commit()
    states = {}
    for message in messages:
        states[message.state] = states.get(message.state, 0) + 1
    ledger = backend.ledger()
    booked = [(ledger.get((n, "yield", "")), ledger.get((n, "40000815", "261")),
               ledger.get((n, "SB-200", "101"))) for n in numbers]
    return {"messages": len(messages), "states": states, "jobs": jobs,
            "completion_s": completion, "delivery_s": delivery,
            "rate": len(messages) / delivery,
            "once": all(b == (5.0, 10.0, 5.0) for b in booked)}

result = {"a": phase("a", connector("SAP-ONE", 1)), "b": phase("b", connector("SAP-BATCH", 50))}
server.__exit__(None, None, None)
print(json.dumps(result))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--db", default="mfg_bench_loop")
    args = parser.parse_args()
    print(f"installing mfg_integration_sap into {args.db} ...", flush=True)
    create_db(args.db, "mfg_integration_sap")
    try:
        result = odoo_shell(args.db, SCRIPT.replace("__ORDERS__", str(args.orders)),
                            timeout=3600)
    finally:
        drop_db(args.db)
    a, b = result["a"], result["b"]
    print(f"{args.orders} MO completions per phase, 3 messages each")
    for label, run in (("(a) one call per message ", a), ("(b) batched $batch (ours)", b)):
        print(f"{label}: {run['rate']:8.1f} msg/s delivered ({run['messages']} messages, "
              f"{run['jobs']} jobs, states {run['states']}, each quantity once: {run['once']}; "
              f"completing the MOs took {run['completion_s']:.1f} s)")
    ratio = b["rate"] / a["rate"]
    print(f"ratio (b)/(a) = {ratio:.1f}x   goal >= 10x: {'MET' if ratio >= 10 else 'NOT MET'}")


if __name__ == "__main__":
    main()
