#!/usr/bin/env python3
"""Canonical v2 costs (issue 14), in one run on one machine:
  (a) validating a v1 confirmation (what ingest did before v2) - the reference;
  (b) upgrading it to v2 and validating the result (what ingest now does for a v1 sender of
      a type read in v2, and what a handler's ``_mfg_payload()`` does);
  (c) validating a v2 confirmation (a v2 sender);
  (d) B2MML XML export and (e) import of that confirmation, and the naive way to check an
      export: (f) compiling MESA's XSD for every document instead of once.
Prints operations/s and each cost as a multiple of (a).
Usage: .venv/bin/python bench/bench_canonical_v2.py [--count 5000]
"""
import argparse
import copy
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "canonical"))

from lxml import etree  # noqa: E402
from mfg_canonical import validate_envelope  # noqa: E402
from mfg_canonical.b2mml import export, import_document  # noqa: E402
from mfg_canonical.upgrades import upgrade  # noqa: E402

XSD = ROOT / "canonical" / "tests" / "b2mml_v0701" / "B2MML-OperationsPerformance.xsd"
V1 = {"key": "k-1", "type": "production.confirmation", "schema_version": 1, "source": "MES-1",
      "occurred_at": "2026-11-23T08:00:00+01:00",
      "payload": {"order_ref": "WH/MO/7", "work_center": "WC-PRESS", "operation": "0010",
                  "qty_good": 40, "qty_scrap": 2, "uom": "pcs", "final": False,
                  "scrap_reason": "BURR", "lot": "L1", "operator": "EMP-4"}}


def rate(label, count, action, reference=None):
    started = time.perf_counter()
    for _ in range(count):
        action()
    elapsed = time.perf_counter() - started
    per_s = count / elapsed
    ratio = f"  {reference / per_s:6.1f}x the time of (a)" if reference else ""
    print(f"{label:<52} {per_s:10.0f} /s{ratio}")
    return per_s


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=5000)
    count = parser.parse_args().count
    v2 = upgrade(copy.deepcopy(V1))
    document = export(v2)
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    print(f"{count} operations each, {time.strftime('%Y-%m-%d %H:%M')} on this machine")
    reference = rate("(a) validate v1", count, lambda: validate_envelope(V1))
    rate("(b) upgrade v1 -> v2 and validate", count, lambda: upgrade(V1), reference)
    rate("(c) validate v2", count, lambda: validate_envelope(v2), reference)
    rate("(d) B2MML export (XML)", count, lambda: export(v2), reference)
    rate("(e) B2MML import (XML)", count, lambda: import_document(document), reference)
    once = rate("(f') check an export, XSD compiled once", count,
                lambda: schema.validate(etree.fromstring(document)), reference)
    naive = rate("(f) check an export, XSD compiled per document", max(count // 50, 20),
                 lambda: etree.XMLSchema(etree.parse(str(XSD))).validate(
                     etree.fromstring(document)), reference)
    print(f"XSD compiled once vs per document: {once / naive:.0f}x")


if __name__ == "__main__":
    main()
