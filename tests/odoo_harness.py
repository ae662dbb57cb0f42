"""Start a real Odoo 19 with the suite for cross-part tests (edge bridge -> Odoo).

Everything runs against the project's .venv and var/odoo.conf written by setup/install.sh.
A missing Odoo is an error, never a skip: these tests exist to prove the parts work together.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg2
import requests

ROOT = Path(__file__).resolve().parent.parent
RUN_DIR = Path(os.environ.get("RUN_DIR", ROOT / "var"))
PY = str(ROOT / ".venv" / "bin" / "python")


def odoo_src():
    path = Path(os.environ.get("ODOO_SRC") or (RUN_DIR / "odoo_src").read_text().strip())
    if not (path / "odoo-bin").exists():
        raise RuntimeError(f"Odoo source not found at {path}: run setup/install.sh")
    return path


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def odoo_cmd(*args):
    return [PY, str(odoo_src() / "odoo-bin"), *args[:1], "-c", str(RUN_DIR / "odoo.conf"),
            *args[1:]]


def odoo_shell(db, code, timeout=300):
    """Run ``code`` in ``odoo-bin shell``; returns the last JSON line it printed."""
    proc = subprocess.run(odoo_cmd("shell", "-d", db, "--log-level", "warn", "--no-http"),
                          input=code, capture_output=True, text=True, timeout=timeout)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"odoo shell failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return json.loads(lines[-1])


def create_db(db, modules="mfg_integration"):
    subprocess.run(["dropdb", "-h", "127.0.0.1", "--if-exists", db], check=True)
    proc = subprocess.run(odoo_cmd("server", "-d", db, "-i", modules, "--stop-after-init",
                                   "--log-level", "warn"),
                          capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"install of {modules} failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")


def drop_db(db):
    subprocess.run(["dropdb", "-h", "127.0.0.1", "--if-exists", db], check=False)


SETUP_EDGE = """
import json
code, types = %r, %r
connector = env["mfg.connector"].create({"name": "E2E edge", "code": code,
                                         "connector_type": "edge"})
for type_name in types:
    env["mfg.flow"].create({"name": type_name, "connector_id": connector.id,
                            "canonical_type": type_name})
user = env["res.users"].create({"name": "E2E edge API", "login": code.lower(),
    "group_ids": [(6, 0, [env.ref("mfg_integration.group_mfg_ingest").id])]})
connector.ingest_user_ids = [(4, user.id)]
key = env["res.users.apikeys"].with_user(user).sudo()._generate("rpc", "e2e", None)
env.cr.commit()
print(json.dumps({"key": key, "connector_id": connector.id}))
"""


class OdooServer:
    """A real Odoo HTTP server (2 workers + queue_job runner) on a throwaway database."""

    def __init__(self, db=None, workers=2, extra_args=(), env=None):
        # MFG_E2E_DB_PREFIX lets parallel worktrees keep their throwaway databases apart.
        self.db = db or f"{os.environ.get('MFG_E2E_DB_PREFIX', 'mfg_e2e_')}{uuid.uuid4().hex[:8]}"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.extra_args = list(extra_args)      # e.g. ["--load", "base,web"]: no job runner
        self.env = env                          # e.g. ODOO_QUEUE_JOB_PORT for the job runner
        self.process = None
        self.log = RUN_DIR / f"{self.db}.log"

    def install(self):
        create_db(self.db)
        return self

    def add_edge_connector(self, code, types):
        return odoo_shell(self.db, SETUP_EDGE % (code, list(types)))

    def start(self):
        self.process = subprocess.Popen(odoo_cmd(
            "server", "-d", self.db, "--db-filter", f"^{self.db}$", "--http-port",
            str(self.port), "--workers", str(self.workers), "--max-cron-threads", "0",
            "--gevent-port", str(free_port()), "--logfile", str(self.log), *self.extra_args),
            env={**os.environ, **(self.env or {})}, start_new_session=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Odoo exited with {self.process.returncode}; see {self.log}")
            try:
                if requests.get(f"{self.url}/web/health", timeout=2).ok:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"Odoo did not answer on {self.url}; see {self.log}")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None

    def kill(self):
        """kill -9 of the whole node (master, HTTP workers, job runner): a crash, no cleanup."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(30)
        self.process = None

    def execute(self, sql, params=None):
        """Run one statement in its own committed transaction (benchmarks' bulk changes)."""
        conn = psycopg2.connect(dbname=self.db, host="127.0.0.1")
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
        finally:
            conn.close()

    def query(self, sql, params=None):
        conn = psycopg2.connect(dbname=self.db, host="127.0.0.1")
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall()
        finally:
            conn.close()

    def wait_for(self, sql, expected, timeout=60, params=None):
        """Poll ``sql`` until its first cell equals ``expected``; returns the last value."""
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            value = self.query(sql, params)[0][0]
            if value == expected:
                return value
            time.sleep(0.3)
        return value


if __name__ == "__main__":  # manual use: python tests/odoo_harness.py -> starts a server
    server = OdooServer().install()
    print(server.add_edge_connector("EDGE-MANUAL", ["machine.alarm"]))
    server.start()
    print("running on", server.url, "db", server.db, file=sys.stderr)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        server.stop()
        drop_db(server.db)
