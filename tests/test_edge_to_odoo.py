"""End to end: simulator (OPC UA PLC + MQTT MES) -> ``edge-bridge run`` -> a real Odoo 19 with
mfg_integration, its queue_job runner and 2 HTTP workers.

What a correct chain must show, checked on Odoo's database: every ground-truth event is stored
exactly once (count(*) = count(DISTINCT key), per-type counts = the bridge's outbox, counter
deltas / scrap per reason / stops / alarms = the simulator's truth), is processed to ``done``
(flows and mappings exist for every emitted type and code), and the edge connector shows the
heartbeat. Then the same under faults: kill -9 of the bridge at random points, Odoo down for a
while; and over the legacy /jsonrpc transport. Issue 8 (one bad value never stalls a plant): a
PLC tag reading NaN every 2 s while the line runs (every other event exactly once, the NaN
readings in the bridge's dead letter with the reason), and Odoo refusing with a 500 every batch
that holds one marked envelope, through a small real HTTP proxy in front of the real Odoo (the
rest exactly once, the marked envelope in the dead letter with Odoo's reason).

Each test has its own connector code (its own ``source``), so they never see each other's rows;
they share one Odoo (session fixture ``odoo_server``) and therefore run one after the other.
"""
import gzip
import json
import random
import sqlite3
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import edge_bridge
import pytest
import requests
import yaml
from edge_bridge.config import SinkConfig
from edge_bridge.simulator.run import Simulation

from edge_e2e_helpers import (
    assert_odoo_holds_exactly,
    bridge_helpers,
    bridge_status,
    connector_row,
    ensure_running,
    odoo_count,
    odoo_envelopes,
    outbox_rows,
    setup_edge_connectors,
    wait_all_done,
)

BridgeProcess = bridge_helpers.BridgeProcess
PrivateBroker = bridge_helpers.PrivateBroker
asset_block, mqtt_source, opcua_source = (bridge_helpers.asset_block, bridge_helpers.mqtt_source,
                                          bridge_helpers.opcua_source)
free_port, unique, wait_until = bridge_helpers.free_port, bridge_helpers.unique, bridge_helpers.wait_until

CODES = {"run": "EDGE-E2E-RUN", "kill": "EDGE-E2E-KILL", "outage": "EDGE-E2E-OUTAGE",
         "jsonrpc": "EDGE-E2E-RPC", "gzip": "EDGE-E2E-GZIP", "nan": "EDGE-E2E-NAN", "poison": "EDGE-E2E-POISON"}


@pytest.fixture(scope="module")
def odoo(odoo_server):
    """The session's Odoo, running, with one edge connector (+ flows, API user, mappings) per test."""
    odoo_server.creds = setup_edge_connectors(odoo_server, CODES.values())
    bridge_helpers.ensure_shared_broker()
    ensure_running(odoo_server)
    return odoo_server


def bridge_config(tmp_path, odoo, code, sources, assets, protocol="json2", **sink):
    creds = odoo.creds[code]
    batch_size, batch_max_age_s = sink.pop("batch_size", 200), sink.pop("batch_max_age_s", 0.2)
    sink_conf = {"db": odoo.db, "protocol": protocol, **sink}
    if protocol == "jsonrpc":
        sink_conf["login"] = creds["login"]
    return bridge_helpers.write_config(
        tmp_path, sources, assets, odoo.url, api_key=creds["key"], batch_size=batch_size,
        batch_max_age_s=batch_max_age_s, sink=sink_conf, extra={"device": {"code": code, "plant": "P1"}})


def stop_all(bridge, sim, *brokers):
    if bridge is not None and bridge.process is not None and bridge.process.poll() is None:
        bridge.kill()
    if sim is not None:
        sim.stop()
    for broker in brokers:
        broker.stop()


def wait_heartbeat_depth_zero(odoo, code, timeout=30):
    """The connector in Odoo shows the bridge alive, at our version, with an empty buffer."""
    def seen():
        row = connector_row(odoo, code)
        return row if row and row[0] and row[2] == 0 else None
    row = wait_until(seen, timeout, f"heartbeat of {code} with buffer depth 0", interval=0.3)
    assert row[1] == edge_bridge.__version__
    return row


