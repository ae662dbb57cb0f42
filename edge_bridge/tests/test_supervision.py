"""Every stage thread is supervised (issue 8): the forwarder restarts itself after a crash, a dead
aggregation worker makes the process exit non-zero, and /healthz names the stage."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests
from helpers import BridgeProcess, asset_block, free_port, wait_until, write_config

from edge_bridge.buffer import Outbox
from edge_bridge.config import load_config
from edge_bridge.runtime import EXIT_STAGE_DIED, Bridge
from edge_bridge.signals import Delivery

UNREACHABLE_MES = {"name": "mes_rest", "type": "http_poll", "http_poll": {"url": "http://127.0.0.1:9/x",
                                                                          "interval_s": 5}}


class BrokenOdoo:
    """Answers every ingest with counts that add up but rejected items that are not objects: the
    kind of answer a broken proxy or Odoo version might give; it used to kill the forwarder."""

    def __init__(self):
        self.calls = 0
        odoo = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                odoo.calls += 1
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                count = len(body.get("envelopes", body))
                answer = json.dumps({"accepted": 0, "duplicates": 0, "rejected": list(range(count))}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


def test_a_crashing_forwarder_is_restarted_and_healthz_names_it(tmp_path):
    odoo = BrokenOdoo()
    outbox = Outbox(tmp_path / "buffer.db")
    outbox.commit([{"key": "EDGE-T1/k1", "type": "machine.alarm", "schema_version": 1, "source": "EDGE-T1",
                    "occurred_at": "2024-01-01T00:00:00+00:00",
                    "payload": {"asset": "PACK1", "code": "A", "severity": "error", "active": True}}])
    outbox.close()
    config = write_config(tmp_path, [UNREACHABLE_MES], [asset_block("PACK1", True)], odoo.url,
                          extra={"heartbeat": {"enabled": False}})
    bridge = BridgeProcess(config, tmp_path / "bridge.log").start(wait_sources=False)
    try:
        wait_until(lambda: (bridge.health() or {}).get("stages", {}).get("forwarder", {}).get("restarts", 0) >= 2,
                   20, "the forwarder to crash and be restarted twice")
        health = bridge.health()
        forwarder = health["stages"]["forwarder"]
        assert forwarder["alive"] and "AttributeError" in forwarder["error"]
        assert health["failed_stages"] == [] and bridge.process.poll() is None
        assert bridge.metric("edge_stage_restarts_total", 'stage="forwarder"') >= 2
        assert '"forwarder stage crashed; restarting it"' in bridge.log_path.read_text()
        assert bridge.terminate() == 0
    finally:
        if bridge.process.poll() is None:
            bridge.kill()
        odoo.server.shutdown()


def test_a_dead_aggregation_worker_fails_healthz_naming_it_and_the_bridge_exits_non_zero(tmp_path, standin):
    port = free_port()
    config = load_config(write_config(tmp_path, [UNREACHABLE_MES], [asset_block("PACK1", True)], standin.url,
                                      health_port=port, extra={"heartbeat": {"enabled": False}}))
    bridge = Bridge(config)
    bridge.start()
    try:
        assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
        bridge.inbox.put(Delivery(signals=[None]))          # a bug upstream: not a Signal
        code = bridge.watch(threading.Event(), interval_s=0.05)
        assert code == EXIT_STAGE_DIED and code != 0
        answer = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
        assert answer.status_code == 503
        health = answer.json()
        assert health["failed_stages"] == ["worker"] and "AttributeError" in health["stages"]["worker"]["error"]
    finally:
        bridge.stop(push_deadline_s=1)
