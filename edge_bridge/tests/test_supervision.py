"""Every stage thread is supervised (issue 8, stage.py since issue 9): the forwarder restarts itself
after a crash, a dead aggregation worker makes the process exit non-zero, /healthz names the stage."""
import json
import threading

import requests
from helpers import BridgeProcess, asset_block, free_port, wait_until, write_config

from edge_bridge import faults
from edge_bridge.buffer import Outbox
from edge_bridge.buffer.watermark import ALARM_CODE, HighWaterWatch
from edge_bridge.config import BufferConfig, load_config
from edge_bridge.envelopes import EnvelopeFactory
from edge_bridge.observability import Metrics
from edge_bridge.runtime import EXIT_STAGE_DIED, Bridge
from edge_bridge.signals import Delivery

UNREACHABLE_MES = {"name": "mes_rest", "type": "http_poll", "http_poll": {"url": "http://127.0.0.1:9/x",
                                                                          "interval_s": 5}}


def test_a_crashing_forwarder_is_restarted_healthz_names_it_and_nothing_is_lost(tmp_path, standin):
    """The crash is injected through the documented fault hook (edge_bridge/faults.py): since the
    forwarder treats every malformed answer from Odoo as a transient error, no answer crashes it."""
    outbox = Outbox(tmp_path / "buffer.db")
    outbox.commit([{"key": "EDGE-T1/k1", "type": "machine.alarm", "schema_version": 1, "source": "EDGE-T1",
                    "occurred_at": "2024-01-01T00:00:00+00:00",
                    "payload": {"asset": "PACK1", "code": "A", "severity": "error", "active": True}}])
    outbox.close()
    config = write_config(tmp_path, [UNREACHABLE_MES], [asset_block("PACK1", True)], standin.url,
                          extra={"heartbeat": {"enabled": False}})
    bridge = BridgeProcess(config, tmp_path / "bridge.log", env={faults.ENV_VAR: "forwarder:2"})
    bridge.start(wait_sources=False)
    try:
        wait_until(lambda: standin.count() == 1, 20, "the alarm delivered after two crashes of the forwarder")
        # The stand-in counts the alarm before the forwarder has read Odoo's answer and noted the
        # delivery in the buffer: wait for that note, then read the health once.
        wait_until(lambda: bridge.health()["buffer_pending"] == 0, 20, "the delivery noted in the buffer")
        health = bridge.health()
        forwarder = health["stages"]["forwarder"]
        assert forwarder["alive"] and forwarder["restarts"] == 2 and "InjectedFault" in forwarder["error"]
        assert health["failed_stages"] == [] and health["buffer_pending"] == 0 and bridge.process.poll() is None
        assert bridge.metric("edge_stage_restarts_total", 'stage="forwarder"') == 2
        assert bridge.log_path.read_text().count('"forwarder stage crashed; restarting it"') == 2
        assert [env["key"] for env in standin.envelopes()] == ["EDGE-T1/k1"]
        assert bridge.terminate() == 0
    finally:
        if bridge.process.poll() is None:
            bridge.kill()


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
        assert {name for name, stage in health["stages"].items() if stage["alive"]} >= {"forwarder", "high_water"}
    finally:
        bridge.stop(push_deadline_s=1)


def _alarms(outbox):
    rows = outbox.fetch_pending(100_000)
    return rows, [json.loads(row.body) for row in rows if json.loads(row.body)["type"] == "machine.alarm"]


def test_the_high_water_watch_is_its_own_stage_raising_and_clearing_the_alarm_envelope(tmp_path):
    """It runs in its own thread, so it fires even while the aggregation worker is held back."""
    outbox = Outbox(tmp_path / "buffer.db", max_bytes=2 * 1024 ** 2, high_water=0.5)
    factory = EnvelopeFactory("EDGE-T1", "P1", schema_version=1)
    woken = []
    watch = HighWaterWatch(outbox, BufferConfig(max_bytes=2 * 1024 ** 2, high_water=0.5), factory, Metrics(),
                           woken.append, check_every_s=0.05)
    for start in range(0, 8000, 1000):
        outbox.commit([factory.build("machine.alarm", ("M1", "A", str(i)), "2024-01-01T00:00:00+00:00",
                                     {"asset": "M1", "code": "A" * 100, "severity": "error", "active": True})
                       for i in range(start, start + 1000)])
    assert outbox.budget_bytes() >= 1024 ** 2
    watch.start()
    try:
        wait_until(lambda: any(a["payload"]["code"] == ALARM_CODE for a in _alarms(outbox)[1]), 10, "the alarm")
        assert watch.active and woken == [False] and watch.status() == {"alive": True, "restarts": 0, "error": None}
        assert watch.metrics.buffer_high_water._value.get() == 1
        rows, alarms = _alarms(outbox)
        mine = [a for a in alarms if a["payload"]["code"] == ALARM_CODE]
        assert len(mine) == 1 and mine[0]["payload"]["active"] is True
        outbox.record_result(rows, [])
        outbox.prune_delivered(0)
        wait_until(lambda: not watch.active, 10, "the alarm to clear")
        wait_until(lambda: _alarms(outbox)[1], 10, "the clearing envelope")
        cleared = _alarms(outbox)[1]
        assert [(a["payload"]["code"], a["payload"]["active"]) for a in cleared] == [(ALARM_CODE, False)]
        assert woken == [False, False]
    finally:
        watch.stop()
        outbox.close()
