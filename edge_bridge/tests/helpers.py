"""Shared helpers for the edge bridge tests: configs, processes, brokers, truth checks."""
import getpass
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests
import yaml

VENV_BIN = Path(sys.executable).parent
EDGE_BRIDGE = str(VENV_BIN / "edge-bridge")
SHARED_BROKER = ("127.0.0.1", 1883)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout=20.0, message="condition", interval=0.05):
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def asset_block(name, mqtt_style, critical_after_s=1.5, deadband=0.0):
    tags = {
        "cycle_count": {"role": "counter", "rollover_at": 65535},
        "good_count": {"role": "good"}, "scrap_count": {"role": "scrap"},
        "scrap_reason": {"role": "scrap_reason"},
        "state": {"role": "state", "running_values": [1], "critical_after_s": critical_after_s},
        "state_reason": {"role": "state_reason"},
        "temperature": {"role": "measurement", "deadband": deadband, "unit": "C"},
    }
    if mqtt_style:
        tags["alarm"] = {"role": "alarm"}
    else:
        tags["alarm_overheat"] = {"role": "alarm", "alarm_code": "OVERHEAT", "severity": "critical"}
        tags["alarm_guard_open"] = {"role": "alarm", "alarm_code": "GUARD_OPEN", "severity": "warning"}
    return {"name": name, "work_center": f"WC-{name}", "product": "BRACKET-100", "order_ref": "MO/1",
            "tags": tags}


def opcua_source(endpoint, asset="PRESS1"):
    tags = ["cycle_count", "good_count", "scrap_count", "scrap_reason", "state", "state_reason",
            "temperature", "alarm_overheat", "alarm_guard_open"]
    return {"name": "plc1", "type": "opcua", "opcua": {
        "endpoint": endpoint, "sampling_interval_ms": 0, "publishing_interval_ms": 50, "queue_size": 1000,
        "reconnect_max_s": 1.0,
        "nodes": [{"node_id": f"ns=2;s={asset}.{tag}", "asset": asset, "tag": tag} for tag in tags]}}


def mqtt_source(port, client_id, prefix, host="127.0.0.1", client=None):
    """``client``: "fast" (sources/mqtt_fast.py, the default) or "paho" (sources/mqtt.py)."""
    source = {"name": "mes", "type": "mqtt", "mqtt": {
        "host": host, "port": port, "client_id": client_id, "qos": 1, "session_expiry_s": 300,
        "keepalive": 5,
        "topics": [{"filter": f"{prefix}/+/+", "fields": {"asset": "asset", "tag": "tag", "value": "value",
                                                           "timestamp": "ts", "sequence": "seq"}}]}}
    if client:
        source["mqtt"]["client"] = client
    return source


def write_config(tmp_path, sources, assets, sink_url, api_key="test-key", window_s=1.0, grace_s=0.5,
                 batch_size=200, batch_max_age_s=0.2, health_port=None, buffer=None, sink=None, extra=None):
    config = {
        # The bridge's own tests read v1 payloads; v2 (the default) has test_envelopes_v2
        # and the edge-to-Odoo tests.
        "device": {"code": "EDGE-T1", "plant": "P1", "schema_version": 1},
        "aggregation": {"window_s": window_s, "grace_s": grace_s},
        "assets": assets, "sources": sources,
        "buffer": {"path": str(tmp_path / "buffer.db"), "max_bytes": "200MB", **(buffer or {})},
        "sink": {"url": sink_url, "protocol": "json2", "db": "edge", "api_key": api_key,
                 "batch_size": batch_size, "batch_max_age_s": batch_max_age_s, "timeout_s": 5,
                 "backoff_initial_s": 0.05, "backoff_max_s": 0.5, **(sink or {})},
        "heartbeat": {"enabled": True, "interval_s": 1},
        "observability": {"port": health_port or free_port(), "log_format": "json"},
    }
    config.update(extra or {})
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