# 1 -----------------------------------------------------------------------------------------
def test_plc_and_mes_events_reach_odoo_exactly_once_and_get_processed(tmp_path, odoo):
    code = CODES["run"]
    prefix = unique("e2e-mes")
    sim = Simulation(seed=7, rate=300, duration=6, scenario="breakdowns", opcua_port=free_port(),
                     mqtt_port=1883, mqtt_prefix=prefix, mqtt_client_id=unique("e2e-sim")).start()
    bridge = None
    try:
        config = bridge_config(tmp_path, odoo, code,
                               [opcua_source(sim.plc.endpoint), mqtt_source(1883, unique("e2e-edge"), prefix)],
                               [asset_block("PRESS1", False), asset_block("PACK1", True)])
        bridge = BridgeProcess(config, tmp_path / "bridge.log").start()
        sim.play()
        sim.wait_sent(40)
        bridge.wait_quiet("plc1")
        bridge.wait_quiet("mes")
        wait_heartbeat_depth_zero(odoo, code)
        assert bridge.terminate() == 0, bridge.log_tail()
        types = assert_odoo_holds_exactly(odoo, code, sim.truth, tmp_path / "buffer.db", ["PRESS1", "PACK1"],
                                          extra_samples={"PRESS1": 1})
        # The breakdowns scenario exercises every emitted type.
        assert set(types) == {"machine.counter", "production.confirmation", "production.scrap",
                              "machine.measurement", "machine.downtime", "machine.alarm"}, types
        wait_all_done(odoo, code)
        mapped = odoo.query("SELECT count(*) FROM mfg_message WHERE source = %s AND canonical_type IN "
                            "('production.scrap', 'production.confirmation', 'machine.downtime') "
                            "AND mapped_values IS NOT NULL", (code,))[0][0]
        assert mapped == sum(types[t] for t in ("production.scrap", "production.confirmation",
                                                 "machine.downtime"))
        last_seen, version, _depth = connector_row(odoo, code)
        assert last_seen is not None and version == edge_bridge.__version__
    finally:
        stop_all(bridge, sim)


# 2 -----------------------------------------------------------------------------------------
def test_kill_9_at_random_points_leaves_odoo_with_exactly_the_truth(tmp_path, odoo):
    """kill -9 mid-batch / mid-window / mid-push (seeded instants), restart, three times.

    MQTT only, on a private persistent broker: the MES keeps publishing while the bridge is
    down and the broker holds the session's messages; OPC UA subscriptions cannot replay what
    happened while nobody listened (README), so the PLC is left out of this exactness check.
    """
    code = CODES["kill"]
    broker = PrivateBroker(tmp_path).start()
    prefix = unique("e2e-mes")
    sim = bridge = None
    rng = random.Random(20240611)
    try:
        sim = Simulation(seed=11, rate=400, duration=8, scenario="breakdowns", mqtt_port=broker.port,
                         mqtt_prefix=prefix, mqtt_client_id=unique("e2e-sim")).start()
        config = bridge_config(tmp_path, odoo, code, [mqtt_source(broker.port, unique("e2e-edge"), prefix)],
                               [asset_block("PACK1", True)], batch_size=50, batch_max_age_s=0.05)
        bridge = BridgeProcess(config, tmp_path / "bridge.log").start()
        sim.play()
        stored_at_kill, resent = [], []

        def resent_figures():       # what each bridge process found already done (its metrics)
            return (bridge.metric("edge_events_duplicate_total"), bridge.metric("edge_input_duplicates_total"))
        for _ in range(3):
            time.sleep(rng.uniform(0.6, 1.6))   # the seeded kill instant, while events flow
            resent.append(resent_figures())
            bridge.kill()                      # wherever it is: reading, committing, pushing
            stored_at_kill.append(odoo_count(odoo, code))
            bridge.start()
        assert stored_at_kill[-1] > 0, "events were flowing into Odoo while the bridge was killed"
        sim.wait_sent(40)
        bridge.wait_quiet("mes")
        wait_until(lambda: bridge_status(config)["pending"] == 0, 30, "outbox drained")
        resent.append(resent_figures())
        print(f"kill -9 test: Odoo rows at each kill {stored_at_kill}; per process (envelopes Odoo "
              f"already had, MQTT redeliveries skipped): {resent}")
        assert bridge.terminate() == 0, bridge.log_tail()
        assert_odoo_holds_exactly(odoo, code, sim.truth, tmp_path / "buffer.db", ["PACK1"])
        # A random kill rarely lands between Odoo's commit and the local "delivered" mark; make
        # that case certain: the last rows lose their mark, as if the answer never arrived.
        db = sqlite3.connect(tmp_path / "buffer.db")
        with db:
            lost_answers = db.execute("UPDATE outbox SET state = 'pending', delivered_at = NULL WHERE id IN "
                                      "(SELECT id FROM outbox ORDER BY id DESC LIMIT 25)").rowcount
        db.close()
        before = odoo_count(odoo, code)
        bridge.start()
        wait_until(lambda: bridge.metric("edge_events_duplicate_total") == lost_answers, 30,
                   "Odoo to answer the re-sent rows as duplicates")
        assert bridge_status(config)["pending"] == 0
        assert bridge.terminate() == 0, bridge.log_tail()
        assert odoo_count(odoo, code) == before
        assert_odoo_holds_exactly(odoo, code, sim.truth, tmp_path / "buffer.db", ["PACK1"])
        wait_all_done(odoo, code)
    finally:
        stop_all(bridge, sim, broker)


