#!/usr/bin/env python3
"""Edge bridge benchmark (not a test): naive bridge vs ours, stage by stage.

  .venv/bin/python bench/bench_edge.py [--messages 100000]
      [--odoo-url URL --db DB --api-key KEY --login LOGIN [--device EDGE-T1] [--odoo-db-dsn DSN]]

Without --odoo-url everything goes to the in-process Odoo ingest stand-in
(edge_bridge.simulator.odoo_standin); with it, the sink figures are against that Odoo: the
connector ``--device`` must exist there with inbound flows for the machine.* types and the API
user ``--login`` (owner of ``--api-key``) must be bound to it. Delivered events are then counted
as committed rows of mfg_message (psycopg2, ``--odoo-db-dsn``, default ``dbname=DB host=127.0.0.1``)
and alarm latency is PLC value change -> row visible (committed) in that table. Any envelope Odoo
rejects makes the bench fail: rejects are never counted as delivered.
Needs mosquitto on PATH (a private broker is started on a free port).
"""
import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import paho.mqtt.client as mqtt

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "edge_bridge" / "tests"))
from edge_bridge.aggregate import Aggregator, is_critical  # noqa: E402
from edge_bridge.buffer import Outbox  # noqa: E402
from edge_bridge.config import BufferConfig, Secret, SinkConfig, load_config  # noqa: E402
from edge_bridge.envelopes import EnvelopeFactory  # noqa: E402
from edge_bridge.observability import Metrics  # noqa: E402
from edge_bridge.runtime import Bridge  # noqa: E402
from edge_bridge.signals import Signal  # noqa: E402
from edge_bridge.simulator.odoo_standin import OdooStandIn  # noqa: E402
from edge_bridge.simulator.plc import PlcSimulator  # noqa: E402
from edge_bridge.sink.forwarder import Forwarder  # noqa: E402
from edge_bridge.sink.odoo import make_transport  # noqa: E402
from helpers import (  # noqa: E402
    BridgeProcess,
    PrivateBroker,
    asset_block,
    free_port,
    mqtt_source,
    opcua_source,
    wait_until,
    write_config,
)

from mqtt_library_sources import AsyncLibrarySource  # noqa: E402

ASSETS = [f"M{i:02d}" for i in range(10)]
TAGS = ("cycle_count", "good_count", "temperature", "state")


