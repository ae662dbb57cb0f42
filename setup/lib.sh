# Shared helpers for the setup scripts (sourced, not executed).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"
RUN_DIR="${RUN_DIR:-$ROOT/var}"
ODOO_CONF="$RUN_DIR/odoo.conf"
PYTHON_BIN="${PYTHON_BIN:-python3.11}"
# Conventional locations searched when ODOO_SRC is not set, in order.
ODOO_CANDIDATES=("/opt/odoo19" "/opt/odoo" "$HOME/odoo19" "$ROOT/../odoo19" "/usr/src/odoo")
ODOO_UPSTREAM="https://github.com/odoo/odoo.git"

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[setup] ERROR:\033[0m %s\n' "$*" >&2; exit 1; }

is_odoo_tree() { [ -f "$1/odoo-bin" ] && [ -d "$1/odoo/addons/base" ]; }

# Prints the Odoo 19 source directory, or fails loudly. Never silently skips.
find_odoo_src() {
    if [ -n "${ODOO_SRC:-}" ]; then
        is_odoo_tree "$ODOO_SRC" || die "ODOO_SRC=$ODOO_SRC is not an Odoo source tree (no odoo-bin / odoo/addons/base)"
        echo "$ODOO_SRC"; return
    fi
    for candidate in "${ODOO_CANDIDATES[@]}"; do
        if is_odoo_tree "$candidate"; then echo "$candidate"; return; fi
    done
    if [ "${ODOO_NO_CLONE:-}" != "1" ] && [ -z "${CI:-}" ]; then
        local target="$HOME/odoo19"
        log "No Odoo 19 source found; shallow-cloning upstream 19.0 into $target"
        if git clone --depth 1 --branch 19.0 "$ODOO_UPSTREAM" "$target" >&2; then
            echo "$target"; return
        fi
    fi
    die "Odoo 19.0 source not found. Set ODOO_SRC=/path/to/odoo (a 19.0 community tree with odoo-bin), or put it in one of: ${ODOO_CANDIDATES[*]}"
}

# Odoo's own addons dirs: git layout (<src>/addons + <src>/odoo/addons) or tarball layout.
odoo_addons_path() {
    local src="$1" paths=()
    [ -d "$src/addons/mrp" ] && paths+=("$src/addons")
    paths+=("$src/odoo/addons" "$ROOT/addons")
    local IFS=,; echo "${paths[*]}"
}

pg_running() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || pg_isready -q 2>/dev/null; }
ensure_postgres() {
    pg_running && return
    log "Starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    for _ in $(seq 1 30); do pg_running && return; sleep 1; done
    die "PostgreSQL is not running on 127.0.0.1:5432 and could not be started"
}
mqtt_running() { "$PY" - <<'PY' 2>/dev/null
import socket; s = socket.create_connection(("127.0.0.1", 1883), timeout=1); s.close()
PY
}
ensure_mosquitto() {
    mqtt_running && return
    log "Starting Mosquitto"
    if command -v mosquitto >/dev/null; then
        mosquitto -d -c /etc/mosquitto/mosquitto.conf 2>/dev/null || mosquitto -d -p 1883 || true
    fi
    for _ in $(seq 1 20); do mqtt_running && return; sleep 0.5; done
    die "Mosquitto is not reachable on 127.0.0.1:1883 and could not be started (apt-get install mosquitto)"
}

# Stop the process whose pid is in $RUN_DIR/<name>.pid (SIGTERM, wait up to 15 s), forget it.
stop_pid() {
    local file="$RUN_DIR/$1.pid"
    if [ -f "$file" ] && kill -0 "$(cat "$file")" 2>/dev/null; then
        log "Stopping $1 (pid $(cat "$file"))"
        kill "$(cat "$file")" 2>/dev/null || true
        for _ in $(seq 1 30); do kill -0 "$(cat "$file")" 2>/dev/null || break; sleep 0.5; done
    fi
    rm -f "$file"
}
