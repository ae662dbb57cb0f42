"""A new edge source is one file that registers itself (issue 9): config.py and the runtime name
no source type. This file holds a complete extra source - ``jsonl_file``, which tails a file of
JSON lines with a durable line cursor - and runs it through the real pipeline into an Odoo
stand-in: parsing and validation of its own block, the inbox, aggregation, buffer, forwarder."""
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import yaml
from helpers import asset_block, free_port, wait_until, write_config

import edge_bridge
from edge_bridge.config import ConfigError, load_config, parse_config
from edge_bridge.runtime import Bridge
from edge_bridge.signals import Delivery, utc_now
from edge_bridge.sources import Source, register, source_types
from edge_bridge.sources.base import discover
from edge_bridge.sources.json_fields import describe_parse_error, parse_field_paths, to_signal


# -- the whole extra source: what README "Adding an edge source" describes ---------------------
@dataclass
class JsonlFileConfig:
    path: Path
    interval_s: float
    fields: object


@register
class JsonlFileSource(Source):
    """Hands over each new line of a file of JSON readings; the line cursor is a checkpoint."""
    type = "jsonl_file"

    @classmethod
    def parse_settings(cls, node, context):
        node.check_known("path", "interval_s", "fields")
        path = Path(node.str("path", required=True))
        return JsonlFileConfig(path=path if path.is_absolute() else context.base_dir / path,
                               interval_s=node.num("interval_s", 0.1, minimum=0.01),
                               fields=parse_field_paths(node.child("fields"), topic_allowed=False))

    def run(self):          # the base class runs it in the source's thread and stops it
        checkpoint = f"jsonl_file:{self.name}:line"
        done = self.outbox.checkpoint(checkpoint) or 0
        while not self._stop.wait(self.config.interval_s):
            self.connected = self.config.path.exists()
            lines = self.config.path.read_text().splitlines()[done:] if self.connected else []
            if not lines:
                continue
            delivery, committed = Delivery(checkpoint=(checkpoint, done + len(lines))), threading.Event()
            delivery.ack = committed.set
            for line in lines:
                try:
                    delivery.signals.append(to_signal(self.name, json.loads(line), self.config.fields, utc_now()))
                except Exception as exc:      # noqa: BLE001 - one line, one dead letter
                    delivery.rejects.append((self.name, line[:4000], f"bad line: {describe_parse_error(exc)}"))
            self.metrics.messages_in.labels(self.name).inc(len(lines))
            if not self._intake_open.is_set():
                return
            if self.inbox.put(delivery, self._stop) and committed.wait(10):
                done += len(lines)


# -- the tests --------------------------------------------------------------------------------
def _config(tmp_path, standin_url, block):
    return write_config(tmp_path, [{"name": "file", "type": "jsonl_file", "jsonl_file": block}],
                        [asset_block("PACK1", True)], standin_url, health_port=free_port(),
                        extra={"heartbeat": {"enabled": False}})


def test_a_source_registered_in_one_file_runs_through_the_pipeline_into_odoo(tmp_path, standin):
    now = time.time()
    readings = [{"asset": "PACK1", "tag": "cycle_count", "value": 0, "ts": now, "seq": 1},
                {"asset": "PACK1", "tag": "temperature", "value": 20.0, "ts": now + 0.01, "seq": 2},
                {"asset": "PACK1", "tag": "temperature", "value": 22.0, "ts": now + 0.02, "seq": 3},
                {"asset": "PACK1", "tag": "cycle_count", "value": 5, "ts": now + 0.03, "seq": 4}]
    (tmp_path / "plant.jsonl").write_text("\n".join(json.dumps(r) for r in readings) + "\nnot json\n")
    config = load_config(_config(tmp_path, standin.url, {"path": "plant.jsonl"}))
    assert config.sources[0].settings.path == tmp_path / "plant.jsonl"      # relative to the config file
    bridge = Bridge(config)
    bridge.start()
    try:
        wait_until(lambda: standin.envelopes("machine.measurement"), 20, "the measurement window")
        wait_until(lambda: standin.envelopes("machine.counter"), 20, "the counter window")
        assert [c["payload"]["delta"] for c in standin.envelopes("machine.counter")] == [5]
        (measurement,) = standin.envelopes("machine.measurement")
        assert measurement["payload"]["count"] == 2 and measurement["payload"]["avg"] == 21.0
        health = requests.get(f"http://127.0.0.1:{bridge.health.port}/healthz", timeout=2).json()
        assert health["sources"] == {"file": True} and health["stages"]["source:file"]["alive"]
        assert health["failed_stages"] == []
        (dead,) = bridge.outbox.dead_letters()
        assert dead["reason"].startswith("bad line:") and dead["source"] == "file"
    finally:
        bridge.stop(push_deadline_s=2)


