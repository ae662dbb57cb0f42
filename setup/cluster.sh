#!/usr/bin/env bash
# Two Odoo HTTP nodes on the demo database (shared PostgreSQL database and filestore), the
# queue_job runner on exactly one of them - the topology of README "Several Odoo nodes":
#   node A  127.0.0.1:${NODE_A_PORT:-8069}  HTTP + the job runner, which sends the jobs to node B
#   node B  127.0.0.1:${NODE_B_PORT:-8070}  HTTP only (--load base,web: no runner)
# No load balancer: edge bridges list both URLs (sink.url: [A, B]) and fail over themselves.
# Needs the demo database (make demo creates it). `make cluster-stop` (or --stop) ends it.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DB="${MFG_DEMO_DB:-mfg_demo}"
PORT_A="${NODE_A_PORT:-8069}"
PORT_B="${NODE_B_PORT:-8070}"
ODOO_SRC="$(cat "$RUN_DIR/odoo_src")"
ODOO_BIN=("$PY" "$ODOO_SRC/odoo-bin" -c "$ODOO_CONF" -d "$DB" --db-filter "^${DB}\$")

if [ "${1:-}" = "--stop" ]; then
    stop_pid cluster-a; stop_pid cluster-b
    exit 0
fi

ensure_postgres
psql -h 127.0.0.1 -d "$DB" -tAc "SELECT 1" > /dev/null 2>&1 || die "no database $DB: run make demo first"
bash "$ROOT/setup/demo.sh" --stop > /dev/null 2>&1 || true
stop_pid cluster-a; stop_pid cluster-b

log "Node B on http://127.0.0.1:$PORT_B (2 workers, no job runner)"
nohup "${ODOO_BIN[@]}" --http-port "$PORT_B" --workers 2 --max-cron-threads 0 --load base,web \
    --gevent-port "$((PORT_B + 1000))" > "$RUN_DIR/cluster-b.log" 2>&1 &
echo $! > "$RUN_DIR/cluster-b.pid"
log "Node A on http://127.0.0.1:$PORT_A (2 workers, crons, job runner sending jobs to node B)"
ODOO_QUEUE_JOB_HOST=127.0.0.1 ODOO_QUEUE_JOB_PORT="$PORT_B" nohup "${ODOO_BIN[@]}" \
    --http-port "$PORT_A" --workers 2 --max-cron-threads 1 --gevent-port "$((PORT_A + 1000))" \
    > "$RUN_DIR/cluster-a.log" 2>&1 &
echo $! > "$RUN_DIR/cluster-a.pid"
for port in "$PORT_A" "$PORT_B"; do
    for _ in $(seq 1 90); do curl -fs "http://127.0.0.1:$port/web/health" > /dev/null 2>&1 && break; sleep 1; done
    curl -fs "http://127.0.0.1:$port/web/health" > /dev/null || die "node on :$port did not answer (var/cluster-*.log)"
done
cat <<EOT

  Two Odoo nodes on database $DB:
    A  http://127.0.0.1:$PORT_A   HTTP + queue_job runner (jobs run on B)
    B  http://127.0.0.1:$PORT_B   HTTP
  Edge bridges: sink.url: [http://127.0.0.1:$PORT_A, http://127.0.0.1:$PORT_B]
  Logs: var/cluster-a.log, var/cluster-b.log. Stop: make cluster-stop
EOT
