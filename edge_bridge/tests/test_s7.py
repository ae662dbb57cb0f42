"""Siemens S7 source against a real S7 server process (tests/s7_plc.py, python-snap7's server
emulator speaking ISO-on-TCP / S7comm): data-block variables decoded by type (word, real, int,
bool bit, S7 STRING), adjacent variables read in one request; the CPU refusing a read of a data
block it does not have and a NaN real become dead letters with their reasons while the other
variables go on; the PLC restarting is survived, its counter counted across it; a bad address
or type is refused at start with its key."""
import json
import struct
import subprocess

import pytest
from helpers import EDGE_BRIDGE, BridgeProcess, PlcProcess, asset_block, free_port, wait_until, write_config

from edge_bridge.config import ConfigError, load_config
from edge_bridge.sources.s7 import S7Variable, decode, read_spans


def variables(port):
    return {"host": "127.0.0.1", "port": port, "rack": 0, "slot": 1, "interval_s": 0.1,
            "reconnect_max_s": 0.5, "variables": [
                {"asset": "PRESS1", "tag": "cycle_count", "address": "DB1.DBW0", "type": "word"},
                {"asset": "PRESS1", "tag": "temperature", "address": "DB1.DBD10", "type": "real"},
                {"asset": "PRESS1", "tag": "state", "address": "DB1.DBW22", "type": "int"},
                {"asset": "PRESS1", "tag": "good_count", "address": "DB1.DBD30", "type": "real"},
                {"asset": "PRESS1", "tag": "state_reason", "address": "DB1.DBB40", "type": "string",
                 "length": 20},
                {"asset": "PRESS1", "tag": "scrap_count", "address": "DB2.DBW0", "type": "word"}]}


def spec(data_type, offset=0, **kw):
    return S7Variable("A", "t", 1, offset, data_type, **kw)


def test_decoding_follows_the_s7_types():
    assert decode(struct.pack(">f", 21.5), spec("real")) == 21.5
    assert decode(struct.pack(">d", -1.25), spec("lreal")) == -1.25
    assert decode(b"\xff\xfe", spec("int")) == -2
    assert decode(b"\xff\xfe", spec("word")) == 65534
    assert decode(b"\xff\xff\xff\xfe", spec("dint")) == -2
    assert decode(b"\x00\x00\x01\x00", spec("dword", scale=0.5)) == 128.0
    assert decode(b"\x08", spec("bool", bit=3)) is True
    assert decode(b"\x08", spec("bool", bit=2)) is False
    assert decode(b"\x0a\x03MO/xxxxxxx", spec("string", length=10)) == "MO/"
    spans = read_spans([spec("word", 0), spec("real", 10), spec("word", 100), S7Variable("A", "t", 2, 0, "int")],
                       max_gap=32)
    assert [(db, start, size, [v.offset for v in vs]) for db, start, size, vs in spans] == [
        (1, 0, 14, [0, 10]), (1, 100, 2, [100]), (2, 0, 2, [0])]


def test_variables_flow_refusals_are_dead_letters_and_a_plc_restart_is_survived(tmp_path, standin):
    plc = PlcProcess("s7_plc.py", free_port())
    source = {"name": "press_s7", "type": "s7", "s7": variables(plc.port)}
    assets = [asset_block("PRESS1", False)]
    config = write_config(tmp_path, [source], assets, standin.url)
    bridge = BridgeProcess(config, tmp_path / "bridge.log").start()
    try:
        wait_until(lambda: sum(e["payload"]["delta"] for e in standin.envelopes("machine.counter")) >= 10,
                   20, "cycles counted")
        measured = [e["payload"] for e in standin.envelopes("machine.measurement")]
        assert measured and measured[0]["last"] == 21.5, "DBD10 as a real"
        before = sum(e["payload"]["delta"] for e in standin.envelopes("machine.counter"))
        plc.stop()                           # the CPU restarts: the bridge reconnects
        wait_until(lambda: not bridge.health()["sources"]["press_s7"], 10, "source down")
        plc.start(start_count=1000)
        wait_until(lambda: bridge.health()["sources"]["press_s7"], 15, "source back")
        wait_until(lambda: sum(e["payload"]["delta"] for e in standin.envelopes("machine.counter"))
                   > before + 5, 20, "counting after the restart")
        assert bridge.terminate() == 0
        listed = subprocess.run([EDGE_BRIDGE, "dead-letter", "list", "-c", str(config)],
                                capture_output=True, text=True, timeout=30).stdout
        reasons = [json.loads(line)["reason"] for line in listed.splitlines() if line.startswith("{")]
        assert any(r.startswith("PLC refused the read of DB2.DBB0 (2 bytes)") and "does not exist" in r
                   for r in reasons), listed[:2000]
        assert any("PRESS1.good_count: nan is not a measurement" in r for r in reasons), listed[:2000]
    finally:
        if bridge.process.poll() is None:
            bridge.terminate()
        plc.stop()


@pytest.mark.parametrize("change,error", [
    ({"address": "DB1.DBW0.3"}, "a bool needs DBX"),
    ({"address": "M10.0"}, "is not a data-block address"),
    ({"type": "real"}, "real does not fit DB1.DBW0"),
    ({"type": "float"}, r"variables\[0\].type: must be one of"),
])
def test_bad_variable_configuration_is_refused_with_its_key(tmp_path, standin, change, error):
    bad = variables(102)
    bad["variables"][0].update(change)
    config = write_config(tmp_path, [{"name": "p", "type": "s7", "s7": bad}],
                          [asset_block("PRESS1", False)], standin.url)
    with pytest.raises(ConfigError, match=error):
        load_config(config)
