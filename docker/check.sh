#!/usr/bin/env bash
# Offline validation of the Docker packaging (no Docker engine, no image build):
#   - docker/compose.yaml must pass "docker compose config" (or docker-compose 1.29 "config");
#   - files the compose file and the Dockerfiles rely on must exist; entrypoint.sh must parse;
#   - docker/edge-bridge/config.yaml must load with the edge bridge's own config loader, when
#     that loader and PyYAML are importable (skipped otherwise).
# Uses "docker compose" if available, else "docker-compose"; installs Debian's docker-compose
# package with apt-get when neither exists and we run as root. Exits non-zero on any problem.
set -euo pipefail

DOCKER_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$DOCKER_DIR")"
COMPOSE_FILE="$DOCKER_DIR/compose.yaml"

say() { printf 'check.sh: %s\n' "$*"; }
fail() { printf 'check.sh: ERROR: %s\n' "$*" >&2; exit 1; }

if docker compose version >/dev/null 2>&1; then
    COMPOSE=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
    COMPOSE=(docker-compose)
elif [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "neither 'docker compose' nor 'docker-compose' found; installing Debian's docker-compose"
    apt-get update -qq || fail "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null \
        || fail "apt-get install docker-compose failed"
    command -v docker-compose >/dev/null 2>&1 || fail "docker-compose still not found after install"
    COMPOSE=(docker-compose)
else
    fail "neither 'docker compose' (Docker Compose v2 plugin) nor 'docker-compose' is installed, and not
running as root with apt-get to install it. Install one of them, e.g.: sudo apt-get install docker-compose"
fi
say "using: ${COMPOSE[*]} ($("${COMPOSE[@]}" version 2>/dev/null | head -n 1))"

# Files the build and the stack need (compose config checks syntax and schema, not these).
for file in odoo/Dockerfile odoo/entrypoint.sh odoo/offline-src/README.md edge-bridge/Dockerfile \
            edge-bridge/config.yaml mosquitto/mosquitto.conf; do
    [ -f "$DOCKER_DIR/$file" ] || fail "missing docker/$file"
done
for path in .dockerignore setup/requirements.txt canonical/pyproject.toml edge_bridge/pyproject.toml addons; do
    [ -e "$ROOT/$path" ] || fail "missing $path (copied into the images)"
done
bash -n "$DOCKER_DIR/odoo/entrypoint.sh" || fail "docker/odoo/entrypoint.sh has a syntax error"

# Validate without depending on the caller's environment or a docker/.env file.
if ! output="$(cd "$DOCKER_DIR" && EDGE_ODOO_API_KEY=check "${COMPOSE[@]}" -f "$COMPOSE_FILE" config 2>&1)"; then
    printf '%s\n' "$output" >&2
    fail "docker/compose.yaml is not valid"
fi
services="$(cd "$DOCKER_DIR" && "${COMPOSE[@]}" -f "$COMPOSE_FILE" config --services 2>/dev/null | sort | tr '\n' ' ')"
for service in edge-bridge mosquitto odoo postgres; do
    case " $services" in *" $service "*) ;; *) fail "service $service missing from compose.yaml" ;; esac
done
say "docker/compose.yaml is valid; services: $services"

# The example edge bridge config must stay loadable by the bridge itself.
PYTHON="$ROOT/.venv/bin/python"
[ -x "$PYTHON" ] || PYTHON="$(command -v python3 || true)"
if [ -n "$PYTHON" ]; then
    EDGE_ODOO_API_KEY=check PYTHONPATH="$ROOT/edge_bridge:$ROOT/canonical${PYTHONPATH:+:$PYTHONPATH}" \
        "$PYTHON" - "$DOCKER_DIR/edge-bridge/config.yaml" <<'PY' || fail "docker/edge-bridge/config.yaml does not load"
import sys
try:
    from edge_bridge.config import ConfigError, load_config
except ImportError as exc:
    print(f"check.sh: edge bridge config loader not importable ({exc}); config.yaml not checked")
    sys.exit(0)
try:
    config = load_config(sys.argv[1])
except ConfigError as exc:
    print(f"check.sh: ERROR: {exc}", file=sys.stderr)
    sys.exit(1)
print(f"check.sh: docker/edge-bridge/config.yaml loads (device {config.device_code}, "
      f"{len(config.sources)} source(s), sink {config.sink.url})")
PY
fi
say "OK"
