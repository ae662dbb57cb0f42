"""End to end, Odoo -> plant: a manufacturing order confirmed in a real Odoo 19 (with
mfg_integration_mrp, its queue_job runner and 2 HTTP workers) reaches the simulator's OPC UA PLC
through ``edge-bridge run``, and the PLC's answer comes back to the Odoo message.

Odoo never opens a connection towards the plant: the edge connector has no address at all
(asserted), the bridge fetches over JSON-2 with its API key (``mfg.connector.edge_fetch``),
writes the order to allow-listed nodes with read-back, and reports (``edge_report``). Checked on
the PLC's nodes and on Odoo's database: the order's number, product and quantity written once;
a quantity outside the configured range refused, its reason on the Odoo message, the next order
written anyway; the bridge dying right after storing a fetched order (before its ack) writes
that order once after the restart, and Odoo records it once.
"""
import os
import sqlite3
import subprocess

import pytest
import yaml

from edge_e2e_helpers import bridge_helpers
from odoo_harness import OdooServer, create_db, drop_db, odoo_shell

EDGE_BRIDGE, free_port, wait_until = bridge_helpers.EDGE_BRIDGE, bridge_helpers.free_port, bridge_helpers.wait_until
CODE = "EDGE-E2E-RETURN"

SETUP = """
import json
code = %r
product = env["product.product"].create({"name": "E2E return bracket", "default_code": "E2E-RB",
                                         "is_storable": True})
connector = env["mfg.connector"].create({"name": "Plant 1 edge", "code": code, "connector_type": "edge"})
env["mfg.flow"].create({"name": "releases to the plant", "connector_id": connector.id,
                        "canonical_type": "production.order", "direction": "out",
                        "ordering_key_field": "order_ref"})
env["mfg.mapping"].create({"mapping_type": "product", "external_code": "BRK-100",
                           "product_id": product.id, "connector_id": connector.id})
user = env["res.users"].create({"name": "Plant 1 edge API", "login": code.lower(),
    "group_ids": [(6, 0, [env.ref("mfg_integration.group_mfg_ingest").id])]})
connector.ingest_user_ids = [(4, user.id)]
key = env["res.users.apikeys"].with_user(user).sudo()._generate("rpc", "edge", None)
env.cr.commit()
print(json.dumps({"key": key, "product_id": product.id, "endpoint": connector.endpoint_url or None}))
"""

CONFIRM = """
import json
production = env["mrp.production"].create({"product_id": %d, "product_qty": %r})
production.action_confirm()
env.cr.commit()
print(json.dumps({"name": production.name}))
"""


@pytest.fixture(scope="module")
def odoo():
    server = OdooServer()
    create_db(server.db, "mfg_integration_mrp")
    try:
        server.setup = odoo_shell(server.db, SETUP % CODE)
        server.start()
        yield server
    finally:
        server.stop()
        drop_db(server.db)


def bridge_config(tmp_path, odoo, plc):
    node = "ns=2;s=PRESS1.{}".format
    config = {
        "device": {"code": CODE},
        "buffer": {"path": str(tmp_path / "buffer.db")},
        "sink": {"url": odoo.url, "db": odoo.db, "api_key": odoo.setup["key"], "timeout_s": 10},
        "heartbeat": {"enabled": True, "interval_s": 5},
        "observability": {"port": free_port()},
        "targets": [{"name": "press1", "type": "opcua", "opcua": {
            "endpoint": plc.sim.endpoint, "timeout_s": 2,
            "writes": {"production.order": [
                {"node_id": node("order_ref"), "value": "payload.order_ref", "data_type": "String"},
                {"node_id": node("order_product"), "value": "payload.product", "data_type": "String"},
                {"node_id": node("order_qty"), "value": "payload.qty", "data_type": "Double",
                 "min": 1, "max": 10000},
                {"node_id": node("order_loaded"), "constant": True, "data_type": "Boolean"}]}}}],
        "return_path": {"routes": {"production.order": "press1"}, "poll_interval_s": 0.5},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def confirm(odoo, qty):
    return odoo_shell(odoo.db, CONFIRM % (odoo.setup["product_id"], qty))["name"]


def release_state(odoo, name):
    rows = odoo.query("SELECT state, result_summary, last_error, handed_over_at IS NOT NULL FROM mfg_message "
                      "WHERE correlation_id = %s AND direction = 'out' AND payload->>'action' = 'release'",
                      (name,))
    return rows


def test_an_mo_release_reaches_the_plc_through_the_bridge_and_its_answer_comes_back(tmp_path, odoo):
    assert odoo.setup["endpoint"] is None, "Odoo knows no address of the plant"
    plc = bridge_helpers.ThreadedPlc()
    bridge = bridge_helpers.BridgeProcess(bridge_config(tmp_path, odoo, plc), tmp_path / "bridge.log")
    try:
        bridge.start(wait_sources=False)
        good = confirm(odoo, 12.0)
        wait_until(lambda: [r[0] for r in release_state(odoo, good)] == ["done"], 60,
                   f"release of {good} done in Odoo")
        assert (plc.value("order_ref"), plc.value("order_product"), plc.value("order_qty"),
                plc.value("order_loaded")) == (good, "BRK-100", 12.0, True), "the MES's product code"
        assert release_state(odoo, good)[0][1] == "wrote and read back 4 value(s)"
        assert len(plc.writes_of("order_ref", good)) == 1
        too_big = confirm(odoo, 50000.0)
        after = confirm(odoo, 3.0)
        wait_until(lambda: [r[0] for r in release_state(odoo, after)] == ["done"], 60, f"{after} done")
        state, _summary, error, handed = release_state(odoo, too_big)[0]
        assert (state, handed) == ("exception", True)
        assert error.startswith(f"{CODE} refused it: payload.qty = 50000.0 is outside the allowed range")
        assert plc.writes_of("order_ref", too_big) == [], "nothing of the refused order reached the PLC"
        assert plc.value("order_ref") == after
    finally:
        bridge.terminate()
        plc.stop()


def test_bridge_dying_after_storing_an_order_writes_it_once_after_the_restart(tmp_path, odoo):
    plc = bridge_helpers.ThreadedPlc()
    path = bridge_config(tmp_path, odoo, plc)
    try:
        name = confirm(odoo, 5.0)
        with open(tmp_path / "dying.log", "wb") as log:
            dying = subprocess.Popen([EDGE_BRIDGE, "run", "-c", str(path)], stdout=log, stderr=log,
                                     env={**os.environ, "EDGE_BRIDGE_EXIT_AT": "return_path.stored:1"})
        assert dying.wait(60) == 86, (tmp_path / "dying.log").read_text()[-2000:]
        state, _summary, _error, handed = release_state(odoo, name)[0]
        assert (state, handed) == ("mapped", False), "stored by the bridge, not acknowledged yet"
        assert plc.writes_of("order_ref", name) == []
        bridge = bridge_helpers.BridgeProcess(path, tmp_path / "bridge.log").start(wait_sources=False)
        try:
            wait_until(lambda: [r[0] for r in release_state(odoo, name)] == ["done"], 60, f"{name} done")
        finally:
            bridge.terminate()
        assert len(plc.writes_of("order_ref", name)) == 1, "written once"
        assert len(release_state(odoo, name)) == 1
        store = sqlite3.connect(tmp_path / "buffer.db")
        try:
            rows = store.execute("SELECT state, acked, reported FROM command WHERE key LIKE ?",
                                 (f"{name}:release:%",)).fetchall()
        finally:
            store.close()
        assert rows == [("delivered", 1, 1)], "fetched twice, stored once"
    finally:
        plc.stop()
