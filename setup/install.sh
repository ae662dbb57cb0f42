#!/usr/bin/env bash
# Idempotent installer: .venv with Odoo 19 (from ODOO_SRC or a conventional location),
# its Python requirements, OCA queue_job, our pinned dependencies, the shared canonical
# schema package and the edge bridge. Re-running is cheap: a stamp file records what
# was installed and only a change in inputs triggers pip again.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ODOO_SRC="$(find_odoo_src)"
export ODOO_SRC
log "Odoo source: $ODOO_SRC"

STAMP="$VENV/.mfg-install-stamp"
stamp_value() {
    cat "$ROOT/setup/requirements.txt" "$ODOO_SRC/requirements.txt" "$ROOT/canonical/pyproject.toml" \
        "$ROOT/edge_bridge/pyproject.toml" "$ROOT/setup/install.sh" 2>/dev/null | sha1sum | cut -c1-40
    echo "$ODOO_SRC"
}

if [ ! -x "$PY" ]; then
    command -v "$PYTHON_BIN" >/dev/null || PYTHON_BIN=python3
    log "Creating virtualenv $VENV with $PYTHON_BIN"
    "$PYTHON_BIN" -m venv "$VENV"
fi

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(stamp_value)" ]; then
    log "Python environment up to date"
else
    PIP=("$PY" -m pip install --disable-pip-version-check -q)
    "${PIP[@]}" "setuptools<70" "setuptools_scm<8" wheel
    # Odoo's requirements minus python-ldap (needs libldap headers; LDAP is not used) and
    # minus its Python<3.12 crypto pins (replaced by ours, see setup/requirements.txt).
    filtered="$(mktemp)"
    grep -viE '^(python-ldap|cryptography|pyopenssl|urllib3)\b' "$ODOO_SRC/requirements.txt" > "$filtered"
    log "Installing Odoo 19 requirements (a few minutes on first run)"
    "${PIP[@]}" --no-build-isolation -r "$filtered" -r "$ROOT/setup/requirements.txt"
    rm -f "$filtered"
    # gevent's plugin loader needs a pkg_resources that knows zope_interface dist names.
    "${PIP[@]}" "setuptools>=70,<81"
    # OCA queue_job 19.0 from PyPI; --no-deps or pip would try to install "odoo" itself.
    "${PIP[@]}" --no-deps "odoo-addon-queue-job==19.0.2.4.0.1"
    "${PIP[@]}" -e "$ROOT/canonical" -e "$ROOT/edge_bridge"
    stamp_value > "$STAMP"
fi

# Odoo goes on the import path through a .pth file: an editable install of Odoo
# breaks the namespace package that wheel-installed OCA addons rely on.
SITE="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo "$ODOO_SRC" > "$SITE/odoo-src.pth"
"$PY" -c "import odoo.release as r; assert r.version_info[0] == 19, r.version" \
    || die "Odoo at $ODOO_SRC is not importable as Odoo 19"

# Odoo's browser tests (tours) need a Chromium; Debian's package is enough.
if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null \
        && ! command -v google-chrome >/dev/null; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
        log "Installing Chromium for Odoo's browser tests"
        (apt-get update -qq && apt-get install -y -qq chromium) >/dev/null 2>&1 \
            || log "WARNING: could not install chromium; browser tours will not run"
    else
        log "WARNING: no Chromium found; install it (apt-get install chromium) to run browser tours"
    fi
fi

mkdir -p "$RUN_DIR"
# Key that encrypts connector secrets in the database (mfg_integration/services/secret_box.py).
# Generated once and kept: losing it makes stored secrets unreadable (re-enter them). It lives
# outside the database, so a dump holds ciphertext only; back it up separately.
SECRET_KEY_FILE="$RUN_DIR/mfg_secret_key"
if [ ! -s "$SECRET_KEY_FILE" ]; then
    (umask 077 && "$PY" -c 'import secrets; print(secrets.token_urlsafe(32))' > "$SECRET_KEY_FILE")
    log "Generated the secrets encryption key: $SECRET_KEY_FILE (back it up)"
fi
cat > "$ODOO_CONF" <<CONF
[options]
addons_path = $(odoo_addons_path "$ODOO_SRC")
data_dir = $RUN_DIR/filestore
db_host = ${PGHOST:-127.0.0.1}
db_port = ${PGPORT:-5432}
db_user = ${PGUSER:-$(id -un)}
db_password = ${PGPASSWORD:-}
http_interface = 127.0.0.1
http_port = ${ODOO_HTTP_PORT:-8069}
server_wide_modules = base,web,queue_job
admin_passwd = ${ODOO_ADMIN_PASSWD:-admin}
mfg_secret_key = $(cat "$SECRET_KEY_FILE")
list_db = True
log_level = info
limit_time_cpu = 600
limit_time_real = 1200

[queue_job]
channels = root:2,root.mfg.webhook:1
CONF
echo "$ODOO_SRC" > "$RUN_DIR/odoo_src"
chmod 600 "$ODOO_CONF"
log "Installed. Odoo config: $ODOO_CONF"
