"""Several Odoo nodes in ``sink.url``: a node that cannot be reached or answers 502/503/504 sends
the next calls to the next node; the batch is retried there and stored once (Odoo deduplicates
by key). Against two real stand-in HTTP servers (one "node" down, then the other)."""
import json

import pytest

from edge_bridge.config import ConfigError, parse_config
from edge_bridge.simulator.odoo_standin import OdooStandIn
from edge_bridge.sink.odoo import TransientError, make_transport


def envelope(key):
    return json.dumps({"schema_version": 1, "type": "machine.alarm", "key": key, "source": "EDGE-T1",
                       "occurred_at": "2026-12-04T08:00:00+00:00",
                       "payload": {"asset": "P", "code": "E1", "severity": "warning", "active": True}})


def sink(urls):
    return parse_config({"device": {"code": "EDGE-T1"}, "assets": [], "sources": [],
                         "return_path": {"routes": {"x": "t"}},
                         "targets": [{"name": "t", "type": "rest", "rest": {"url": "http://127.0.0.1:1/"}}],
                         "sink": {"url": urls, "db": "edge", "api_key": "test-key"}}).sink


def test_calls_move_to_the_next_node_when_one_is_down_and_back_when_it_returns():
    first, second = OdooStandIn().start(), OdooStandIn().start()
    port = first.port
    first.stop()                                        # node 1 is down
    transport = make_transport(sink([f"http://127.0.0.1:{port}", second.url]), "test")
    try:
        with pytest.raises(TransientError, match="cannot reach"):
            transport.ingest([envelope("a")])
        assert transport.ingest([envelope("a"), envelope("b")])["accepted"] == 2, "retried on node 2"
        second.fail_statuses = [503]                      # node 2 is going away
        with pytest.raises(TransientError, match="HTTP 503"):
            transport.ingest([envelope("c")])
        first = OdooStandIn(port=port).start()          # node 1 is back
        answer = transport.ingest([envelope("b"), envelope("c")])
        assert answer == {"accepted": 2, "duplicates": 0, "rejected": []}, "node 1 has its own store"
        assert (transport.active, transport.failovers) == (0, 2)
        # A 500 is not a node problem (it may be one envelope): no fail-over.
        first.fail_statuses = [500]
        with pytest.raises(TransientError, match="HTTP 500"):
            transport.ingest([envelope("d")])
        assert transport.active == 0
    finally:
        first.stop()
        second.stop()


def test_urls_are_checked_one_by_one():
    with pytest.raises(ConfigError, match=r"sink.url\[1\]: must be an http"):
        sink(["http://127.0.0.1:8069", "ftp://odoo"])
    assert sink("http://a:8069/").urls == ("http://a:8069",)