# 3 -----------------------------------------------------------------------------------------
def test_odoo_down_for_a_while_buffer_grows_then_drains(tmp_path, odoo):
    code = CODES["outage"]
    prefix = unique("e2e-mes")
    sim = Simulation(seed=17, rate=300, duration=12, scenario="breakdowns", opcua_port=free_port(),
                     mqtt_port=1883, mqtt_prefix=prefix, mqtt_client_id=unique("e2e-sim")).start()
    bridge = None
    port = odoo.port
    try:
        config = bridge_config(tmp_path, odoo, code,
                               [opcua_source(sim.plc.endpoint), mqtt_source(1883, unique("e2e-edge"), prefix)],
                               [asset_block("PRESS1", False), asset_block("PACK1", True)])
        bridge = BridgeProcess(config, tmp_path / "bridge.log").start()
        sim.play()
        wait_until(lambda: odoo_count(odoo, code) > 0, 20, "first events in Odoo")
        odoo.stop()
        # While Odoo is away the bridge keeps reading and buffering: pending rises.
        first = wait_until(lambda: bridge_status(config)["pending"] or None, 20, "pending > 0")
        wait_until(lambda: bridge_status(config)["pending"] > first, 20, "pending to grow")
        health = bridge.health()
        assert bridge.process.poll() is None and health["worker"] and health["forwarder"], bridge.log_tail()
        assert health["sink_failures"] > 0 and health["sink_last_error"], health
        before_restart = odoo_count(odoo, code)
        odoo.start()
        assert odoo.port == port        # same address: the bridge's configuration did not change
        sim.wait_sent(40)
        bridge.wait_quiet("plc1")
        bridge.wait_quiet("mes")
        wait_until(lambda: bridge_status(config)["pending"] == 0, 60, "buffer to drain after restart")
        assert odoo_count(odoo, code) > before_restart    # the backlog got in
        wait_heartbeat_depth_zero(odoo, code)
        assert bridge.terminate() == 0, bridge.log_tail()
        assert_odoo_holds_exactly(odoo, code, sim.truth, tmp_path / "buffer.db", ["PRESS1", "PACK1"],
                                  extra_samples={"PRESS1": 1})
        wait_all_done(odoo, code)
    finally:
        stop_all(bridge, sim)
        ensure_running(odoo)      # whatever happened, leave the shared server up


