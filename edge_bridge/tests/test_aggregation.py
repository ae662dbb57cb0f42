"""Shop-floor rules: counters with reset and roll-over, windows, stops, alarms, measurements."""
from datetime import datetime, timezone

import pytest
from helpers import asset_block

from edge_bridge.aggregate import Aggregator, SignalRejected
from edge_bridge.aggregate.counters import counter_delta
from edge_bridge.config import parse_config
from edge_bridge.envelopes import EnvelopeFactory
from edge_bridge.signals import Signal

T0 = 1_700_000_000.0   # a multiple of 10: windows of 10 s start here


def make(window_s=10, deadband=0.0, critical_after_s=60):
    data = {"device": {"code": "EDGE-T1"}, "assets": [asset_block("M1", True, critical_after_s, deadband)],
            "sources": [{"name": "mes", "type": "mqtt", "mqtt": {"client_id": "x", "topics": [{"filter": "#"}]}}],
            "sink": {"url": "http://127.0.0.1:1", "api_key": "k"}}
    config = parse_config(data)
    return Aggregator(config.assets, window_s, 1.0, EnvelopeFactory("EDGE-T1", "P1", schema_version=1))


def feed(aggregator, readings, seq_start=None):
    out = []
    for index, (offset, tag, value) in enumerate(readings):
        seq = None if seq_start is None else seq_start + index
        aggregator.apply(Signal("mes", "M1", tag, value, datetime.fromtimestamp(T0 + offset, timezone.utc), seq), out)
    return out


def by_type(events, type_name):
    return [e for e in events if e["type"] == type_name]


@pytest.mark.parametrize("last,value,rollover,expected", [
    (None, 500, None, (0, False)),          # first reading is the baseline
    (10, 15, None, (5, False)),
    (10, 3, None, (3, True)),               # reset: 3 parts since 0
    (65530, 4, 65535, (10, False)),         # roll-over: 65531..65535, 0..4
    (30000, 5, 65535, (5, True)),           # going back by half the range is a reset, not a wrap
    (7, 7, 65535, (0, False)),
])
def test_counter_delta(last, value, rollover, expected):
    assert counter_delta(last, value, rollover) == expected


def test_counter_deltas_per_window_and_confirmation():
    aggregator = make()
    events = feed(aggregator, [(0, "cycle_count", 100), (1, "cycle_count", 103), (2, "good_count", 0),
                               (3, "good_count", 2), (4, "scrap_reason", "DIM"), (5, "scrap_count", 0),
                               (6, "scrap_count", 1), (12, "cycle_count", 104)])
    counters = {e["payload"]["counter"]: e for e in by_type(events, "machine.counter")}
    assert counters["cycle_count"]["payload"]["delta"] == 3
    assert counters["cycle_count"]["key"] == "EDGE-T1/M1/machine.counter/cycle_count/w1700000000000"
    assert counters["cycle_count"]["payload"]["window_start"] == "2023-11-14T22:13:20.000+00:00"
    confirmation = by_type(events, "production.confirmation")[0]["payload"]
    assert (confirmation["qty_good"], confirmation["qty_scrap"], confirmation["order_ref"]) == (2, 1, "MO/1")
    scrap = by_type(events, "production.scrap")[0]["payload"]
    assert (scrap["qty"], scrap["reason_code"], scrap["product"]) == (1, "DIM", "BRACKET-100")
    envelope = by_type(events, "machine.counter")[0]
    assert envelope["source"] == "EDGE-T1" and envelope["schema_version"] == 1 and envelope["plant"] == "P1"


def test_reset_and_rollover_are_counted_correctly():
    aggregator = make()
    events = feed(aggregator, [(0, "cycle_count", 65530), (1, "cycle_count", 65535), (2, "cycle_count", 2),
                               (3, "cycle_count", 500), (4, "cycle_count", 3), (5, "cycle_count", 4)])
    aggregator.flush_all(events)
    counter = by_type(events, "machine.counter")[0]["payload"]
    # 5 + 3 (wrap) + 498 + 3 (reset to 0 then 3) + 1
    assert counter["delta"] == 510 and counter["resets"] == 1


