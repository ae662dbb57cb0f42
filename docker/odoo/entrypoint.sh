#!/usr/bin/env bash
# Entry point of the mfg-odoo image:
#   1. write $ODOO_RC (odoo.conf) from the environment,
#   2. wait until PostgreSQL accepts connections,
#   3. on first start (ODOO_INIT_DB set and its modules not installed yet) create the database
#      and install ODOO_INIT_MODULES (default mfg_integration), with demo data if ODOO_WITH_DEMO=1,
#   4. exec Odoo (arguments starting with "-" are passed to odoo-bin; any other command, e.g.
#      "bash", is executed as is after steps 1-2).
#
# Environment (defaults in brackets):
#   DB_HOST [postgres]  DB_PORT [5432]  DB_USER [odoo]  DB_PASSWORD [odoo]  DB_SSLMODE [prefer]
#   ODOO_INIT_DB            database to create/initialise on first start (e.g. mfg); empty = none
#   ODOO_INIT_MODULES       [mfg_integration] comma-separated modules installed on first start
#   ODOO_WITH_DEMO          [0] 1 = load demo data on first start (19.0: --with-demo)
#   ODOO_DB_NAME            [$ODOO_INIT_DB] db_name + dbfilter; empty = all databases, manager on
#   ODOO_ADMIN_PASSWD       master password of the database manager; random if unset
#   MFG_SECRET_KEY          key encrypting connector secrets in the database (>= 32 characters);
#                           if unset, one is generated once into $ODOO_DATA_DIR/mfg_secret_key
#   ODOO_WORKERS [2]  ODOO_MAX_CRON_THREADS [1]  ODOO_QUEUE_CHANNELS [root:2]
#   ODOO_PROXY_MODE [False]  ODOO_LOG_LEVEL [info]  ODOO_WAIT_TIMEOUT [120] seconds for PostgreSQL
#   ODOO_RC [/etc/odoo/odoo.conf]  ODOO_BIN [/opt/odoo/odoo-bin]  ODOO_DATA_DIR [/var/lib/odoo]
#   ODOO_ADDONS_PATH [/opt/odoo/addons,/opt/odoo/odoo/addons,/mnt/mfg-addons]  ODOO_HTTP_PORT [8069]
set -euo pipefail

ODOO_BIN="${ODOO_BIN:-/opt/odoo/odoo-bin}"
ODOO_ADDONS_PATH="${ODOO_ADDONS_PATH:-/opt/odoo/addons,/opt/odoo/odoo/addons,/mnt/mfg-addons}"
ODOO_DATA_DIR="${ODOO_DATA_DIR:-/var/lib/odoo}"
ODOO_HTTP_PORT="${ODOO_HTTP_PORT:-8069}"
ODOO_RC="${ODOO_RC:-/etc/odoo/odoo.conf}"
DB_HOST="${DB_HOST:-postgres}"
DB_PORT="${DB_PORT:-5432}"
DB_USER="${DB_USER:-odoo}"
DB_PASSWORD="${DB_PASSWORD:-odoo}"
DB_SSLMODE="${DB_SSLMODE:-prefer}"
ODOO_INIT_DB="${ODOO_INIT_DB:-}"
ODOO_INIT_MODULES="${ODOO_INIT_MODULES:-mfg_integration}"
ODOO_WITH_DEMO="${ODOO_WITH_DEMO:-0}"
ODOO_DB_NAME="${ODOO_DB_NAME-$ODOO_INIT_DB}"
ODOO_WORKERS="${ODOO_WORKERS:-2}"
ODOO_MAX_CRON_THREADS="${ODOO_MAX_CRON_THREADS:-1}"
ODOO_QUEUE_CHANNELS="${ODOO_QUEUE_CHANNELS:-root:2}"
ODOO_PROXY_MODE="${ODOO_PROXY_MODE:-False}"
ODOO_LOG_LEVEL="${ODOO_LOG_LEVEL:-info}"
ODOO_WAIT_TIMEOUT="${ODOO_WAIT_TIMEOUT:-120}"
export DB_HOST DB_PORT DB_USER DB_PASSWORD DB_SSLMODE ODOO_INIT_DB ODOO_INIT_MODULES

log() { printf '[entrypoint] %s\n' "$*" >&2; }

if [ -z "${ODOO_ADMIN_PASSWD:-}" ]; then
    ODOO_ADMIN_PASSWD="$(python -c 'import secrets; print(secrets.token_urlsafe(24))')"
    log "ODOO_ADMIN_PASSWD not set: using a random master password (database manager effectively locked)"
fi

if [ -z "${MFG_SECRET_KEY:-}" ]; then
    # Kept in the data volume so it survives restarts; set MFG_SECRET_KEY (docker/.env) to
    # keep it apart from the data and back it up: without it stored secrets are unreadable.
    key_file="$ODOO_DATA_DIR/mfg_secret_key"
    if [ ! -s "$key_file" ]; then
        (umask 077 && python -c 'import secrets; print(secrets.token_urlsafe(32))' > "$key_file")
        log "MFG_SECRET_KEY not set: generated $key_file (back it up, or set MFG_SECRET_KEY)"
    fi
    MFG_SECRET_KEY="$(cat "$key_file")"
