#!/usr/bin/env python3
"""Run every test of the suite and print one summary a human (and CI) can read.

1. Odoo tests of every addon in addons/ against a throwaway database. By default with
   pytest-odoo: `odoo-bin -i <addons> --stop-after-init` (no --test-enable), then
   `pytest --odoo-http --odoo-database=<db> addons/<addon>/tests ...`, counted from its junit
   file. `--odoo-runner odoo-bin` runs them the old way (`odoo-bin -i <addons> --test-enable`,
   counted from Odoo's own result line); both run the same 281 tests (README "Tests").
2. The plain pytest suites (canonical/, edge_bridge/tests, tests/), which include the
   end-to-end tests that start a real Odoo server.

Exit status is non-zero when anything failed or when a suite could not run at all.
"""
import argparse
import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_PY = ROOT / ".venv" / "bin" / "python"
RUN_DIR = Path(os.environ.get("RUN_DIR", ROOT / "var"))
ODOO_RESULT = re.compile(r"odoo\.tests\.result: (\d+) failed, (\d+) error\(s\) of (\d+) tests")
PYTEST_DIRS = ["canonical/tests", "edge_bridge/tests", "tests"]


def our_addons():
    return sorted(p.name for p in (ROOT / "addons").iterdir() if (p / "__manifest__.py").exists())


def addons_with_tests():
    return [name for name in our_addons() if (ROOT / "addons" / name / "tests").is_dir()]


def install_addons(odoo_src, db, log_path):
    """Install every addon into a fresh `db` without running any test; True when it worked."""
    addons = ",".join(our_addons())
    subprocess.run(["dropdb", "--if-exists", "-h", "127.0.0.1", db], check=False)
    cmd = [str(VENV_PY), str(Path(odoo_src) / "odoo-bin"), "-c", str(RUN_DIR / "odoo.conf"),
           "-d", db, "-i", addons, "--stop-after-init",
           "--http-port", os.environ.get("MFG_TEST_HTTP_PORT", "8169"), "--log-level", "info",
           "--workers", "0", "--max-cron-threads", "0"]
    print(f"[tests] Odoo: installing {addons} into throwaway database {db}", flush=True)
    with open(log_path, "w") as log:
        proc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, check=False)
    # odoo-bin may log a failed module load and still exit 0: its ERROR lines count too.
    errors = [line for line in Path(log_path).read_text(errors="replace").splitlines()
              if re.search(r"^\S+ \S+ \d+ (ERROR|CRITICAL) ", line)]
    for line in errors[:20]:
        print("   ", line[:300])
    if proc.returncode != 0 or errors:
        print(f"[tests] Odoo: install failed (exit {proc.returncode}); see {log_path}")
        return False
    return True


def count_junit(junit, addons):
    """({addon: tests}, tests, failed, skipped) of a pytest-odoo junit file.

    One <testcase> per test method, as in Odoo's result line; a failed subTest marks its method
    failed. The suite's "tests" attribute also counts subtests, so it is not comparable.
    """
    per_addon = {name: 0 for name in addons}
    total = failed = skipped = 0
    for case in ET.parse(junit).getroot().iter("testcase"):
        total += 1
        addon = case.get("classname", "").split(".")[1:2]  # addons.<addon>.tests.<module>.<Class>
        if addon and addon[0] in per_addon:
            per_addon[addon[0]] += 1
        tags = {child.tag for child in case}
        failed += bool(tags & {"failure", "error"})
        skipped += "skipped" in tags and not tags & {"failure", "error"}
    return per_addon, total, failed, skipped


def run_odoo_pytest(odoo_src, db, log_path, junit):
    """The addons' tests under pytest-odoo, on a database where all addons are installed.

    --odoo-http starts Odoo's HTTP server inside the pytest process (HttpCase, the tour);
    without it pytest-odoo skips every HttpCase, which is why a skip counts as a failure here.
    """
    probe = subprocess.run([str(VENV_PY), "-c", "import pytest_odoo"],
                           capture_output=True, check=False)
    if probe.returncode != 0:
        print("[tests] Odoo: pytest-odoo is not installed in .venv (setup/requirements.txt;"
              " make install), or use --odoo-runner odoo-bin")
        return 0, 1
    started = time.monotonic()
    if not install_addons(odoo_src, db, log_path):
        return 0, 1
    dirs = [f"addons/{name}/tests" for name in addons_with_tests()]
    cmd = [str(VENV_PY.parent / "pytest"), "-q", "-p", "no:cacheprovider",
           f"--odoo-config={RUN_DIR / 'odoo.conf'}", f"--odoo-database={db}", "--odoo-http",
           f"--junitxml={junit}", "-rfEs", *dirs]
    print(f"[tests] Odoo (pytest-odoo): {' '.join(dirs)}", flush=True)
    Path(junit).unlink(missing_ok=True)
    proc = subprocess.run(cmd, cwd=ROOT, check=False)
    elapsed = time.monotonic() - started
    if not Path(junit).exists():
        print(f"[tests] Odoo (pytest-odoo): no junit file (exit {proc.returncode})")
        return 0, 1
    per_addon, total, failed, skipped = count_junit(junit, addons_with_tests())
    bad = failed + skipped
    empty = [name for name, count in per_addon.items() if count == 0]
    if empty:
        print(f"[tests] Odoo (pytest-odoo): no test ran for {', '.join(empty)}")
        bad += len(empty)
    if skipped:
        print(f"[tests] Odoo (pytest-odoo): {skipped} test(s) skipped: a skip is a test CI did"
              " not run, counted as failed")
    if proc.returncode != 0 and bad == 0:
        bad = 1  # collection error, crash, or no test ran (exit 5)
        print(f"[tests] Odoo (pytest-odoo) exited with {proc.returncode}")
    figures = ", ".join(f"{name} {count}" for name, count in per_addon.items())
    print(f"[tests] Odoo (pytest-odoo): {figures}")
    print(f"[tests] Odoo (pytest-odoo): {total - failed - skipped} passed, {bad} failed"
          f" ({elapsed:.0f}s with the install, install log {log_path})")
    return total - failed - skipped, bad