class PlcProcess:
    """A PLC server script of these tests (``modbus_plc.py``, ``s7_plc.py``) in its own process,
    which prints READY once it listens; ``stop`` kills it (a PLC losing power), ``start`` again."""

    def __init__(self, script, port, start_count=0):
        self.script, self.port, self.process = str(Path(__file__).with_name(script)), port, None
        self.start(start_count)

    def start(self, start_count=0):
        self.process = subprocess.Popen([sys.executable, self.script, str(self.port), str(start_count)],
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.process.stdout.readline().strip() == "READY"

    def stop(self):
        self.process.kill()
        self.process.wait(10)


class ThreadedPlc:
    """The simulator's OPC UA PLC (``edge_bridge.simulator.plc``, one machine PRESS1 with writable
    order and setpoint nodes) on an event loop in a thread of the test process."""

    def __init__(self, start=True):
        import asyncio

        from edge_bridge.simulator.plc import PlcSimulator
        self.port = free_port()
        self.sim = PlcSimulator(self.port, ["PRESS1"])
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        if start:
            self.start()

    def call(self, coroutine):
        import asyncio
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(20)

    def start(self):
        self.call(self.sim.start())
        return self

    def stop(self):
        self.call(self.sim.stop())

    def value(self, tag):
        return self.sim.value_of("PRESS1", tag)

    def writes_of(self, tag, value):
        return [w for w in self.sim.written if w[1:] == (tag, value)]


class HttpPeer:
    """A real HTTP server on a free local port, playing an MES or Odoo in a test.

    ``respond(method, path, body_bytes)`` returns ``(status, headers dict, body bytes)``;
    ``server`` is the ThreadingHTTPServer (``server.shutdown()`` stops it).
    """

    def __init__(self, respond, path=""):
        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                status, headers, body = respond(self.command, self.path, self.rfile.read(length))
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _serve

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{path}"


class BridgeProcess:
    """``edge-bridge run`` as a real subprocess, as systemd would run it."""

    def __init__(self, config_path, log_path, env=None):
        self.env = {**os.environ, **env} if env else None      # e.g. edge_bridge.faults.ENV_VAR
        self.config_path = Path(config_path)
        self.log_path = Path(log_path)
        self.port = yaml.safe_load(self.config_path.read_text())["observability"]["port"]
        self.process = None

    def start(self, wait_sources=True):
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen([EDGE_BRIDGE, "run", "-c", str(self.config_path)], stdout=log,
                                        stderr=log, env=self.env)
        log.close()
        wait_until(lambda: self.health() is not None or self.process.poll() is not None, 20, "bridge /healthz")
        assert self.process.poll() is None, self.log_tail()
        if wait_sources:
            wait_until(lambda: all((self.health() or {}).get("sources", {"x": False}).values()), 20,
                       "bridge sources connected")
        return self

    def health(self):
        try:
            return requests.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).json()
        except (requests.RequestException, ValueError):
            return None

    def metrics(self):
        return requests.get(f"http://127.0.0.1:{self.port}/metrics", timeout=2).text

    def metric(self, name, labels=""):
        prefix = f"{name}{{{labels}}} " if labels else f"{name} "
        for line in self.metrics().splitlines():
            if line.startswith(prefix):
                return float(line.split()[-1])
        return 0.0

    def wait_quiet(self, source, timeout=20):
        """Wait until the source has handed over everything (its input counter stops moving)."""
        history = []

        def settled():
            history.append(self.metric("edge_messages_in_total", f'source="{source}"'))
            return len(history) >= 4 and history[-1] == history[-4] and history[-1] > 0
        wait_until(settled, timeout, f"{source} to go quiet", interval=0.15)

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def terminate(self, timeout=30):
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def log_tail(self, lines=40):
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