def test_the_source_validates_its_own_block_with_key_paths(tmp_path):
    data = yaml.safe_load(_config(tmp_path, "http://127.0.0.1:1", {"path": "x.jsonl"}).read_text())
    data["sources"][0]["jsonl_file"] = {"interval_s": 1}
    with pytest.raises(ConfigError, match=r"^sources\[0\]\.jsonl_file\.path: required$"):
        parse_config(data, base_dir=tmp_path)
    data["sources"][0]["jsonl_file"] = {"path": "x.jsonl", "interval_s": 0}
    with pytest.raises(ConfigError, match=r"^sources\[0\]\.jsonl_file\.interval_s: must be >= 0.01"):
        parse_config(data, base_dir=tmp_path)
    data["sources"][0]["jsonl_file"] = {"path": "x.jsonl", "fields": {"asset": "topic[1]"}}
    with pytest.raises(ConfigError, match=r"^sources\[0\]\.jsonl_file\.fields\.asset: topic\[N\] paths only"):
        parse_config(data, base_dir=tmp_path)
    data["sources"][0]["type"] = "profinet"
    with pytest.raises(ConfigError) as info:
        parse_config(data, base_dir=tmp_path)
    assert str(info.value).startswith("sources[0].type: must be one of ")
    for kind in ("http_poll", "jsonl_file", "modbus", "mqtt", "opcua"):
        assert kind in str(info.value)


def test_the_built_in_sources_are_found_by_the_registry_and_a_type_cannot_be_taken_twice():
    types = source_types()
    assert {"mqtt", "opcua", "http_poll", "jsonl_file", "modbus"} <= set(types)
    assert all(issubclass(cls, Source) and cls.type == name for name, cls in types.items())
    with pytest.raises(TypeError, match="already registered"):
        register(type("OtherMqtt", (Source,), {"type": "mqtt"}))
    with pytest.raises(TypeError, match="must be an identifier"):
        register(type("Nameless", (Source,), {}))
    assert source_types()["mqtt"] is types["mqtt"]


def test_neither_config_nor_runtime_names_a_source_type():
    package = Path(edge_bridge.__file__).parent
    for module in ("config.py", "runtime.py"):
        text = (package / module).read_text()
        for kind in ("mqtt", "opcua", "http_poll"):
            assert kind not in text, f"{module} names the source type {kind}"


def test_a_source_module_whose_library_is_missing_leaves_the_others_working_and_says_why(tmp_path, monkeypatch):
    package = tmp_path / "plant_plugins"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "fieldbus_x.py").write_text("import no_such_fieldbus_library  # noqa: F401\n")
    (package / "tiny_ok.py").write_text(
        "from edge_bridge.sources import Source, register\n\n\n"
        "@register\nclass TinyOk(Source):\n    type = 'tiny_ok'\n\n"
        "    @classmethod\n    def parse_settings(cls, node, context):\n        return dict(node.data)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    discover("plant_plugins", package)
    assert "tiny_ok" in source_types() and "fieldbus_x" not in source_types()
    data = yaml.safe_load(_config(tmp_path, "http://127.0.0.1:1", {"path": "x.jsonl"}).read_text())
    data["sources"][0] = {"name": "bus", "type": "tiny_ok", "tiny_ok": {"speed": 9600}}
    assert parse_config(data, base_dir=tmp_path).sources[0].settings == {"speed": 9600}
    data["sources"][0] = {"name": "bus", "type": "fieldbus_x", "fieldbus_x": {}}
    with pytest.raises(ConfigError) as info:
        parse_config(data, base_dir=tmp_path)
    assert str(info.value) == ("sources[0].type: source type 'fieldbus_x' is not available here "
                               "(ModuleNotFoundError: No module named 'no_such_fieldbus_library')")