# 4 -----------------------------------------------------------------------------------------
def test_legacy_jsonrpc_transport_delivers_into_real_odoo(tmp_path, odoo):
    code = CODES["jsonrpc"]
    prefix = unique("e2e-mes")
    sim = Simulation(seed=21, rate=250, duration=4, scenario="breakdowns", mqtt_port=1883, mqtt_prefix=prefix,
                     mqtt_client_id=unique("e2e-sim")).start()
    bridge = None
    try:
        config = bridge_config(tmp_path, odoo, code, [mqtt_source(1883, unique("e2e-edge"), prefix)],
                               [asset_block("PACK1", True)], protocol="jsonrpc")
        bridge = BridgeProcess(config, tmp_path / "bridge.log").start()
        sim.play()
        sim.wait_sent(40)
        bridge.wait_quiet("mes")
        wait_heartbeat_depth_zero(odoo, code)       # edge_heartbeat through execute_kw too
        assert bridge.terminate() == 0, bridge.log_tail()
        assert_odoo_holds_exactly(odoo, code, sim.truth, tmp_path / "buffer.db", ["PACK1"])
        wait_all_done(odoo, code)
    finally:
        stop_all(bridge, sim)


# gzip --------------------------------------------------------------------------------------
def test_json2_does_not_decode_gzip_request_bodies_so_the_bridge_default_is_plain(odoo):
    """Stock Odoo 19 reads the JSON-2 body as text without looking at Content-Encoding: a gzip
    body is refused (400) and nothing is stored. That is why ``sink.gzip`` is off by default;
    turning it on needs a reverse proxy that inflates request bodies."""
    code = CODES["gzip"]
    envelope = {"key": unique("gz"), "type": "machine.alarm", "schema_version": 1, "source": code,
                "occurred_at": datetime.now(timezone.utc).isoformat(),
                "payload": {"asset": "PACK1", "code": "OVERHEAT", "severity": "critical", "active": True}}
    body = json.dumps({"envelopes": [envelope]}).encode()
    headers = {"Authorization": f"bearer {odoo.creds[code]['key']}", "X-Odoo-Database": odoo.db,
               "Content-Type": "application/json"}
    url = f"{odoo.url}/json/2/mfg.message/ingest"
    zipped = requests.post(url, data=gzip.compress(body), headers={**headers, "Content-Encoding": "gzip"},
                           timeout=30)
    assert zipped.status_code == 400, zipped.text[:300]
    assert "could not parse the body as json" in zipped.text
    assert odoo_count(odoo, code) == 0
    plain = requests.post(url, data=body, headers=headers, timeout=30)
    assert plain.status_code == 200 and plain.json() == {"accepted": 1, "duplicates": 0, "rejected": []}
    assert SinkConfig(url="http://x").gzip is False


# 6, 7 (issue 8) -----------------------------------------------------------------------------
def dead_letters(buffer_path):
    db = sqlite3.connect(f"file:{buffer_path}?mode=ro", uri=True)
    try:
        return db.execute("SELECT stage, key, reason FROM dead_letter ORDER BY id").fetchall()
    finally:
        db.close()


def test_a_plc_tag_reading_nan_now_and_then_stops_nothing_else_and_is_dead_lettered(tmp_path, odoo):
    code = CODES["nan"]
    prefix = unique("e2e-mes")
    sim = Simulation(seed=21, rate=300, duration=8, scenario="breakdowns", opcua_port=free_port(),
                     mqtt_port=1883, mqtt_prefix=prefix, mqtt_client_id=unique("e2e-sim")).start()
    bridge, stop_faults, nan_writes = None, threading.Event(), []

    def faulty_sensor():               # OPC UA Double NaN on PRESS1.temperature every 2 s
        while not stop_faults.wait(2.0):
            sim._call(sim.plc.write("PRESS1", "temperature", float("nan"), time.time()))
            nan_writes.append(time.time())
    try:
        config = bridge_config(tmp_path, odoo, code,
                               [opcua_source(sim.plc.endpoint), mqtt_source(1883, unique("e2e-edge"), prefix)],
                               [asset_block("PRESS1", False), asset_block("PACK1", True)])
        bridge = BridgeProcess(config, tmp_path / "bridge.log").start()
        fault = threading.Thread(target=faulty_sensor, daemon=True)
        fault.start()
        sim.play()
        sim.wait_sent(60)
        stop_faults.set()
        fault.join(5)
        bridge.wait_quiet("plc1")
        bridge.wait_quiet("mes")
        wait_until(lambda: bridge.metric("edge_readings_rejected_total", 'reason="not a finite number"')
                   >= len(nan_writes), 20, "every NaN reading rejected")
        wait_until(lambda: (bridge.health() or {}).get("buffer_pending") == 0, 60, "everything delivered")
        assert bridge.health()["failed_stages"] == []
        assert bridge.terminate() == 0, bridge.log_tail()
        assert len(nan_writes) >= 3
        nan_letters = [r for stage, _k, r in dead_letters(tmp_path / "buffer.db")
                       if "PRESS1.temperature: not a finite number" in r]
        assert len(nan_letters) == len(nan_writes), (nan_letters, nan_writes)
        assert_odoo_holds_exactly(odoo, code, sim.truth, tmp_path / "buffer.db", ["PRESS1", "PACK1"],
                                  extra_samples={"PRESS1": 1})
        wait_all_done(odoo, code)
    finally:
        stop_faults.set()
        if bridge is not None and bridge.process.poll() is None:
            bridge.kill()
        sim.stop()


