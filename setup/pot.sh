#!/usr/bin/env bash
# Regenerates addons/<addon>/i18n/<addon>.pot for every addon with Odoo's own exporter
# (`odoo-bin i18n export`), from a throwaway database where all the addons are installed
# (the exporter reads terms from installed modules only). Run after setup/install.sh.
#   bash setup/pot.sh            all addons under addons/
#   bash setup/pot.sh mfg_integration_sap
# POT_DB (default mfg_pot) is dropped before and after; POT_HTTP_PORT avoids a running demo.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[ -f "$RUN_DIR/odoo_src" ] || die "Run setup/install.sh first (make install)"
ODOO_SRC="$(cat "$RUN_DIR/odoo_src")"
is_odoo_tree "$ODOO_SRC" || die "Odoo source $ODOO_SRC is missing"
ensure_postgres
DB="${POT_DB:-mfg_pot}"
if [ "$#" -gt 0 ]; then ADDONS=("$@"); else
    ADDONS=(); for manifest in "$ROOT"/addons/*/__manifest__.py; do
        ADDONS+=("$(basename "$(dirname "$manifest")")"); done
fi
LIST="$(IFS=,; echo "${ADDONS[*]}")"
LOG="$RUN_DIR/pot.log"
dropdb -h 127.0.0.1 --if-exists "$DB"
log "Installing ${ADDONS[*]} into $DB (log: $LOG)"
"$PY" "$ODOO_SRC/odoo-bin" -c "$ODOO_CONF" -d "$DB" -i "$LIST" --without-demo=all \
    --stop-after-init --http-port "${POT_HTTP_PORT:-8179}" --workers 0 --max-cron-threads 0 \
    >"$LOG" 2>&1 || die "install failed, see $LOG"
log "Exporting .pot files"
"$PY" "$ODOO_SRC/odoo-bin" i18n export -c "$ODOO_CONF" -d "$DB" "${ADDONS[@]}" >>"$LOG" 2>&1 \
    || die "export failed, see $LOG"
dropdb -h 127.0.0.1 --if-exists "$DB"
for addon in "${ADDONS[@]}"; do log "addons/$addon/i18n/$addon.pot"; done
