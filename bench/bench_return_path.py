#!/usr/bin/env python3
"""The return path (issue 11): outbound messages fetched from a real Odoo, published on MQTT and
acknowledged by the bridge's return-path stage, batched vs one message per call, same run.

A real Odoo 19 (2 HTTP workers) on a throwaway database with mfg_integration; two edge
connectors, each with an outbound production.order flow (scheduled: no queue job runs, so
``edge_fetch`` validates what it hands out - the path a bridge that polls faster than the
runner takes) and MESSAGES messages in its outbox. Then, each timed from the first fetch to
the last report, with the bridge's own ``ReturnPath`` stage, its SQLite command store and its
MQTT target publishing QoS 1 to the local Mosquitto:
  (a) baseline: ``batch_size: 1`` - one edge_fetch (carrying the previous ack) and one
      edge_report per message: the "one HTTP call per message" way;
  (b) ours: ``batch_size: 500`` - one edge_fetch per 500 messages (ack of the previous batch
      included) and one edge_report per delivered run.
Checked: every message is ``done`` in Odoo and was received by an MQTT subscriber once.
Usage: .venv/bin/python bench/bench_return_path.py [--messages 10000] [--baseline 2000]
"""
import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "edge_bridge"))

import paho.mqtt.client as mqtt  # noqa: E402
from edge_bridge.config import parse_config  # noqa: E402
from edge_bridge.observability import Metrics  # noqa: E402
from edge_bridge.returnpath import CommandStore, ReturnPath  # noqa: E402
from edge_bridge.sink.odoo import make_transport  # noqa: E402
from edge_bridge.targets import target_types  # noqa: E402
from odoo_harness import OdooServer, create_db, drop_db, odoo_shell  # noqa: E402

SETUP = r"""
import json
group = env.ref("mfg_integration.group_mfg_ingest")
out = {}
for code, count in __COUNTS__.items():
    connector = env["mfg.connector"].create({"name": code, "code": code, "connector_type": "edge"})
    env["mfg.flow"].create({"name": "releases", "connector_id": connector.id, "sync_mode": "scheduled",
                            "canonical_type": "production.order", "direction": "out"})
    user = env["res.users"].create({"name": code, "login": code.lower(), "group_ids": [(6, 0, [group.id])]})
    connector.ingest_user_ids = [(4, user.id)]
    key = env["res.users.apikeys"].with_user(user).sudo()._generate("rpc", "bench", None)
    for n in range(count):
        env["mfg.message"].create_outbound(connector, "production.order", {
            "order_ref": f"{code}/MO/{n:05d}", "action": "release", "product": "BRK-100", "qty": 10 + n % 7,
            "uom": "PCE"}, f"{code}-release-{n}")
    out[code] = key
env.cr.commit()
print(json.dumps(out))
"""


class Subscriber:
    def __init__(self, topic):
        self.keys = []
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-sub-{time.time_ns()}",
                                  protocol=mqtt.MQTTv5)
        self.client.on_message = lambda c, u, message: self.keys.append(message.topic)
        self.client.connect("127.0.0.1", 1883)
        self.client.subscribe(topic, qos=1)
        self.client.loop_start()
        time.sleep(0.5)

    def stop(self):
        self.client.loop_stop()
        self.client.disconnect()


def run_stage(server, code, key, batch_size, count, workdir):
    config = parse_config({
        "device": {"code": code}, "buffer": {"path": str(workdir / f"{code}.db")},
        "sink": {"url": server.url, "db": server.db, "api_key": key, "timeout_s": 60},
        "targets": [{"name": "mes", "type": "mqtt", "mqtt": {
            "client_id": f"bench-{code}", "topic": "bench-return/" + code + "/{payload.order_ref}"}}],
        "return_path": {"routes": {"production.order": "mes"}, "batch_size": batch_size,
                        "poll_interval_s": 0.05}}, base_dir=workdir)
    targets = {t.name: target_types()[t.type](t.name, t.settings) for t in config.targets}
    store = CommandStore(config.buffer.path)
    calls = {"n": 0}
    transport = make_transport(config.sink, "bench")
    original = transport.call

    def counted(*args, **kwargs):
        calls["n"] += 1
        return original(*args, **kwargs)
    transport.call = counted
    stage = ReturnPath(config.return_path, code, transport, store, targets, Metrics())
    subscriber = Subscriber(f"bench-return/{code}/#")
    started = time.perf_counter()
    stage.start()
    done = threading.Event()
    while not done.is_set():
        counts = store.counts()
        if counts.get("delivered", 0) + counts.get("refused", 0) >= count:
            done.set()
        else:
            time.sleep(0.05)
    elapsed = time.perf_counter() - started
    stage.stop()
    for target in targets.values():
        target.close()
    time.sleep(0.5)
    subscriber.stop()
    state = store.counts()
    store.close()
    return elapsed, calls["n"], state, len(set(subscriber.keys))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10000)
    parser.add_argument("--baseline", type=int, default=2000,
                        help="messages for the one-per-call baseline (its rate is what is compared)")
    args = parser.parse_args()
    server = OdooServer()
    create_db(server.db, "mfg_integration")
    try:
        print(f"[bench] creating {args.baseline} + {args.messages} outbound messages in {server.db}", flush=True)
        keys = odoo_shell(server.db, SETUP.replace("__COUNTS__", repr(
            {"RP-BASE": args.baseline, "RP-BATCH": args.messages})), timeout=3600)
        server.start()
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            results = {}
            for code, batch, count in (("RP-BASE", 1, args.baseline), ("RP-BATCH", 500, args.messages)):
                elapsed, calls, state, received = run_stage(server, code, keys[code], batch, count, workdir)
                odoo_states = dict(server.query("SELECT state, count(*) FROM mfg_message WHERE source = %s "
                                                "GROUP BY state", (code,)))
                rate = count / elapsed
                results[code] = rate
                print(f"{'one message per call' if batch == 1 else 'batched (500 per fetch)':<26} "
                      f"{count:>6} messages in {elapsed:7.2f} s = {rate:8.1f} msg/s, {calls} calls to Odoo; "
                      f"Odoo {odoo_states}; MQTT received {received}; bridge {state}", flush=True)
                assert odoo_states == {"done": count}, odoo_states
                assert received == count
        print(f"ratio batched / one per call: {results['RP-BATCH'] / results['RP-BASE']:.1f}x")
    finally:
        server.stop()
        drop_db(server.db)


if __name__ == "__main__":
    main()
