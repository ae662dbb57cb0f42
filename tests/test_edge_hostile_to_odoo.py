"""End to end against a real Odoo 19 (issue 8): one bad value never stalls a plant.

(a) A PLC whose temperature tag reads NaN every couple of seconds while the line runs: every other
event reaches Odoo exactly once (ground truth), the NaN readings are in the bridge's dead letter
with the reason. (b) Odoo refusing, with a 500, every batch that holds one marked envelope (a
small real HTTP proxy in front of the real Odoo): the rest reaches Odoo exactly once, the marked
envelope is in the bridge's dead letter with Odoo's reason.
"""
import json
import sqlite3
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from edge_e2e_helpers import (assert_odoo_holds_exactly, bridge_helpers, ensure_running, odoo_envelopes,
                              outbox_rows, setup_edge_connectors, wait_all_done)

from edge_bridge.simulator.run import Simulation

BridgeProcess = bridge_helpers.BridgeProcess
asset_block, mqtt_source, opcua_source = (bridge_helpers.asset_block, bridge_helpers.mqtt_source,
                                          bridge_helpers.opcua_source)
free_port, unique, wait_until = bridge_helpers.free_port, bridge_helpers.unique, bridge_helpers.wait_until

CODES = {"nan": "EDGE-E2E-NAN", "poison": "EDGE-E2E-POISON"}


@pytest.fixture(scope="module")
def odoo(odoo_server):
    odoo_server.creds = setup_edge_connectors(odoo_server, CODES.values())
    bridge_helpers.ensure_shared_broker()
    ensure_running(odoo_server)
    return odoo_server


def bridge_config(tmp_path, odoo, code, sources, assets, url=None):
    return bridge_helpers.write_config(
        tmp_path, sources, assets, url or odoo.url, api_key=odoo.creds[code]["key"], batch_size=200,
        batch_max_age_s=0.2, sink={"db": odoo.db, "protocol": "json2"},
        extra={"device": {"code": code, "plant": "P1"}})


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
                               [asset_block("PACK1", True)], url=proxy.url)
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