class PrivateBroker:
    """A mosquitto of our own (persistent, unlimited queues) that a test may stop and restart."""

    def __init__(self, tmp_path):
        self.port = free_port()
        self.dir = tmp_path / f"mosquitto-{self.port}"
        self.dir.mkdir()
        self.conf = self.dir / "mosquitto.conf"
        self.conf.write_text(
            # Started as root, mosquitto would switch to its own user and fail to write the
            # persistence file into our private directory: sessions would not survive a restart.
            f"user {getpass.getuser()}\n"
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
            f"persistence_location {self.dir}/\nautosave_interval 1\nmax_queued_messages 0\n"
            f"max_inflight_messages 0\nlog_dest file {self.dir}/mosquitto.log\n")
        self.process = None

    def start(self):
        self.process = subprocess.Popen([shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(self.conf)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def listening():
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return True
            except OSError:
                return False
        wait_until(listening, 10, "private mosquitto")
        return self

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()     # SIGTERM: mosquitto saves its persistence file
            self.process.wait(10)


def ensure_shared_broker():
    try:
        socket.create_connection(SHARED_BROKER, 1).close()
    except OSError:
        subprocess.run(["mosquitto", "-d", "-c", "/etc/mosquitto/mosquitto.conf"], check=False)
        wait_until(lambda: _can_connect(SHARED_BROKER), 10, "shared mosquitto")


def _can_connect(address):
    try:
        socket.create_connection(address, 0.5).close()
        return True
    except OSError:
        return False


# -- checking what arrived against the simulator's ground truth -------------------------------
def _facts(env):
    """The facts the truth checks compare, from a v1 or a v2 (ISA-95) payload."""
    payload = env["payload"]
    if "equipment_id" not in payload and "segment_responses" not in payload:
        return payload                                        # v1
    kind = env["type"]
    if kind == "production.scrap" or kind == "production.confirmation":
        segment = payload["segment_responses"][0]
        work_center = (segment.get("equipment_actuals") or [{}])[0].get("equipment_id", {}).get("value")
        actual = (segment.get("material_actuals") or [{}])[0]
        return {"work_center": work_center, "reason_code": actual.get("reason_code"),
                "qty": actual.get("quantity", {}).get("value")}
    facts = dict(payload, asset=payload["equipment_id"]["value"])
    if kind == "machine.counter":
        facts.update(counter=payload["counter_name"], delta=payload["delta"]["value"])
    return facts


def delivered_summary(envelopes, asset):
    summary = {"counters": {}, "scrap_by_reason": {}, "downtimes": [], "alarms": [], "measurement_count": 0,
               "keys": []}
    for env in envelopes:
        payload = _facts(env)
        if payload.get("asset", payload.get("work_center")) not in (asset, f"WC-{asset}"):
            continue
        summary["keys"].append(env["key"])
        if env["type"] == "machine.counter":
            summary["counters"][payload["counter"]] = summary["counters"].get(payload["counter"], 0) + payload["delta"]
        elif env["type"] == "production.scrap":
            reason = payload["reason_code"]
            summary["scrap_by_reason"][reason] = summary["scrap_by_reason"].get(reason, 0) + payload["qty"]
        elif env["type"] == "machine.downtime":
            summary["downtimes"].append(payload)
        elif env["type"] == "machine.alarm":
            summary["alarms"].append(payload)
        elif env["type"] == "machine.measurement":
            summary["measurement_count"] += payload["count"]
    summary["downtimes"].sort(key=lambda d: d["start"])
    return summary


def assert_matches_truth(envelopes, truth, asset, check_alarms=True, check_downtimes=True, extra_samples=0):
    """``extra_samples``: OPC UA also reports each tag's current value when subscribing."""
    expected = truth["assets"][asset]
    got = delivered_summary(envelopes, asset)
    assert len(got["keys"]) == len(set(got["keys"]))
    assert got["counters"].get("cycle_count", 0) == expected["counters"]["cycle_count"], got["counters"]
    assert got["counters"].get("good_count", 0) == expected["counters"]["good_count"], got["counters"]
    assert got["counters"].get("scrap_count", 0) == expected["counters"]["scrap_count"], got["counters"]
    assert got["scrap_by_reason"] == expected["scrap_by_reason"]
    want = expected["measurements"]["temperature"]["count"]
    assert want <= got["measurement_count"] <= want + extra_samples, (got["measurement_count"], want)
    if check_downtimes:
        assert len(got["downtimes"]) == len(expected["downtimes"]), (got["downtimes"], expected["downtimes"])
        for delivered, true in zip(got["downtimes"], expected["downtimes"], strict=True):
            assert abs(_epoch(delivered["start"]) - true["start"]) < 0.002
            assert abs(_epoch(delivered["end"]) - true["end"]) < 0.002
            assert delivered["reason_code"] == true["reason_code"]
    if check_alarms:
        got_alarms = sorted((a["code"], a["active"]) for a in got["alarms"])
        want_alarms = sorted((a["code"], a["active"]) for a in expected["alarms"])
        assert got_alarms == want_alarms
    return got


def wait_truth(standin, truth, asset, timeout=30, **checks):
    """Wait (at most ``timeout``) until what the stand-in holds matches the ground truth
    (``assert_matches_truth``); the caller then stops the bridge (which flushes what is left)
    and asserts. After a broker or bridge restart the broker may deliver its queue in bursts
    with pauses: a fixed quiet period (``wait_quiet``) can end between two bursts."""
    def matches():
        try:
            assert_matches_truth(standin.envelopes(), truth, asset, **checks)
            return True
        except AssertionError:
            return False
    deadline = time.time() + timeout
    while time.time() < deadline:
        if matches():
            return True
        time.sleep(0.25)
    return False


def _epoch(text):
    from datetime import datetime
    return datetime.fromisoformat(text).timestamp()


def dump(obj):
    return json.dumps(obj, indent=1, default=str)[:3000]


os.environ.setdefault("PYTHONUNBUFFERED", "1")
