"""``edge-bridge simulate`` and the ``Simulation`` object tests drive directly.

PRESS1 is a machine behind the PLC (OPC UA), PACK1 a machine whose events come from the MES
(MQTT). Readings are played in real time at ``rate`` per second from the moment ``play`` starts;
the ground truth JSON tells what a correct bridge must deliver.
"""
import asyncio
import json
import threading
import time
from pathlib import Path

from .mes import MesPublisher
from .plc import PlcSimulator
from .scenario import SCENARIOS, build_timeline

OPCUA_ASSET, MQTT_ASSET = "PRESS1", "PACK1"


class Simulation:
    def __init__(self, seed=1, rate=100.0, duration=10.0, scenario="normal", opcua_port=None,
                 mqtt_host="127.0.0.1", mqtt_port=None, mqtt_prefix="mes", mqtt_client_id="edge-sim-mes"):
        self.seed, self.rate, self.duration, self.scenario = seed, rate, duration, scenario
        self.assets = {}
        if opcua_port:
            self.assets[OPCUA_ASSET] = "opcua"
        if mqtt_port:
            self.assets[MQTT_ASSET] = "mqtt"
        if not self.assets:
            raise ValueError("enable at least one of OPC UA and MQTT")
        self.plc = PlcSimulator(opcua_port, [OPCUA_ASSET], scenario) if opcua_port else None
        self.mes = None
        self._mqtt = (mqtt_host, mqtt_port, mqtt_prefix, mqtt_client_id)
        self.truth = None
        self.played = 0
        self.done = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="simulator", daemon=True)
        self.on_reading = None          # optional callback(reading, wall time) for latency probes

    # -- control from any thread --------------------------------------------------------------
    def _call(self, coroutine, timeout=30):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def start(self):
        self._thread.start()
        if self.plc:
            self._call(self.plc.start())
        if self._mqtt[1]:
            host, port, prefix, client_id = self._mqtt
            self.mes = MesPublisher(host, port, prefix, client_id)
            if not self.mes.connected.wait(10):
                raise RuntimeError(f"MES simulator cannot reach MQTT broker {host}:{port}")
        return self

    def play(self):
        """Start playing in the background; ``done`` is set at the end."""
        readings, self.truth = build_timeline(self.seed, self.rate, self.duration, self.scenario,
                                              time.time(), self.assets)
        asyncio.run_coroutine_threadsafe(self._play(readings), self._loop)

    def restart_plc(self, down_s=1.0):
        async def bounce():
            await self.plc.stop()
            await asyncio.sleep(down_s)
            await self.plc.start()
        self._call(bounce(), timeout=down_s + 30)

    def wait_sent(self, timeout=30):
        """Wait until playing finished and the broker has every MES message."""
        deadline = time.time() + timeout
        if not self.done.wait(timeout):
            raise TimeoutError("simulation still playing")
        if self.mes and self.mes.last_info is not None:
            while not self.mes.last_info.is_published():
                if time.time() > deadline:
                    raise TimeoutError("MES messages not all acknowledged by the broker")
                time.sleep(0.05)

    def stop(self):
        if self.mes:
            self.mes.close()
        if self.plc:
            self._call(self.plc.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def write_truth(self, path):
        Path(path).write_text(json.dumps(self.truth, indent=2))

    # -- playing (simulator loop) -------------------------------------------------------------
    async def _play(self, readings):
        try:
            for reading in readings:
                delay = reading.at - time.time()
                if delay > 0.002:
                    await asyncio.sleep(delay)
                if self.assets[reading.asset] == "opcua":
                    await self.plc.write(reading.asset, reading.tag, reading.value, reading.at)
                else:
                    self.mes.publish(reading)
                if self.on_reading:
                    self.on_reading(reading, time.time())
                self.played += 1
        finally:
            self.done.set()


def add_arguments(parser):
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rate", type=float, default=100.0, help="readings per second (all machines)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of production to play")
    parser.add_argument("--scenario", choices=SCENARIOS, default="normal")
    parser.add_argument("--opcua-port", type=int, default=4840, help="PLC server port (0: no PLC)")
    parser.add_argument("--mqtt-host", default="127.0.0.1")
    parser.add_argument("--mqtt-port", type=int, default=1883, help="broker port (0: no MES publisher)")
    parser.add_argument("--mqtt-prefix", default="mes")
    parser.add_argument("--truth", default="ground-truth.json", help="where to write the ground truth")
    parser.add_argument("--start-delay", type=float, default=3.0,
                        help="seconds between starting the PLC server and playing (lets a bridge subscribe)")
    parser.add_argument("--standin-port", type=int, default=0,
                        help="also run an Odoo ingest stand-in on this port (demo without Odoo)")


def main(args):
    standin = None
    if args.standin_port:
        from .odoo_standin import OdooStandIn
        standin = OdooStandIn(port=args.standin_port).start()
        print(f"Odoo stand-in listening on {standin.url} (API key 'test-key')", flush=True)
    simulation = Simulation(args.seed, args.rate, args.duration, args.scenario, args.opcua_port or None,
                            args.mqtt_host, args.mqtt_port or None, args.mqtt_prefix).start()
    if simulation.plc:
        print(f"PLC simulator at {simulation.plc.endpoint}", flush=True)
    try:
        time.sleep(args.start_delay)
        simulation.play()
        simulation.wait_sent(args.duration + 60)
        simulation.write_truth(args.truth)
        print(f"played {simulation.played} readings; ground truth in {args.truth}", flush=True)
        if standin:
            print(f"stand-in holds {standin.count()} events", flush=True)
    except KeyboardInterrupt:
        return 1
    finally:
        simulation.stop()
        if standin:
            standin.stop()
    return 0