class PoisonProxy:
    """Forwards to Odoo, except: the middle envelope of the first batch of 3 or more becomes the
    marked one, and every ingest batch holding it is answered 500 with the same Odoo-style error."""

    def __init__(self, target):
        self.target, self.marked, self.refused = target, None, 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path.endswith("/mfg.message/ingest"):
                    envelopes = json.loads(raw).get("envelopes", [])
                    if proxy.marked is None and len(envelopes) >= 3:
                        proxy.marked = envelopes[len(envelopes) // 2]["key"]
                    if proxy.marked and any(e["key"] == proxy.marked for e in envelopes):
                        proxy.refused += 1
                        return self._answer(500, json.dumps({"name": "psycopg2.errors.DataException",
                                                             "message": "cannot store this value"}).encode(),
                                            "application/json")
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                answer = requests.post(proxy.target + self.path, data=raw, headers=headers, timeout=30)
                self._answer(answer.status_code, answer.content, answer.headers.get("Content-Type", "text/plain"))

            def _answer(self, status, body, kind):
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


def test_odoo_refusing_one_envelope_of_a_batch_with_a_500_the_rest_arrive_exactly_once(tmp_path, odoo):
    code = CODES["poison"]
    prefix = unique("e2e-mes")
    proxy = PoisonProxy(odoo.url)
    sim = Simulation(seed=23, rate=300, duration=6, scenario="breakdowns", mqtt_port=1883, mqtt_prefix=prefix,
                     mqtt_client_id=unique("e2e-sim")).start()
    bridge = None
    try:
        config = bridge_config(tmp_path, odoo, code, [mqtt_source(1883, unique("e2e-edge"), prefix)],
                               [asset_block("PACK1", True)])
        proxied = yaml.safe_load(config.read_text())
        proxied["sink"]["url"] = proxy.url                # the bridge talks to Odoo through the proxy
        config.write_text(yaml.safe_dump(proxied))
        bridge = BridgeProcess(config, tmp_path / "bridge.log").start()
        sim.play()
        sim.wait_sent(60)
        bridge.wait_quiet("mes")
        wait_until(lambda: (bridge.health() or {}).get("buffer_pending") == 0, 90, "everything delivered")
        assert bridge.terminate() == 0, bridge.log_tail()
        assert proxy.marked and proxy.refused >= 2
        sink_letters = [(k, r) for stage, k, r in dead_letters(tmp_path / "buffer.db") if stage == "sink"]
        assert len(sink_letters) == 1 and sink_letters[0][0] == proxy.marked, sink_letters
        assert "HTTP 500" in sink_letters[0][1] and "cannot store this value" in sink_letters[0][1]
        stored = odoo_envelopes(odoo, code)
        total, distinct = odoo.query("SELECT count(*), count(DISTINCT key) FROM mfg_message WHERE source = %s",
                                     (code,))[0]
        assert total == distinct == len(stored)
        outbox = outbox_rows(tmp_path / "buffer.db")
        delivered = {key for key, _type, state in outbox if state == "delivered"}
        assert {key for key, _type, state in outbox if state != "delivered"} == {proxy.marked}
        assert {env["key"] for env in stored} == delivered and len(delivered) > 10
        wait_all_done(odoo, code)
    finally:
        if bridge is not None and bridge.process.poll() is None:
            bridge.kill()
        sim.stop()
        proxy.server.shutdown()
