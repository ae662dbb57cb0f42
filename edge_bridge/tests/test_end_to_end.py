"""The whole bridge as a process: simulator (OPC UA + MQTT) -> bridge -> Odoo stand-in."""
import pytest
from helpers import (
    BridgeProcess,
    assert_matches_truth,
    asset_block,
    free_port,
    mqtt_source,
    opcua_source,
    unique,
    write_config,
)

from edge_bridge.simulator.run import Simulation


@pytest.mark.parametrize("scenario", ["breakdowns", "counter_reset"])
def test_every_ground_truth_event_arrives_once_from_plc_and_mes(tmp_path, standin, shared_broker, scenario):
    prefix, opc_port = unique("mes"), free_port()
    sim = Simulation(seed=7, rate=300, duration=6, scenario=scenario, opcua_port=opc_port,
                     mqtt_port=shared_broker[1], mqtt_prefix=prefix, mqtt_client_id=unique("sim")).start()
    config = write_config(tmp_path, [opcua_source(sim.plc.endpoint), mqtt_source(1883, unique("edge"), prefix)],
                          [asset_block("PRESS1", False), asset_block("PACK1", True)], standin.url)
    bridge = BridgeProcess(config, tmp_path / "bridge.log").start()
    try:
        sim.play()
        sim.wait_sent(30)
        bridge.wait_quiet("plc1")
        assert bridge.terminate() == 0     # SIGTERM flushes the open windows and pushes
        events = standin.envelopes()
        assert_matches_truth(events, sim.truth, "PACK1")
        assert_matches_truth(events, sim.truth, "PRESS1", extra_samples=1)
        assert standin.heartbeats and standin.heartbeats[-1]["code"] == "EDGE-T1"
    finally:
        if bridge.process.poll() is None:
            bridge.kill()
        sim.stop()
