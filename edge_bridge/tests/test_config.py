"""Configuration: every mistake is reported with the key path and the reason; secrets stay secret."""
import subprocess

import pytest
import yaml
from helpers import EDGE_BRIDGE, asset_block, mqtt_source, write_config

from edge_bridge.config import ConfigError, Secret, load_config, parse_config


def base(tmp_path):
    path = write_config(tmp_path, [mqtt_source(1883, "c1", "mes")], [asset_block("PACK1", True)],
                        "http://127.0.0.1:1")
    return yaml.safe_load(path.read_text())


def error_of(data, tmp_path):
    with pytest.raises(ConfigError) as info:
        parse_config(data, base_dir=tmp_path)
    return str(info.value)


def test_the_example_configuration_is_valid(monkeypatch):
    monkeypatch.setenv("ODOO_API_KEY", "k")
    config = load_config(__file__.rsplit("/tests/", 1)[0] + "/examples/config.yaml")
    assert config.device_code == "EDGE-PLANT1-L1" and len(config.sources) == 2


def test_bad_qos_names_the_key(tmp_path):
    data = base(tmp_path)
    data["sources"][0]["mqtt"]["qos"] = 3
    assert error_of(data, tmp_path) == "sources[0].mqtt.qos: must be 0, 1 or 2"


def test_mqtt_client_choice(tmp_path):
    data = base(tmp_path)
    assert parse_config(data, base_dir=tmp_path).sources[0].settings.client == "fast"
    data["sources"][0]["mqtt"]["qos"] = 2
    assert parse_config(data, base_dir=tmp_path).sources[0].settings.client == "paho"   # fast has no QoS 2
    data["sources"][0]["mqtt"]["client"] = "fast"
    assert error_of(data, tmp_path) == "sources[0].mqtt.qos: client fast supports QoS 0 and 1 only"
    data["sources"][0]["mqtt"]["client"] = "mosquitto"
    assert error_of(data, tmp_path).startswith("sources[0].mqtt.client: must be one of fast, paho")


def test_unknown_keys_and_wrong_types_are_named(tmp_path):
    data = base(tmp_path)
    data["sink"]["batchsize"] = 10
    assert error_of(data, tmp_path).startswith("sink.batchsize: unknown key")
    data = base(tmp_path)
    data["sink"]["batch_size"] = "ten"
    assert error_of(data, tmp_path) == "sink.batch_size: must be an integer (got 'ten')"
    data = base(tmp_path)
    data["assets"][0]["tags"]["state"]["running_values"] = []
    assert "assets[0].tags.state.running_values" in error_of(data, tmp_path)
    data = base(tmp_path)
    data["buffer"]["on_full"] = "drop_everything"
    assert error_of(data, tmp_path).startswith("buffer.on_full: must be one of drop_oldest_delivered, reject_new")


def test_scrap_needs_a_product(tmp_path):
    data = base(tmp_path)
    del data["assets"][0]["product"]
    assert error_of(data, tmp_path).startswith("assets[0].product: required when a tag has role scrap")


def test_secrets_from_environment_and_files_never_show_in_repr(tmp_path, monkeypatch):
    data = base(tmp_path)
    monkeypatch.setenv("EDGE_TEST_KEY", "s3cret-from-env")
    data["sink"]["api_key"] = "${EDGE_TEST_KEY}"
    (tmp_path / "mqtt.pw").write_text("s3cret-from-file\n")
    data["sources"][0]["mqtt"]["username"] = "edge"
    data["sources"][0]["mqtt"]["password"] = "file:mqtt.pw"
    config = parse_config(data, base_dir=tmp_path)
    assert config.sink.api_key.reveal() == "s3cret-from-env"
    assert config.sources[0].settings.password.reveal() == "s3cret-from-file"
    assert "s3cret" not in repr(config) and "s3cret" not in str(config)
    assert repr(Secret("x")) == "Secret('***')"


def test_missing_environment_variable_is_named(tmp_path, monkeypatch):
    monkeypatch.delenv("EDGE_TEST_MISSING", raising=False)
    data = base(tmp_path)
    data["sink"]["api_key"] = "${EDGE_TEST_MISSING}"
    assert error_of(data, tmp_path) == "sink.api_key: environment variable EDGE_TEST_MISSING is not set"


def test_invalid_config_exits_2_with_a_clear_message(tmp_path):
    data = base(tmp_path)
    data["sources"][0]["mqtt"]["qos"] = 5
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    for command in ("run", "check-config"):
        result = subprocess.run([EDGE_BRIDGE, command, "-c", str(path)], capture_output=True, text=True, timeout=30)
        assert result.returncode == 2
        assert "sources[0].mqtt.qos: must be 0, 1 or 2" in result.stderr
    path.write_text("device: [unclosed")
    result = subprocess.run([EDGE_BRIDGE, "run", "-c", str(path)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "not valid YAML" in result.stderr


def test_max_packet_size_and_dead_letter_bound_have_sane_defaults_and_checked_bounds(tmp_path):
    data = base(tmp_path)
    config = parse_config(data, base_dir=tmp_path)
    assert config.sources[0].settings.max_packet_size == 1024 ** 2
    assert config.buffer.dead_letter_max == 10_000
    data["sources"][0]["mqtt"]["max_packet_size"] = "4MB"
    data["buffer"]["dead_letter_max"] = 500
    config = parse_config(data, base_dir=tmp_path)
    assert config.sources[0].settings.max_packet_size == 4_000_000 and config.buffer.dead_letter_max == 500
    data["sources"][0]["mqtt"]["max_packet_size"] = 100
    assert error_of(data, tmp_path).startswith("sources[0].mqtt.max_packet_size: must be between 1KB and 256MB")
    data["sources"][0]["mqtt"]["max_packet_size"] = "1MB"
    data["buffer"]["dead_letter_max"] = 0
    assert error_of(data, tmp_path).startswith("buffer.dead_letter_max")
