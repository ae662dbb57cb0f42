"""Small helpers shared by the benchmarks that import addon code without a running Odoo."""
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def add_addon_paths():
    """Make ``odoo.addons.<our addon>`` importable: our addons/ plus the Odoo source that
    setup/install.sh recorded in var/odoo_src (the project's ODOO_SRC choice)."""
    import odoo.addons

    odoo_src = Path((ROOT / "var" / "odoo_src").read_text().strip())
    for path in (ROOT / "addons", odoo_src / "addons"):
        if str(path) not in odoo.addons.__path__:
            odoo.addons.__path__.append(str(path))


def timed(label, count, send, unit=""):
    """Run ``send()`` once, print and return ``count`` per second."""
    started = time.perf_counter()
    send()
    elapsed = time.perf_counter() - started
    rate = count / elapsed
    print(f"{label:<44} {count:>6}{unit} in {elapsed:7.2f} s = {rate:9.0f} /s")
    return rate
