"""Modbus TCP source against a real pymodbus server process (tests/modbus_plc.py): registers
decoded by type, byte and word order; the device's refusals and a broken float sensor become
dead letters with their reasons while the other registers go on; the PLC restarting is
survived, its counter counted across it; a bad configuration is refused at start."""
import json
import subprocess

import pytest
from helpers import EDGE_BRIDGE, BridgeProcess, PlcProcess, asset_block, free_port, wait_until, write_config

from edge_bridge.config import ConfigError, load_config
from edge_bridge.sources.modbus import ModbusRegister, decode, read_groups


def registers(port):
    return {"host": "127.0.0.1", "port": port, "interval_s": 0.1, "timeout_s": 1,
            "reconnect_max_s": 0.5, "registers": [
                {"asset": "PRESS1", "tag": "cycle_count", "table": "holding", "address": 0},
                {"asset": "PRESS1", "tag": "temperature", "table": "holding", "address": 20,
                 "type": "float32", "word_order": "little"},
                {"asset": "PRESS1", "tag": "state", "table": "holding", "address": 30},
                {"asset": "PRESS1", "tag": "good_count", "table": "holding", "address": 40,
                 "type": "float32"},
                {"asset": "PRESS1", "tag": "scrap_count", "table": "holding", "address": 500}]}


def test_decoding_follows_type_byte_and_word_order():
    spec = ModbusRegister("A", "t", "holding", 0, "float32")
    assert decode([0x41AC, 0x0000], spec) == 21.5
    assert decode([0x0000, 0x41AC], ModbusRegister("A", "t", "holding", 0, "float32",
                                                   word_order="little")) == 21.5
    assert decode([0xAC41, 0x0000], ModbusRegister("A", "t", "holding", 0, "float32",
                                                   byte_order="little")) == 21.5
    assert decode([0xFFFF], ModbusRegister("A", "t", "holding", 0, "int16")) == -1
    assert decode([0xFFFF, 0xFFFE], ModbusRegister("A", "t", "holding", 0, "int32")) == -2
    assert decode([0x0001, 0x0000], ModbusRegister("A", "t", "holding", 0, "uint32",
                                                   word_order="little")) == 1
    assert decode([1234], ModbusRegister("A", "t", "holding", 0, "uint16", scale=0.1,
                                         offset=-5)) == pytest.approx(118.4)
    groups = read_groups([ModbusRegister("A", "a", "holding", 0), ModbusRegister(
        "A", "b", "holding", 1, "float32"), ModbusRegister("A", "c", "holding", 10),
        ModbusRegister("A", "d", "coil", 0)])
    assert [[r.tag for r in group] for group in groups] == [["d"], ["a", "b"], ["c"]]


def test_registers_flow_refusals_are_dead_letters_and_a_plc_restart_is_survived(tmp_path, standin):
    plc = PlcProcess("modbus_plc.py", free_port())
    source = {"name": "press_plc", "type": "modbus", "modbus": registers(plc.port)}
    config = write_config(tmp_path, [source], [asset_block("PRESS1", False)], standin.url)
    bridge = BridgeProcess(config, tmp_path / "bridge.log").start()
    try:
        wait_until(lambda: sum(e["payload"]["delta"] for e in standin.envelopes("machine.counter")) >= 10,
                   20, "cycles counted")
        measured = [e["payload"] for e in standin.envelopes("machine.measurement")
                    if e["payload"].get("tag", "temperature") == "temperature"]
        assert measured and measured[0]["last"] == 21.5, "low word first, decoded"
        before = sum(e["payload"]["delta"] for e in standin.envelopes("machine.counter"))
        plc.stop()                           # the PLC restarts: the bridge reconnects
        wait_until(lambda: not bridge.health()["sources"]["press_plc"], 10, "source down")
        plc.start(start_count=1000)
        wait_until(lambda: bridge.health()["sources"]["press_plc"], 15, "source back")
        wait_until(lambda: sum(e["payload"]["delta"] for e in standin.envelopes("machine.counter"))
                   > before + 5, 20, "counting after the restart")
        assert bridge.terminate() == 0
        listed = subprocess.run([EDGE_BRIDGE, "dead-letter", "list", "-c", str(config)],
                                capture_output=True, text=True, timeout=30).stdout
        reasons = {json.loads(line)["reason"].split(":")[0] for line in listed.splitlines()
                   if line.startswith("{")}
        assert "device refused the read" in reasons, listed[:2000]
        assert any("nan is not a measurement" in line for line in listed.splitlines()), listed[:2000]
    finally:
        if bridge.process.poll() is None:
            bridge.terminate()
        plc.stop()


def test_bad_register_configuration_is_refused_with_its_key(tmp_path, standin):
    bad = registers(502)
    bad["registers"][0].update(type="float128")
    config = write_config(tmp_path, [{"name": "p", "type": "modbus", "modbus": bad}],
                          [asset_block("PRESS1", False)], standin.url)
    with pytest.raises(ConfigError, match=r"registers\[0\].type"):
        load_config(config)
    bad = registers(502)
    bad["registers"][0].update(table="coil", type="float32")
    config = write_config(tmp_path, [{"name": "p", "type": "modbus", "modbus": bad}],
                          [asset_block("PRESS1", False)], standin.url)
    with pytest.raises(ConfigError, match="single bits"):
        load_config(config)
