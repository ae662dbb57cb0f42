"""Helpers for the end-to-end tests edge bridge -> real Odoo (tests/test_edge_to_odoo.py).

The bridge side (configs, ``edge-bridge run`` as a subprocess, private brokers, the ground-truth
comparison) is reused from ``edge_bridge/tests/helpers.py``; this module adds the Odoo side:
connectors with flows, API users and mappings created through the ORM, and the comparison of
what Odoo stored (``mfg_message``) with the ground truth and with the bridge's own outbox.
"""
import json
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "edge_bridge" / "tests"))

import helpers as bridge_helpers  # noqa: E402  (edge_bridge/tests/helpers.py)

from odoo_harness import odoo_shell  # noqa: E402

# Everything the bridge emits for the simulator's machines (asset_block()).
EMITTED_TYPES = ("machine.counter", "production.confirmation", "production.scrap",
                 "machine.measurement", "machine.downtime", "machine.alarm")
SCRAP_REASONS = ("DIM", "SURF", "MAT")
STOP_REASONS = ("JAM", "MATERIAL", "TOOL", "MAINT")
ASSETS = ("PRESS1", "PACK1")

# One odoo shell for all connectors of the module: each shell start costs seconds on 2 cores.
SETUP_SCRIPT = """
import json
codes, types, assets, scrap_reasons, stop_reasons = %r, %r, %r, %r, %r
product = env["product.product"].create({"name": "E2E bracket", "default_code": "E2E-BRACKET-100"})
workcenters = {asset: env["mrp.workcenter"].create({"name": "E2E " + asset, "code": "E2E" + asset[:4]})
               for asset in assets}
tags = {reason: env["stock.scrap.reason.tag"].create({"name": "E2E scrap " + reason})
        for reason in scrap_reasons}
availability = env.ref("mrp.category_availability")
losses = {reason: env["mrp.workcenter.productivity.loss"].create(
              {"name": "E2E stop " + reason, "loss_id": availability.id})
          for reason in stop_reasons}
unit = env.ref("uom.product_uom_unit")
group = env.ref("mfg_integration.group_mfg_ingest")
result = {}
for code in codes:
    connector = env["mfg.connector"].create({"name": "E2E edge " + code, "code": code,
                                             "connector_type": "edge"})
    for type_name in types:
        env["mfg.flow"].create({"name": type_name, "connector_id": connector.id,
                                "canonical_type": type_name})
    user = env["res.users"].create({"name": "E2E edge API " + code, "login": code.lower(),
                                    "group_ids": [(6, 0, [group.id])]})
    connector.ingest_user_ids = [(4, user.id)]
    key = env["res.users.apikeys"].with_user(user).sudo()._generate("rpc", "e2e " + code, None)
    mappings = [{"mapping_type": "product", "external_code": "BRACKET-100", "product_id": product.id},
                {"mapping_type": "uom", "external_code": "Units", "uom_id": unit.id}]
    mappings += [{"mapping_type": "work_center", "external_code": "WC-" + asset,
                  "workcenter_id": wc.id} for asset, wc in workcenters.items()]
    mappings += [{"mapping_type": "scrap_reason", "external_code": reason,
                  "scrap_reason_tag_id": tag.id} for reason, tag in tags.items()]
    mappings += [{"mapping_type": "downtime_reason", "external_code": reason,
                  "loss_id": loss.id} for reason, loss in losses.items()]
    env["mfg.mapping"].create([dict(m, connector_id=connector.id) for m in mappings])
    result[code] = {"key": key, "login": user.login, "connector_id": connector.id}
env.cr.commit()
print(json.dumps(result))
"""


def setup_edge_connectors(server, codes):
    """Create one edge connector per code, each with a flow per emitted type, an API user bound
    to it and the mappings the simulator's codes need. Returns {code: {key, login, connector_id}}."""
    return odoo_shell(server.db, SETUP_SCRIPT % (list(codes), list(EMITTED_TYPES), list(ASSETS),
                                                 list(SCRAP_REASONS), list(STOP_REASONS)))


def ensure_running(server):
    if server.process is None or server.process.poll() is not None:
        server.start()
    return server


# -- what Odoo holds ------------------------------------------------------------------------
def odoo_envelopes(server, source):
    rows = server.query("SELECT canonical_type, key, payload, state FROM mfg_message "
                        "WHERE source = %s AND direction = 'in'", (source,))
    return [{"type": t, "key": k, "payload": p, "state": s} for t, k, p, s in rows]


def odoo_count(server, source):
    return server.query("SELECT count(*) FROM mfg_message WHERE source = %s", (source,))[0][0]


def wait_all_done(server, source, timeout=90):
    """Poll until the queue_job runner has processed every message of ``source`` to done."""
    deadline = time.monotonic() + timeout
    while True:
        states = dict(server.query("SELECT state, count(*) FROM mfg_message WHERE source = %s "
                                   "GROUP BY state", (source,)))
        if states and set(states) == {"done"}:
            return states
        if time.monotonic() > deadline:
            errors = server.query("SELECT canonical_type, state, last_error FROM mfg_message "
                                  "WHERE source = %s AND state <> 'done' LIMIT 10", (source,))
            raise AssertionError(f"messages of {source} not all done after {timeout}s: {states}\n{errors}")
        time.sleep(0.5)


def connector_row(server, code):
    rows = server.query("SELECT last_seen_at, remote_version, remote_buffer_depth FROM mfg_connector "
                        "WHERE code = %s", (code,))
    return rows[0] if rows else None


# -- what the bridge holds -------------------------------------------------------------------
def outbox_rows(buffer_path):
    db = sqlite3.connect(f"file:{buffer_path}?mode=ro", uri=True)
    try:
        return db.execute("SELECT key, type, state FROM outbox").fetchall()
    finally:
        db.close()


def bridge_status(config_path):
    """``edge-bridge status`` as an operator would run it (it reads the buffer on disk)."""
    proc = subprocess.run([bridge_helpers.EDGE_BRIDGE, "status", "-c", str(config_path)],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def assert_odoo_holds_exactly(server, source, truth, buffer_path, assets, extra_samples=None,
                              check_alarms=None):
    """0 lost, 0 duplicated: Odoo's messages of ``source`` == the bridge's outbox, one row per key,
    and their sums == the simulator's ground truth. Returns per-type counts."""
    stored = odoo_envelopes(server, source)
    total, distinct = server.query("SELECT count(*), count(DISTINCT key) FROM mfg_message "
                                   "WHERE source = %s", (source,))[0]
    assert total == distinct == len(stored), (total, distinct)
    outbox = outbox_rows(buffer_path)
    states = Counter(state for _key, _type, state in outbox)
    assert states.get("pending", 0) == 0 and states.get("dead", 0) == 0, states
    want_types = Counter(type_ for _key, type_, _state in outbox)
    got_types = Counter(env["type"] for env in stored)
    assert got_types == want_types, (got_types, want_types)
    assert {env["key"] for env in stored} == {key for key, _type, _state in outbox}
    for asset in assets:
        bridge_helpers.assert_matches_truth(stored, truth, asset,
                                            extra_samples=(extra_samples or {}).get(asset, 0),
                                            check_alarms=(check_alarms or {}).get(asset, True))
    return dict(got_types)


__all__ = ["bridge_helpers", "setup_edge_connectors", "ensure_running", "odoo_envelopes",
           "odoo_count", "wait_all_done", "connector_row", "outbox_rows", "bridge_status",
           "assert_odoo_holds_exactly", "EMITTED_TYPES"]
