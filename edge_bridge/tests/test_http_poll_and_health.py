"""HTTP polling of an MES endpoint (cursor, 429), and the /healthz + /metrics endpoints."""
import json
import time
from urllib.parse import parse_qs, urlparse

from helpers import BridgeProcess, HttpPeer, asset_block, wait_until, write_config


class MesApi:
    """Serves items after ?since=<seq>, two per page, and answers 429 to every third request."""

    def __init__(self, items):
        self.items, self.requests, self.cursors = items, 0, []
        peer = HttpPeer(self.respond, "/events")
        self.server, self.url = peer.server, peer.url

    def respond(self, method, path, body):
        self.requests += 1
        since = int(parse_qs(urlparse(path).query).get("since", ["0"])[0])
        self.cursors.append(since)
        if self.requests % 3 == 0:
            return 429, {"Retry-After": "0.1"}, b"{}"
        page = [i for i in self.items if i["seq"] > since][:2]
        return 200, {}, json.dumps({"items": page}).encode()


def test_http_poll_follows_the_cursor_survives_restart_and_honours_429(tmp_path, standin):
    now = time.time()
    items = [{"asset": "PACK1", "tag": "cycle_count", "value": v, "ts": now + v * 0.01, "seq": v + 1}
             for v in range(0, 7)]
    api = MesApi(items)
    source = {"name": "mes_rest", "type": "http_poll",
              "http_poll": {"url": api.url, "interval_s": 0.1, "cursor_path": None}}
    config = write_config(tmp_path, [source], [asset_block("PACK1", True)], standin.url)
    bridge = BridgeProcess(config, tmp_path / "bridge.log").start()
    try:
        wait_until(lambda: api.cursors and api.cursors[-1] == 7, 15, "cursor to reach the last item")
        assert bridge.terminate() == 0
        assert sum(e["payload"]["delta"] for e in standin.envelopes("machine.counter")) == 6
        requests_before = api.requests
        bridge.start()                        # restart: continues from the committed cursor
        wait_until(lambda: api.requests > requests_before + 1, 10, "polls after restart")
        assert api.cursors[requests_before] == 7
        assert '"MES rate limit, waiting"' in bridge.log_path.read_text()
        metrics = bridge.metrics()
        assert "edge_buffer_pending" in metrics and "edge_push_seconds_bucket" in metrics
        health = bridge.health()
        assert health["worker"] and health["forwarder"] and health["sources"] == {"mes_rest": True}
    finally:
        if bridge.process.poll() is None:
            bridge.terminate()
        api.server.shutdown()


def test_status_and_dead_letter_commands(tmp_path, standin):
    import subprocess

    from helpers import EDGE_BRIDGE

    from edge_bridge.buffer import Outbox
    config = write_config(tmp_path, [{"name": "m", "type": "http_poll", "http_poll": {"url": "http://127.0.0.1:9"}}],
                          [asset_block("PACK1", True)], standin.url)
    outbox = Outbox(tmp_path / "buffer.db")
    outbox.commit([{"key": "k1", "type": "machine.alarm", "body": 1}])
    outbox.record_result(outbox.fetch_pending(1), [{"index": 0, "key": "k1", "error": "bad asset"}])
    outbox.close()
    def run(*args):
        return subprocess.run([EDGE_BRIDGE, *args, "-c", str(config)], capture_output=True, text=True,
                              timeout=30)
    status = json.loads(run("status").stdout)
    assert status["rejected"] == 1 and status["pending"] == 0 and status["last_push_at"]
    listed = run("dead-letter", "list").stdout
    assert '"reason": "bad asset"' in listed
    assert "1 dead letters moved back to pending" in run("dead-letter", "replay").stdout
    assert json.loads(run("status").stdout)["pending"] == 1