def run_odoo_tests(odoo_src, db, log_path):
    addons = ",".join(our_addons())
    tags = ",".join(f"/{name}" for name in our_addons())
    subprocess.run(["dropdb", "--if-exists", "-h", "127.0.0.1", db], check=False)
    cmd = [str(VENV_PY), str(Path(odoo_src) / "odoo-bin"), "-c", str(RUN_DIR / "odoo.conf"),
           "-d", db, "-i", addons, "--test-enable", "--test-tags", tags, "--stop-after-init",
           "--http-port", os.environ.get("MFG_TEST_HTTP_PORT", "8169"), "--log-level", "info",
           "--workers", "0", "--max-cron-threads", "0"]
    print(f"[tests] Odoo: installing {addons} into throwaway database {db} and running its tests",
          flush=True)
    started = time.monotonic()
    with open(log_path, "w") as log:
        proc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    text = Path(log_path).read_text(errors="replace")
    matches = list(ODOO_RESULT.finditer(text))
    match = matches[-1] if matches else None  # the summary is the last one
    for line in text.splitlines():
        if re.search(r" (ERROR|CRITICAL) .*(FAIL|ERROR):|Traceback|AssertionError|Error:", line):
            print("   ", line[:300])
    elapsed = time.monotonic() - started
    if match is None:
        print(f"[tests] Odoo: no test result line found (exit {proc.returncode}); see {log_path}")
        tail = text.splitlines()[-30:]
        print("\n".join("    " + line for line in tail))
        return 0, 1
    failed, errors, total = (int(g) for g in match.groups())
    bad = failed + errors
    if proc.returncode != 0 and bad == 0:
        bad = 1
        print(f"[tests] Odoo exited with {proc.returncode} although its tests passed; "
              f"see {log_path}")
    print(f"[tests] Odoo: {total - failed - errors} passed, {bad} failed "
          f"({elapsed:.0f}s, log {log_path})")
    return total - failed - errors, bad


def run_pytest(junit, db, odoo_src):
    dirs = [d for d in PYTEST_DIRS if (ROOT / d).is_dir()]
    env = dict(os.environ, MFG_ODOO_TEST_DB=db, ODOO_SRC=odoo_src,
               MFG_ODOO_CONF=str(RUN_DIR / "odoo.conf"))
    # The pytest script, not "python -m pytest": -m would put the repo root on sys.path, where
    # the edge_bridge/ project folder shadows the installed edge_bridge package.
    # -p no:odoo: pytest-odoo is installed for the addons' tests, and its session fixture
    # would try to load an Odoo registry in these suites, which need none.
    cmd = [str(VENV_PY.parent / "pytest"), "-q", "-p", "no:cacheprovider", "-p", "no:odoo",
           f"--junitxml={junit}", *dirs]
    print(f"[tests] pytest: {' '.join(dirs)}", flush=True)
    proc = subprocess.run(cmd, cwd=ROOT, env=env)
    if not Path(junit).exists():
        return 0, 1
    suites = ET.parse(junit).getroot()
    suites = [suites] if suites.tag == "testsuite" else list(suites)
    total = sum(int(s.get("tests", 0)) for s in suites)
    failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    skipped = sum(int(s.get("skipped", 0)) for s in suites)
    if proc.returncode not in (0,) and failed == 0:
        failed = 1  # collection error, crash, or no test ran (exit 5)
    print(f"[tests] pytest: {total - failed - skipped} passed, {failed} failed, {skipped} skipped")
    return total - failed - skipped, failed


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=["odoo", "pytest"], help="run one part only")
    parser.add_argument("--odoo-runner", choices=["pytest-odoo", "odoo-bin"],
                        default="pytest-odoo", help="runner of the addons' Odoo tests")
    args = parser.parse_args()
    odoo_src = (RUN_DIR / "odoo_src").read_text().strip()
    db = os.environ.get("MFG_TEST_DB") or f"mfg_test_{os.getpid()}"
    RUN_DIR.mkdir(exist_ok=True)
    passed = failed = 0
    if args.only in (None, "odoo"):
        if args.odoo_runner == "pytest-odoo":
            p, f = run_odoo_pytest(odoo_src, db, RUN_DIR / "odoo-install.log",
                                   RUN_DIR / "odoo-pytest-junit.xml")
        else:
            p, f = run_odoo_tests(odoo_src, db, RUN_DIR / "odoo-tests.log")
        if p == 0 and f == 0:
            f = 1  # CI must never pass with an Odoo part that ran nothing
            print("[tests] Odoo: no test ran")
        passed, failed = passed + p, failed + f
    if args.only in (None, "pytest"):
        p, f = run_pytest(RUN_DIR / "pytest-junit.xml", db, odoo_src)
        passed, failed = passed + p, failed + f
    subprocess.run(["dropdb", "--if-exists", "-h", "127.0.0.1", db], check=False)
    print("=" * 60)
    print("ALL TESTS PASSED" if failed == 0 else "SOME TESTS FAILED")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
