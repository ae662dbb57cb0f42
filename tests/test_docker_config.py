"""The Docker Compose stack validates offline (no Docker engine runs in CI)."""
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_compose_file_validates():
    proc = subprocess.run(["bash", str(ROOT / "docker" / "check.sh")], capture_output=True,
                          text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "docker/compose.yaml is valid" in proc.stdout + proc.stderr
