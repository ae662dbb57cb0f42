"""Several Odoo nodes (issue 12 §2): two HTTP nodes on one database, the queue_job runner on
exactly one of them, two edge bridges pushing to both (``sink.url`` as a list, bridge-side
fail-over). The node that runs the jobs is killed (-9) while the bridges push and restarted:
nothing lost, nothing duplicated, the bridges fail over to the other node, the jobs the kill
interrupted are requeued by queue_job's own dead-job check, every message ends done.

Topology (docs: README "Several Odoo nodes"): node A = HTTP + the job runner, which sends the
jobs to node B (``ODOO_QUEUE_JOB_PORT``); node B = HTTP only (``--load base,web``: no runner).
So killing B interrupts both ingest calls and running jobs.
"""
import threading
import time

import paho.mqtt.client as mqtt
import pytest
import requests

from edge_e2e_helpers import bridge_helpers, outbox_rows, setup_edge_connectors, wait_all_done
from odoo_harness import OdooServer, create_db, drop_db

CODES = ("EDGE-NODE-1", "EDGE-NODE-2")
ASSETS = [f"M{i}" for i in range(6)]


@pytest.fixture(scope="module")
def nodes():
    node_b = OdooServer(extra_args=["--load", "base,web"])
    node_a = OdooServer(db=node_b.db, env={"ODOO_QUEUE_JOB_HOST": "127.0.0.1",
                                           "ODOO_QUEUE_JOB_PORT": str(node_b.port)})
    node_b.log = node_b.log.with_name(f"{node_b.db}-node-b.log")
    create_db(node_a.db)
    try:
        creds = setup_edge_connectors(node_a, CODES)
        node_b.start()
        node_a.start()
        yield node_a, node_b, creds
    finally:
        node_a.stop()
        node_b.stop()
        drop_db(node_a.db)


def bridge(tmp_path, code, creds, urls, db):
    prefix = bridge_helpers.unique("mn")
    assets = [{"name": name, "work_center": f"WC-{name}", "tags": {
        "cycle_count": {"role": "counter"}, "temperature": {"role": "measurement", "unit": "C"}}}
        for name in ASSETS]
    path = bridge_helpers.write_config(
        tmp_path, [bridge_helpers.mqtt_source(1883, bridge_helpers.unique("mn-bridge"), prefix)], assets,
        urls, api_key=creds[code]["key"], window_s=0.5, grace_s=0.2, batch_max_age_s=0.1,
        sink={"db": db, "timeout_s": 10, "backoff_max_s": 1.0},
        extra={"device": {"code": code, "plant": "P1", "schema_version": 2}})
    return bridge_helpers.BridgeProcess(path, tmp_path / "bridge.log").start(), prefix


def publish(prefix, seconds, stop):
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=bridge_helpers.unique("mn-pub"))
    client.connect("127.0.0.1", 1883)
    client.loop_start()
    seq, started = 0, time.time()
    while time.time() - started < seconds and not stop.is_set():
        for asset in ASSETS:
            seq += 1
            for tag, value in (("cycle_count", seq), ("temperature", 20 + seq % 7)):
                client.publish(f"{prefix}/{asset}/{tag}", (
                    f'{{"asset": "{asset}", "tag": "{tag}", "value": {value}, "ts": {time.time()}, '
                    f'"seq": {seq}}}'), qos=1)
        time.sleep(0.05)
    client.loop_stop()
    client.disconnect()


def test_a_node_killed_while_bridges_push_loses_and_doubles_nothing(tmp_path, nodes):
    bridge_helpers.ensure_shared_broker()
    node_a, node_b, creds = nodes
    urls = [node_b.url, node_a.url]
    bridges, stop = [], threading.Event()
    for code in CODES:
        (tmp_path / code).mkdir()
        bridges.append((code, *bridge(tmp_path / code, code, creds, urls, node_a.db)))
    publishers = [threading.Thread(target=publish, args=(prefix, 14, stop)) for _c, _b, prefix in bridges]
    for thread in publishers:
        thread.start()
    try:
        time.sleep(4)
        running = node_a.query("SELECT count(*) FROM queue_job WHERE state = 'started'")[0][0]
        node_b.kill()                              # ingest calls and running jobs die with it
        time.sleep(5)
        node_b.start()
        for thread in publishers:
            thread.join(60)
        for code, process, _prefix in bridges:
            bridge_helpers.wait_until(lambda p=process: p.health()["buffer_pending"] == 0, 120,
                                      f"{code} drained")
        for code, process, _prefix in bridges:
            states = wait_all_done(node_a, code, timeout=240)
            rows = outbox_rows(process.config_path.parent / "buffer.db")
            keys = [key for key, _type, state in rows]
            assert {state for _k, _t, state in rows} == {"delivered"}
            stored = node_a.query("SELECT key FROM mfg_message WHERE source = %s", (code,))
            assert sorted(key for (key,) in stored) == sorted(keys), "every event once, nothing else"
            assert sum(states.values()) == len(keys) > 50
            assert "Odoo node unavailable" in process.log_path.read_text(), "the bridge failed over"
        if running:     # jobs were running on node B when it died: queue_job found them dead
            assert "Re-queued dead job" in node_a.log.read_text()
    finally:
        stop.set()
        for _code, process, _prefix in bridges:
            if process.process.poll() is None:
                process.terminate()


def test_the_same_batch_sent_to_both_nodes_at_once_is_stored_once(nodes):
    """Exact dedup across nodes and partitions: two nodes race with the same keys (a bridge's
    retry after a time-out landing while the first call still runs); the key table decides."""
    node_a, node_b, creds = nodes
    code = CODES[0]
    for round_ in range(3):
        batch = [{"key": f"race-{round_}-{i}", "type": "machine.counter", "schema_version": 1,
                  "source": code, "occurred_at": "2026-12-04T08:00:00+00:00",
                  "payload": {"asset": "M1", "counter": "good", "delta": 1,
                              "window_start": "2026-12-04T08:00:00+00:00",
                              "window_end": "2026-12-04T08:01:00+00:00"}} for i in range(2000)]
        barrier, answers = threading.Barrier(2), {}

        def send(node, batch=batch, barrier=barrier, answers=answers):
            barrier.wait()
            response = requests.post(f"{node.url}/json/2/mfg.message/ingest", timeout=120,
                                     json={"envelopes": batch}, headers={
                                         "Authorization": f"bearer {creds[code]['key']}",
                                         "X-Odoo-Database": node.db})
            answers[node.port] = response

        threads = [threading.Thread(target=send, args=(node,)) for node in (node_a, node_b)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(180)
        results = [answer.json() for answer in answers.values()]
        assert all(answer.status_code == 200 for answer in answers.values()), results
        assert sum(r["accepted"] for r in results) == 2000, results
        assert sum(r["duplicates"] for r in results) == 2000, results
        stored = node_a.query("SELECT count(*), count(DISTINCT key) FROM mfg_message "
                              "WHERE source = %s AND key LIKE %s", (code, f"race-{round_}-%"))
        assert stored == [(2000, 2000)]