fi

if [ -n "$ODOO_DB_NAME" ]; then
    db_lines="db_name = $ODOO_DB_NAME
dbfilter = ^${ODOO_DB_NAME}\$
list_db = False"
else
    db_lines="db_name = False
list_db = True"
fi

# workers >= 2 (prefork) is what OCA queue_job needs: its job runner lives in the main process
# and calls back into Odoo over HTTP on 127.0.0.1:8069.
umask 077
cat > "$ODOO_RC" <<CONF
[options]
addons_path = $ODOO_ADDONS_PATH
data_dir = $ODOO_DATA_DIR
db_host = $DB_HOST
db_port = $DB_PORT
db_user = $DB_USER
db_password = $DB_PASSWORD
db_sslmode = $DB_SSLMODE
$db_lines
admin_passwd = $ODOO_ADMIN_PASSWD
mfg_secret_key = $MFG_SECRET_KEY
http_interface = 0.0.0.0
http_port = $ODOO_HTTP_PORT
gevent_port = 8072
proxy_mode = $ODOO_PROXY_MODE
server_wide_modules = base,web,queue_job
workers = $ODOO_WORKERS
max_cron_threads = $ODOO_MAX_CRON_THREADS
limit_time_cpu = 600
limit_time_real = 1200
log_level = $ODOO_LOG_LEVEL

[queue_job]
channels = $ODOO_QUEUE_CHANNELS
scheme = http
host = 127.0.0.1
port = $ODOO_HTTP_PORT
CONF
umask 022

log "waiting for PostgreSQL at $DB_HOST:$DB_PORT (up to ${ODOO_WAIT_TIMEOUT}s)"
python - "$ODOO_WAIT_TIMEOUT" <<'PY'
import os, sys, time
import psycopg2

deadline = time.monotonic() + float(sys.argv[1])
while True:
    try:
        psycopg2.connect(host=os.environ["DB_HOST"], port=os.environ["DB_PORT"],
                         user=os.environ["DB_USER"], password=os.environ["DB_PASSWORD"],
                         sslmode=os.environ["DB_SSLMODE"], dbname="postgres",
                         connect_timeout=5).close()
        break
    except psycopg2.OperationalError as exc:
        if time.monotonic() > deadline:
            sys.exit("PostgreSQL not reachable: %s" % str(exc).strip())
        time.sleep(2)
PY

# First start: the database does not exist yet, or an earlier initialisation did not finish.
# Exit status: 0 = initialise, 10 = already initialised, anything else = error.
needs_init() {
    python - <<'PY'
import os, sys
import psycopg2

params = dict(host=os.environ["DB_HOST"], port=os.environ["DB_PORT"], user=os.environ["DB_USER"],
              password=os.environ["DB_PASSWORD"], sslmode=os.environ["DB_SSLMODE"])
db = os.environ["ODOO_INIT_DB"]
modules = [m.strip() for m in os.environ["ODOO_INIT_MODULES"].split(",") if m.strip()]
with psycopg2.connect(dbname="postgres", **params) as conn, conn.cursor() as cr:
    cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,))
    if not cr.fetchone():
        sys.exit(0)
conn.close()
with psycopg2.connect(dbname=db, **params) as conn, conn.cursor() as cr:
    cr.execute("SELECT to_regclass('public.ir_module_module') IS NOT NULL")
    if not cr.fetchone()[0]:
        sys.exit(0)
    cr.execute("SELECT count(*) FROM ir_module_module WHERE name = ANY(%s) AND state = 'installed'",
               (modules,))
    installed = cr.fetchone()[0]
conn.close()
sys.exit(0 if installed < len(modules) else 10)
PY
}

init_status=10
if [ -n "$ODOO_INIT_DB" ]; then
    needs_init && init_status=0 || init_status=$?
fi
if [ "$init_status" -ne 0 ] && [ "$init_status" -ne 10 ]; then
    log "could not inspect database $ODOO_INIT_DB (status $init_status)"
    exit "$init_status"
fi
if [ "$init_status" -eq 0 ]; then
    demo_flag=()
    case "$ODOO_WITH_DEMO" in
        1|true|True|yes) demo_flag=(--with-demo) ;;
    esac
    log "initialising database $ODOO_INIT_DB with $ODOO_INIT_MODULES ${demo_flag[*]:-(no demo data)}"
    python "$ODOO_BIN" -c "$ODOO_RC" -d "$ODOO_INIT_DB" -i "$ODOO_INIT_MODULES" \
        "${demo_flag[@]}" --stop-after-init
    log "database $ODOO_INIT_DB initialised"
fi

if [ "$#" -gt 0 ] && [ "${1#-}" = "$1" ]; then
    if [ "$1" != "odoo" ]; then
        exec "$@"
    fi
    shift
fi
exec python "$ODOO_BIN" -c "$ODOO_RC" "$@"