def test_same_readings_give_same_keys_and_replayed_readings_are_skipped():
    readings = [(0, "cycle_count", 1), (1, "cycle_count", 5), (11, "cycle_count", 9), (25, "cycle_count", 12)]
    first, second = make(), make()
    keys_first = [e["key"] for e in feed(first, readings, seq_start=1)]
    keys_second = [e["key"] for e in feed(second, readings, seq_start=1)]
    assert keys_first == keys_second and len(set(keys_first)) == len(keys_first)
    # A redelivered message (same sequence) changes nothing.
    assert feed(first, [(25, "cycle_count", 12)], seq_start=4) == []
    assert first.duplicates_skipped == 1


def test_late_reading_never_reopens_an_emitted_window():
    aggregator = make()
    events = feed(aggregator, [(0, "cycle_count", 0), (1, "cycle_count", 1), (11, "cycle_count", 2)])
    events += feed(aggregator, [(2, "cycle_count", 4)])        # late: its window already closed
    aggregator.flush_all(events)
    counters = by_type(events, "machine.counter")
    assert [c["payload"]["delta"] for c in counters] == [1, 3]
    assert len({c["key"] for c in counters}) == 2


def test_timer_closes_windows_and_restart_continues_from_state():
    aggregator = make()
    feed(aggregator, [(0, "cycle_count", 0), (1, "cycle_count", 7)])
    out = []
    aggregator.flush_due(T0 + 10.5, out)
    assert out == []                       # still within grace
    aggregator.flush_due(T0 + 11.5, out)
    assert out[0]["payload"]["delta"] == 7
    restored = make()
    restored.restore(aggregator.snapshot())
    events = feed(restored, [(3, "cycle_count", 9)])
    restored.flush_all(events)
    assert events[0]["payload"]["delta"] == 2
    assert events[0]["payload"]["window_start"] == "2023-11-14T22:13:30.000+00:00"


def test_stop_produces_one_downtime_with_reason_and_critical_flag():
    aggregator = make(critical_after_s=60)
    events = feed(aggregator, [(0, "state", 1), (10, "state", 0), (10.2, "state_reason", "JAM"),
                               (40, "state", 1), (50, "state_reason", "MAT"), (51, "state", 0), (200, "state", 1)])
    downtimes = [e["payload"] for e in by_type(events, "machine.downtime")]
    assert [(d["reason_code"], d["duration_s"], d["critical"]) for d in downtimes] == [
        ("JAM", 30.0, False), ("MAT", 149.0, True)]
    assert downtimes[0]["start"] == "2023-11-14T22:13:30.000+00:00"


def test_alarms_are_immediate_and_boolean_alarms_report_edges_only():
    aggregator = make()
    events = feed(aggregator, [(0, "alarm", {"code": "OVERHEAT", "severity": "critical", "active": True}),
                               (1, "alarm", {"code": "OVERHEAT", "severity": "critical", "active": False})],
                  seq_start=1)
    assert [(e["payload"]["code"], e["payload"]["active"]) for e in events] == [("OVERHEAT", True), ("OVERHEAT", False)]
    assert events[0]["key"] == "EDGE-T1/M1/machine.alarm/OVERHEAT/mes-1/on"
    with pytest.raises(SignalRejected):
        feed(aggregator, [(2, "alarm", {"code": "X", "severity": "apocalyptic"})])


def test_measurements_min_max_avg_last_with_deadband():
    aggregator = make(deadband=1.0)
    events = feed(aggregator, [(0, "temperature", 20.0), (1, "temperature", 22.0), (2, "temperature", 21.0),
                               (11, "temperature", 21.2), (12, "temperature", 21.3), (21, "temperature", 25.0)])
    aggregator.flush_all(events)
    stats = [e["payload"] for e in by_type(events, "machine.measurement")]
    assert (stats[0]["min"], stats[0]["max"], stats[0]["avg"], stats[0]["last"], stats[0]["count"]) == (
        20.0, 22.0, 21.0, 21.0, 3)
    # The second window moved less than the deadband: not reported. The third did.
    assert [s["last"] for s in stats] == [21.0, 25.0]


def test_wrong_types_and_unknown_tags_are_rejected():
    aggregator = make()
    for tag, value in (("cycle_count", "12"), ("cycle_count", True), ("temperature", None), ("nope", 1)):
        with pytest.raises(SignalRejected):
            feed(aggregator, [(0, tag, value)])
