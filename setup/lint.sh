#!/usr/bin/env bash
# Lint: ruff on every Python file, pylint-odoo (OCA's Odoo checks) on the addons.
# Configuration: ruff.toml (+ edge_bridge/, bench/, tests/ ruff.toml), .pylintrc.
# The same hooks run from pre-commit (.pre-commit-config.yaml).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
RUFF="$ROOT/.venv/bin/ruff"
PYLINT="$ROOT/.venv/bin/pylint"
[ -x "$RUFF" ] && [ -x "$PYLINT" ] || die "ruff/pylint-odoo missing: run setup/install.sh (make install)"
status=0
log "ruff check"
"$RUFF" check . || status=1
log "pylint-odoo on addons/"
"$PYLINT" --rcfile=.pylintrc --output-format=text addons/*/ || status=1
[ "$status" = 0 ] && log "lint clean" || die "lint found problems (see above)"