def reading(i, start):
    """Synthetic MES traffic: 10 machines, counters rising, temperatures wandering, rare stops."""
    asset = ASSETS[i % len(ASSETS)]
    tag = TAGS[(i // len(ASSETS)) % len(TAGS)]
    n = i // (len(ASSETS) * len(TAGS))
    value = {"cycle_count": n, "good_count": n, "temperature": 40 + (n % 50) / 10,
             "state": 0 if n % 500 == 250 else 1}[tag]
    return asset, tag, value, start + i / 1000.0


def payload(i, start):
    asset, tag, value, at = reading(i, start)
    return json.dumps({"asset": asset, "tag": tag, "value": value, "ts": at, "seq": i + 1})


def bench_assets():
    return [asset_block(name, True) for name in ASSETS]


class BenchFailure(SystemExit):
    pass


class Tally:
    """Wraps a transport and adds up Odoo's answers: accepted, duplicates, rejected (with reasons)."""

    def __init__(self, transport):
        self.transport = transport
        self.accepted = self.duplicates = 0
        self.rejected = []

    def ingest(self, bodies):
        answer = self.transport.ingest(bodies)
        self.accepted += answer["accepted"]
        self.duplicates += answer["duplicates"]
        self.rejected.extend(answer["rejected"])
        return answer

    def __getattr__(self, name):
        return getattr(self.transport, name)

    def check(self, what):
        if self.rejected:
            reasons = sorted({str(item.get("error")) for item in self.rejected})
            raise BenchFailure(f"FAIL {what}: Odoo rejected {len(self.rejected)} envelopes "
                               f"(accepted {self.accepted}, duplicates {self.duplicates}); reasons: {reasons[:5]}")


class Sink:
    """Where events go: the stand-in (default) or a real Odoo."""

    def __init__(self, args):
        self.args = args
        self.device = args.device
        self.standin = None if args.odoo_url else OdooStandIn().start()
        self.url = args.odoo_url or self.standin.url
        self.api_key = args.api_key or "test-key"
        self.db = args.db if args.odoo_url else "edge"      # the stand-in checks X-Odoo-Database: edge
        self.dsn = args.odoo_db_dsn or (f"dbname={args.db} host=127.0.0.1" if args.odoo_url else None)
        self._pg = None
        # "committed": a key counts once its row is stored; "done": once Odoo applied it (its document
        # exists) - what the priority lane is about (bench/bench_priority_lane.py).
        self.until = "committed"

    @property
    def real(self):
        return self.standin is None

    def config(self, protocol="json2", **extra):
        return SinkConfig(url=self.url, protocol=protocol, db=self.db, api_key=Secret(self.api_key),
                          login=self.args.login, batch_size=1000, batch_max_age_s=0.05, timeout_s=60, **extra)

    def config_blocks(self, **sink):
        """write_config() keywords pointing a bridge at this sink, with this device code."""
        return {"api_key": self.api_key, "sink": {"protocol": "json2", "db": self.db, **sink},
                "extra": {"device": {"code": self.device, "plant": "P1"}}}

    def pg(self):
        if self._pg is None:
            import psycopg2
            self._pg = psycopg2.connect(self.dsn)
            self._pg.autocommit = True
        return self._pg

    def committed(self, keys):
        """How many of ``keys`` (this device) are committed rows of mfg_message in Odoo."""
        keys = list(keys)
        if not self.real:
            return sum((self.device, key) in self.standin.arrivals for key in keys)
        with self.pg().cursor() as cur:
            cur.execute("SELECT count(*) FROM mfg_message WHERE source = %s AND key = ANY(%s)", (self.device, keys))
            return cur.fetchone()[0]

    def watch(self, keys, seen, writing_done, timeout):
        """Poll while ``keys`` (a dict other threads add to) is written and until every key is committed;
        fills ``seen`` {key: time.time() first seen}. Real Odoo: 10 ms polling of committed rows (Odoo's
        received_at/create_date only have whole seconds); stand-in: its arrival stamps."""
        deadline = None
        while True:
            if deadline is None and writing_done.is_set():
                deadline = time.time() + timeout
            pending = set(list(keys)) - set(seen)
            if writing_done.is_set() and (not pending or time.time() > deadline):
                return seen
            if not pending:
                time.sleep(0.005)
                continue
            if self.real:
                with self.pg().cursor() as cur:
                    done = " AND state = 'done'" if self.until == "done" else ""
                    cur.execute("SELECT key FROM mfg_message WHERE source = %s AND key = ANY(%s)" + done,
                                (self.device, list(pending)))
                    found = [row[0] for row in cur.fetchall()]
                now = time.time()
                for key in found:
                    seen[key] = now
            else:
                for key in list(pending):
                    if (self.device, key) in self.standin.arrivals:
                        seen[key] = self.standin.arrivals[(self.device, key)]
            time.sleep(0.01)

    def jobs_pending(self):
        """Odoo's queue_job jobs not yet done (message processing shares the HTTP workers with ingest)."""
        if not self.real:
            return 0
        with self.pg().cursor() as cur:
            cur.execute("SELECT count(*) FROM queue_job WHERE state IN ('pending', 'enqueued', 'started')")
            return cur.fetchone()[0]

    def settle(self, timeout):
        """Wait until Odoo has worked off its job queue (or ``timeout``); returns the jobs left."""
        deadline = time.time() + timeout
        while self.jobs_pending() and time.time() < deadline:
            time.sleep(1)
        return self.jobs_pending()

    def close(self):
        if self._pg is not None:
            self._pg.close()
        if self.standin:
            self.standin.stop()


def prepublish(port, client_id, prefix, count, start):
    """Queue ``count`` messages at the broker for a persistent session that is offline."""
    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 3600
    sub.connect("127.0.0.1", port, clean_start=False, properties=props)
    sub.loop_start()
    sub.subscribe(f"{prefix}/#", qos=1)[1]
    time.sleep(0.3)
    sub.disconnect()
    sub.loop_stop()
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{client_id}-pub")
    pub.max_inflight_messages_set(2000)
    pub.max_queued_messages_set(0)
    pub.connect("127.0.0.1", port)
    pub.loop_start()
    info = None
    for i in range(count):
        info = pub.publish(f"{prefix}/{reading(i, start)[0]}/x", payload(i, start), qos=1)
    while not info.is_published():
        time.sleep(0.05)
    pub.disconnect()
    pub.loop_stop()


def stage_mqtt_receive(port, count, start):
    """Bare paho client, QoS 1, ack right away: the ceiling of any Python MQTT consumer."""
    prepublish(port, "bench-raw", "raw", count, start)
    received = [0]
    done = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-raw", protocol=mqtt.MQTTv5)
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 3600
    props.ReceiveMaximum = 1000

    def on_message(c, u, m):
        json.loads(m.payload)
        received[0] += 1
        if received[0] == count:
            done.set()
    client.on_message = on_message
    began = time.perf_counter()
    client.connect("127.0.0.1", port, clean_start=False, properties=props)
    client.loop_start()
    done.wait(300)
    elapsed = time.perf_counter() - began
    client.disconnect()
    client.loop_stop()
    return count / elapsed


def stage_fast_receive(port, count, start):
    """Our socket client (sources/mqtt_fast.py), QoS 1, ack right away: receive + JSON + Signal."""
    from edge_bridge.config import FieldPaths, MqttConfig, MqttTopic, SourceConfig
    from edge_bridge.sources.mqtt_fast import FastMqttSource
    prepublish(port, "bench-raw-fast", "rawf", count, start)
    received = [0]
    done = threading.Event()

    class AckAtOnce:
        def offer(self, delivery, timeout):
            received[0] += len(delivery.signals)
            if delivery.ack:
                delivery.ack()
            if received[0] >= count:
                done.set()
            return True
    settings = MqttConfig(port=port, client_id="bench-raw-fast", session_expiry_s=3600, receive_maximum=1000,
                          client="fast", topics=[MqttTopic("rawf/#", FieldPaths())])
    source = FastMqttSource(SourceConfig(name="mes", type="mqtt", settings=settings), AckAtOnce(), Metrics())
    began = time.perf_counter()
    source.start()
    done.wait(300)
    elapsed = time.perf_counter() - began
    source.close()
    return count / elapsed


def stage_aggregate_buffer(tmpdir, count, start):
    """Aggregation + buffer commits alone (what the worker does), no network."""
    config = load_config(write_config(Path(tmpdir), [mqtt_source(1, "x", "p")], bench_assets(), "http://x",
                                      window_s=1.0))
    outbox = Outbox(Path(tmpdir) / "stage.db")
    aggregator = Aggregator(config.assets, 1.0, 0.5, EnvelopeFactory("EDGE-B"))
    signals = [Signal("mes", *reading(i, start)[:3], datetime.fromtimestamp(reading(i, start)[3], timezone.utc), i + 1)
               for i in range(count)]
    events_total = 0
    began = time.perf_counter()
    for offset in range(0, count, 5000):
        events = []
        for signal in signals[offset:offset + 5000]:
            aggregator.apply(signal, events)
        outbox.commit(events, aggregator.take_dirty_states(), critical_of=is_critical)
        events_total += len(events)
    elapsed = time.perf_counter() - began
    outbox.close()
    return count / elapsed, events_total


def stage_end_to_end(tmpdir, broker, sink, count, start, client="paho"):
    """MQTT -> aggregation -> buffer through the real Bridge, one core, backlog queued at the broker."""
    client_id, prefix = f"bench-edge-{client}", f"mes-{client}"
    prepublish(broker.port, client_id, prefix, count, start)
    source = mqtt_source(broker.port, client_id, prefix)
    source["mqtt"]["client"] = client if client in ("paho", "fast") else "fast"
    blocks = sink.config_blocks()
    blocks["extra"]["heartbeat"] = {"enabled": False}
    path = write_config(Path(tmpdir), [source], bench_assets(), sink.url, window_s=1.0, **blocks)
    config = load_config(path)
    config.sources[0].settings.session_expiry_s = 3600
    bridge = Bridge(config, serve_http=False)
    if client in ("gmqtt", "aiomqtt"):
        settings = config.sources[0].settings
        bridge.sources = [AsyncLibrarySource(client, broker.port, client_id, settings.topics[0].filter,
                                             settings.topics[0].fields, bridge.inbox, bridge.metrics)]
    os.sched_setaffinity(0, {0})                  # this thread and every stage thread: one core
    began = time.perf_counter()
    bridge.start()
    last_seq = count

    def done():
        states = bridge.outbox.load_states()
        return all(any(v >= last_seq - len(ASSETS) * len(TAGS) for v in s["seq"].values()) for s in states.values()) \
            and len(states) == len(ASSETS)
    wait_until(done, 600, "bridge to commit the backlog", interval=0.02)
    elapsed = time.perf_counter() - began
    os.sched_setaffinity(0, set(range(os.cpu_count())))
    bridge.stop(push_deadline_s=60)
    rejected = bridge.metrics.registry.get_sample_value("edge_events_rejected_total") or 0
    if rejected:
        raise BenchFailure(f"FAIL end to end ({client}): Odoo rejected {rejected:.0f} envelopes; see the log above")
    return count / elapsed


def naive(sink, count, start):
    """(a) one JSON-RPC call per raw message; returns raw messages (= events) committed per second."""
    transport = Tally(make_transport(sink.config(protocol="jsonrpc"), "naive"))
    factory = EnvelopeFactory(sink.device)
    keys = []
    began = time.perf_counter()
    for i in range(count):
        asset, tag, value, at = reading(i, start)
        # "naive" + source time in the key: no collision with our envelopes or an earlier run
        envelope = factory.build("machine.measurement", (asset, tag, "naive", str(int(at * 1000))),
                                 datetime.fromtimestamp(at, timezone.utc),
                                 {"asset": asset, "tag": tag, "window_start": "2024-01-01T00:00:00+00:00",
                                  "window_end": "2024-01-01T00:00:00+00:00", "min": value, "max": value,
                                  "avg": value, "last": value, "count": 1})
        keys.append(envelope["key"])
        transport.ingest([json.dumps(envelope)])
    elapsed = time.perf_counter() - began
    transport.check("naive bridge")
    committed = sink.committed(keys)
    if committed != count:
        raise BenchFailure(f"FAIL naive bridge: {committed} of {count} messages are committed in the sink")
    return committed / elapsed, transport


def delivery_and_backlog(tmpdir, sink, start):
    """events/s delivered, and the drain time of a 10-minute outage at 1,000 msg/s."""
    config = load_config(write_config(Path(tmpdir), [mqtt_source(1, "x", "p")], bench_assets(), "http://x",
                                      window_s=1.0))
    outbox = Outbox(Path(tmpdir) / "backlog.db")
    aggregator = Aggregator(config.assets, 1.0, 0.5, EnvelopeFactory(sink.device, "P1"))
    raw = 600_000                      # 10 minutes at 1,000 messages/s
    for offset in range(0, raw, 5000):
        events = []
        for i in range(offset, offset + 5000):
            asset, tag, value, at = reading(i, start)
            aggregator.apply(Signal("mes", asset, tag, value, datetime.fromtimestamp(at, timezone.utc), i + 1), events)
        outbox.commit(events, aggregator.take_dirty_states(), critical_of=is_critical)
    backlog = outbox.pending_count()
    keys = [row.key for row in outbox.fetch_pending(backlog)]
    before = sink.committed(keys)
    if before:
        raise BenchFailure(f"FAIL backlog: {before} of its keys are already in the sink (rerun on a fresh time base)")
    transport = Tally(make_transport(sink.config(), "bench"))
    forwarder = Forwarder(outbox, transport, sink.config(), BufferConfig(), Metrics())
    began = time.perf_counter()
    drained = forwarder.drain(time.time() + 900)
    drain_s = time.perf_counter() - began
    outbox.close()
    if not drained:
        raise BenchFailure(f"FAIL backlog: not drained ({forwarder.last_error})")
    transport.check("backlog drain")
    committed = sink.committed(keys)
    if committed != backlog or transport.accepted + transport.duplicates != backlog:
        raise BenchFailure(f"FAIL backlog: {backlog} events sent, Odoo answered {transport.accepted} accepted + "
                           f"{transport.duplicates} duplicates, {committed} committed rows")
    return backlog, committed, transport, drain_s


def latency(tmpdir, broker, sink, name="lat", background_rate=1000, alarms=40, raised_only=False):
    """PLC alarm value change -> committed at the receiver (or applied: ``sink.until``), with 1,000
    msg/s MQTT background. ``raised_only``: the figures of raised alarms only (a cleared alarm is
    no emergency and takes the normal queue)."""
    import asyncio
    plc = PlcSimulator(free_port(), ["PRESS1"])
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    asyncio.run_coroutine_threadsafe(plc.start(), loop).result(30)
    opc = opcua_source(plc.endpoint)
    opc["opcua"]["publishing_interval_ms"] = 20
    (Path(tmpdir) / name).mkdir()
    path = write_config(Path(tmpdir) / name, [opc, mqtt_source(broker.port, f"bench-{name}", "bg")],
                        [asset_block("PRESS1", False)] + bench_assets(), sink.url,
                        batch_max_age_s=0.5, batch_size=1000, **sink.config_blocks(timeout_s=30))
    bridge = BridgeProcess(path, Path(tmpdir) / name / "bridge.log").start()
    stop = threading.Event()

    def background():
        pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-bg-{name}")
        pub.connect("127.0.0.1", broker.port)
        pub.loop_start()
        began, i = time.time(), 0
        while not stop.is_set():
            target = began + i / background_rate
            delay = target - time.time()
            if delay > 0:
                time.sleep(delay)
            pub.publish(f"bg/{reading(i, began)[0]}/x", payload(i, began), qos=1)
            i += 1
        pub.loop_stop()
    threading.Thread(target=background, daemon=True).start()
    time.sleep(2)
    written, seen, writing_done = {}, {}, threading.Event()
    poller = threading.Thread(target=sink.watch, args=(written, seen, writing_done, 60), daemon=True)
    poller.start()
    for n in range(alarms):
        at = time.time()
        asyncio.run_coroutine_threadsafe(plc.write("PRESS1", "alarm_overheat", n % 2 == 0, at), loop).result(5)
        if n % 2 == 0 or not raised_only:     # a cleared alarm takes the queue: not watched then
            written[f"{sink.device}/PRESS1/machine.alarm/OVERHEAT/{int(round(at * 1000))}/"
                    f"{'on' if n % 2 == 0 else 'off'}"] = at
        time.sleep(0.25)
    writing_done.set()
    poller.join()
    stop.set()
    rejected = bridge.metric("edge_events_rejected_total")
    background_events = bridge.metric("edge_events_delivered_total")
    bridge.terminate()
    asyncio.run_coroutine_threadsafe(plc.stop(), loop).result(30)
    if rejected:
        raise BenchFailure(f"FAIL latency: Odoo rejected {rejected:.0f} envelopes; see {bridge.log_path}")
    missing = set(written) - set(seen)
    if missing:
        raise BenchFailure(f"FAIL latency: {len(missing)} of {len(written)} alarms never committed "
                           f"(e.g. {sorted(missing)[:2]}); see {bridge.log_path}")
    latencies = sorted((seen[k] - at) * 1000 for k, at in written.items())
    return (statistics.median(latencies), latencies[int(len(latencies) * 0.95) - 1], latencies[-1],
            background_events)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--naive-messages", type=int, default=3000)
    parser.add_argument("--only-mqtt", action="store_true", help="just the MQTT stages (quick)")
    parser.add_argument("--odoo-url")
    parser.add_argument("--db")
    parser.add_argument("--api-key")
    parser.add_argument("--login", default="admin", help="for the naive bridge's /jsonrpc login")
    parser.add_argument("--device", default="EDGE-T1",
                        help="edge connector code in Odoo (envelopes' source); the API user must be bound to it")
    parser.add_argument("--odoo-db-dsn", help="psycopg2 DSN of the Odoo database, to count committed rows "
                                              "(default: dbname=<--db> host=127.0.0.1)")
    args = parser.parse_args()
    if args.odoo_url and not (args.db and args.api_key):
        parser.error("--odoo-url needs --db and --api-key")
    if not shutil.which("mosquitto") and not Path("/usr/sbin/mosquitto").exists():
        sys.exit("mosquitto is needed")
    sink = Sink(args)
    # Keys derive from source time: each phase gets its own time base, so no phase (nor an earlier
    # run against the same database) turns another phase's events into duplicates.
    start = time.time() - 3600
    phase_start = {"naive": start, "paho": start - 1 * 100_000, "fast": start - 2 * 100_000,
                   "backlog": start - 3 * 100_000, "gmqtt": start - 4 * 100_000, "aiomqtt": start - 5 * 100_000}
    where = "Odoo" if sink.real else "the stand-in"
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        broker = PrivateBroker(tmp).start()
        try:
            print(f"sink: {sink.url} ({'real Odoo, db ' + args.db if sink.real else 'stand-in'}), "
                  f"device {sink.device}; cores: {os.cpu_count()}")
            naive_rate, naive_tally = naive(sink, args.naive_messages, phase_start["naive"])
            print(f"(a) naive, one JSON-RPC call per raw message:      {naive_rate:10,.0f} msg/s committed in {where} "
                  f"({naive_tally.accepted:,} accepted, {naive_tally.duplicates} duplicates, 0 rejected)")
            raw_rate = stage_mqtt_receive(broker.port, args.messages, start)
            print(f"    stage: bare paho QoS1 receive + json parse:    {raw_rate:10,.0f} msg/s")
            fast_raw_rate = stage_fast_receive(broker.port, args.messages, start)
            print(f"    stage: fast client QoS1 receive + json + Signal:{fast_raw_rate:9,.0f} msg/s")
            agg_rate, events = stage_aggregate_buffer(tmpdir, args.messages, start)
            print(f"    stage: aggregation + buffer commit:            {agg_rate:10,.0f} msg/s "
                  f"({events} events from {args.messages} readings)")
            for client in ("paho", "gmqtt", "aiomqtt", "fast"):
                (tmp / f"e2e-{client}").mkdir()
                e2e_rate = stage_end_to_end(tmp / f"e2e-{client}", broker, sink, args.messages,
                                            phase_start[client], client)
                print(f"(b) ours, MQTT -> aggregation -> buffer, 1 core, client {client}: {e2e_rate:10,.0f} msg/s "
                      f"({e2e_rate / naive_rate:,.0f}x naive)")
            if args.only_mqtt:
                return
            (tmp / "drain").mkdir()
            backlog, committed, tally, drain_s = delivery_and_backlog(tmp / "drain", sink, phase_start["backlog"])
            naive_drain_s = 600_000 / naive_rate
            print(f"    delivered into {where}: {committed / drain_s:10,.0f} events/s committed "
                  f"({tally.accepted:,} accepted + {tally.duplicates} duplicates = {committed:,} rows, 0 rejected), "
                  f"= {600_000 / drain_s:,.0f} raw readings/s ({600_000 / drain_s / naive_rate:,.0f}x naive)")
            print(f"    10-min outage at 1,000 msg/s = 600,000 readings = {backlog:,} events; drain time "
                  f"{drain_s:.1f} s (naive: 600,000 calls = {naive_drain_s:,.0f} s, "
                  f"{naive_drain_s / drain_s:,.0f}x ours)")
            jobs_before = sink.jobs_pending()
            lat = latency(tmpdir, broker, sink, "lat-busy")
            print(f"    critical alarm latency PLC value change -> committed in {where} @1,000 msg/s: "
                  f"p50 {lat[0]:.0f} ms, p95 {lat[1]:.0f} ms, max {lat[2]:.0f} ms "
                  f"(40 alarms; {lat[3]:.0f} events delivered meanwhile)"
                  + (f"; right after the phases above, Odoo still processing them: {jobs_before:,} queue jobs "
                     f"pending at start" if sink.real else ""))
            if sink.real:
                left = sink.settle(600)
                lat = latency(tmpdir, broker, sink, "lat-idle")
                print(f"    same, Odoo's job queue worked off first ({left} jobs left): p50 {lat[0]:.0f} ms, "
                      f"p95 {lat[1]:.0f} ms, max {lat[2]:.0f} ms (40 alarms; {lat[3]:.0f} events delivered meanwhile)")
            if naive_rate < 1000:
                print(f"    naive at 1,000 msg/s: it commits {naive_rate:,.0f} msg/s, so its queue grows by "
                      f"{1000 - naive_rate:,.0f} msg/s and an alarm behind it waits without bound "
                      f"(after 1 min: {(1000 - naive_rate) * 60 / naive_rate:,.0f} s)")
        finally:
            broker.stop()
            sink.close()


if __name__ == "__main__":
    main()
