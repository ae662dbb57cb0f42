"""Retention by partitions survives the Odoo process dying in the middle (issue 12 §1).

A real Odoo runs the partition maintenance (``odoo-bin shell``, as the cron would) on a
partition whose messages all expired. The test holds a lock on the key table so that the
maintenance stops at its last step - after the old partition was detached and dropped and the
replacement attached, inside the same transaction - then kills the process (-9). PostgreSQL
rolls the transaction back: the partition, its 200 messages and their keys are all there, no
half-built table is left; the next maintenance drops them.
"""
import os
import signal
import subprocess
import time

import psycopg2

from odoo_harness import OdooServer, drop_db, odoo_cmd, odoo_shell

PREPARE = """
import json
from odoo.addons.mfg_integration.services import partitioning
params = env["ir.config_parameter"].sudo()
params.set_param("mfg_integration.partition_rows", 1000)
params.set_param("mfg_integration.done_retention_days", 30)
env["mfg.connector"].create({"name": "Kill", "code": "EDGE-KILL", "connector_type": "edge"})
partitioning.close_current(env.cr, 1000)
result = env["mfg.message"].ingest([
    {"key": f"k{i}", "type": "machine.counter", "schema_version": 1, "source": "EDGE-KILL",
     "occurred_at": "2025-01-01T08:00:00+00:00",
     "payload": {"asset": "PRESS1", "counter": "good", "delta": 1,
                 "window_start": "2025-01-01T08:00:00+00:00",
                 "window_end": "2025-01-01T08:01:00+00:00"}} for i in range(200)])
env.cr.execute(\"\"\"UPDATE mfg_message SET state = 'done',
                      received_at = now() - interval '400 days', done_at = now() - interval '400 days'
                  WHERE source = 'EDGE-KILL'\"\"\")
env.cr.execute("SELECT DISTINCT tableoid::regclass::text FROM mfg_message WHERE source = 'EDGE-KILL'")
tables = [row[0] for row in env.cr.fetchall()]
partitioning.close_current(env.cr, 1000)
env.cr.commit()
print(json.dumps({"accepted": result["accepted"], "tables": tables}))
"""
MAINTAIN = """
import json
dropped = env["mfg.message.partition"]._maintain(commit=True)
print(json.dumps({"dropped": dropped}))
"""


def counts(server):
    return server.query("""SELECT (SELECT count(*) FROM mfg_message WHERE source = 'EDGE-KILL'),
                                  (SELECT count(*) FROM mfg_message_key WHERE source = 'EDGE-KILL'),
                                  (SELECT count(*) FROM pg_class WHERE relname ~ '_k$'
                                      AND relname LIKE 'mfg_message_p%%')""")[0]


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_a_maintenance_killed_half_way_leaves_the_partition_whole():
    server = OdooServer().install()
    try:
        prepared = odoo_shell(server.db, PREPARE)
        assert prepared["accepted"] == 200 and len(prepared["tables"]) == 1
        table = prepared["tables"][0]
        blocker = psycopg2.connect(dbname=server.db, host="127.0.0.1")
        with blocker.cursor() as cur:
            cur.execute("LOCK TABLE mfg_message_key IN SHARE MODE")
        process = subprocess.Popen(
            odoo_cmd("shell", "-d", server.db, "--log-level", "warn", "--no-http"),
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            text=True, start_new_session=True)
        process.stdin.write(MAINTAIN)
        process.stdin.close()
        waiting = []

        def maintenance_waits_on_the_keys():
            waiting[:] = server.query(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock' "
                "AND query LIKE %s", (server.db, "%DELETE FROM \"mfg_message_key\"%"))
            return bool(waiting)

        wait_for(maintenance_waits_on_the_keys, 120, "the maintenance to reach the key table")
        # At this instant the old partition is detached and dropped, the replacement attached.
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(30)
        blocker.rollback()
        blocker.close()
        backend = waiting[0][0]
        wait_for(lambda: not server.query("SELECT 1 FROM pg_stat_activity WHERE pid = %s",
                                          (backend,)), 60, "PostgreSQL to end the orphan backend")
        assert counts(server) == (200, 200, 0), "rolled back: messages, keys, no stray table"
        assert server.query("SELECT DISTINCT tableoid::regclass::text FROM mfg_message "
                            "WHERE source = 'EDGE-KILL'") == [(table,)]
        assert odoo_shell(server.db, MAINTAIN)["dropped"] == 200
        assert counts(server) == (0, 0, 0)
    finally:
        drop_db(server.db)
