#!/usr/bin/env bash
# Runs every test (Odoo tests against a throwaway database + pytest suites).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[ -f "$RUN_DIR/odoo_src" ] || die "Run setup/install.sh first (make test does it)"
is_odoo_tree "$(cat "$RUN_DIR/odoo_src")" || die "Odoo source $(cat "$RUN_DIR/odoo_src") is missing"
ensure_postgres
ensure_mosquitto
exec "$PY" "$ROOT/setup/run_tests.py" "$@"
