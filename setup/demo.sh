#!/usr/bin/env bash
# The demo: a database with the suite and its demo data, Odoo on 127.0.0.1:8069 with the
# queue_job runner, and a simulated production line (OPC UA PLC + MQTT MES) feeding the
# edge bridge, which pushes canonical events into Odoo. `make stop` (or --stop) ends it.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DB="${MFG_DEMO_DB:-mfg_demo}"
PORT="${ODOO_HTTP_PORT:-8069}"
ODOO_SRC="$(cat "$RUN_DIR/odoo_src")"
ODOO_BIN=("$PY" "$ODOO_SRC/odoo-bin" -c "$ODOO_CONF")
EDGE_BIN="$VENV/bin/edge-bridge"

if [ "${1:-}" = "--stop" ]; then
    stop_pid edge-bridge; stop_pid simulator; stop_pid odoo
    exit 0
fi

ensure_postgres
ensure_mosquitto
stop_pid edge-bridge; stop_pid simulator; stop_pid odoo

ADDONS="$(cd "$ROOT/addons" && ls -d */ | tr -d / | paste -sd, -)"
installed_count="$(psql -h 127.0.0.1 -d "$DB" -tAc "SELECT count(*) FROM ir_module_module WHERE state = 'installed' AND name = ANY(string_to_array('$ADDONS', ','))" 2>/dev/null || echo 0)"
if [ "$installed_count" != "$(echo "$ADDONS" | tr ',' '\n' | wc -l)" ]; then
    log "Creating database $DB with the suite ($ADDONS) and its demo data (a few minutes)"
    dropdb -h 127.0.0.1 --if-exists "$DB"
    rm -f "$RUN_DIR/demo_api_key"
    "${ODOO_BIN[@]}" -d "$DB" -i "$ADDONS" --with-demo --stop-after-init \
        --log-level warn > "$RUN_DIR/demo-install.log" 2>&1 \
        || die "Install failed, see $RUN_DIR/demo-install.log"
fi

KEY_FILE="$RUN_DIR/demo_api_key"
if [ ! -s "$KEY_FILE" ]; then
    log "Creating the API key of the demo edge gateway user (edge_l1)"
    "$PY" "$ODOO_SRC/odoo-bin" shell -c "$ODOO_CONF" -d "$DB" --log-level warn --no-http > "$KEY_FILE.tmp" 2>&1 <<'PY'
user = env["res.users"].search([("login", "=", "edge_l1")])
key = env["res.users.apikeys"].with_user(user).sudo()._generate("rpc", "demo edge bridge", None)
env.cr.commit()
print("KEY=" + key)
PY
    grep '^KEY=' "$KEY_FILE.tmp" | cut -d= -f2 > "$KEY_FILE"; rm -f "$KEY_FILE.tmp"
    [ -s "$KEY_FILE" ] || die "Could not create the demo API key"
    chmod 600 "$KEY_FILE"
fi

log "Starting Odoo on http://127.0.0.1:$PORT (3 workers + queue_job runner)"
nohup "${ODOO_BIN[@]}" -d "$DB" --db-filter "^${DB}\$" --http-port "$PORT" --workers 3 \
    --max-cron-threads 1 --logfile "$RUN_DIR/odoo.log" > /dev/null 2>&1 &
echo $! > "$RUN_DIR/odoo.pid"
for _ in $(seq 1 60); do
    curl -fs "http://127.0.0.1:$PORT/web/health" > /dev/null 2>&1 && break
    kill -0 "$(cat "$RUN_DIR/odoo.pid")" 2>/dev/null || die "Odoo stopped, see $RUN_DIR/odoo.log"
    sleep 1
done
curl -fs "http://127.0.0.1:$PORT/web/health" > /dev/null || die "Odoo did not answer, see $RUN_DIR/odoo.log"

if [ "${MFG_DEMO_EDGE:-1}" = "1" ] && [ -x "$EDGE_BIN" ]; then
    EDGE_CONF="$RUN_DIR/edge-demo.yaml"
    sed -e "s|code: EDGE-PLANT1-L1 .*|code: EDGE-L1|" \
        -e "s|^  url: .*|  url: http://127.0.0.1:$PORT|" \
        -e "s|^  db: .*|  db: $DB|" \
        -e "s|^  path: .*|  path: $RUN_DIR/edge-demo-buffer.db|" \
        -e "s|^  port: 9108|  port: ${EDGE_METRICS_PORT:-9108}|" \
        "$ROOT/edge_bridge/examples/config.yaml" > "$EDGE_CONF"
    log "Starting the line simulator (OPC UA PLC on :4840, MES events over MQTT)"
    nohup "$EDGE_BIN" simulate --seed 7 --rate 20 --duration 86400 --scenario breakdowns \
        --truth "$RUN_DIR/simulator-truth.json" > "$RUN_DIR/simulator.log" 2>&1 &
    echo $! > "$RUN_DIR/simulator.pid"
    sleep 2
    log "Starting the edge bridge (metrics on http://127.0.0.1:${EDGE_METRICS_PORT:-9108}/metrics)"
    ODOO_API_KEY="$(cat "$KEY_FILE")" nohup "$EDGE_BIN" run -c "$EDGE_CONF" \
        > "$RUN_DIR/edge-bridge.log" 2>&1 &
    echo $! > "$RUN_DIR/edge-bridge.pid"
fi

cat <<EOF

  Manufacturing Integration demo is running.

    URL       http://127.0.0.1:$PORT/odoo/mfg-dashboard
    Login     admin / admin        (Integration Manager)
              operator / operator  (Integration Operator)
    Database  $DB
    Edge API  user edge_l1, key in $KEY_FILE

  The simulated line pushes alarms, counters, downtime, scrap and temperatures through
  the edge bridge into Manufacturing Integration > Messages. Logs: $RUN_DIR/*.log
  Stop everything with: make stop

EOF
