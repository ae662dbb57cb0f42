"""CSV forecast files -> canonical ``demand.forecast`` envelopes, with errors per row.

Columns: product, location (optional), period_start, period_end (optional), qty, uom.
A row is turned into an envelope only when it would be accepted as is; every other row is
reported with its line number and all its problems at once, and never stored.
"""
import csv
import hashlib
import io
from datetime import date

REQUIRED_COLUMNS = ("product", "period_start", "qty", "uom")
OPTIONAL_COLUMNS = ("location", "period_end")


class CsvFileError(ValueError):
    """The file as a whole cannot be read (encoding, missing columns): nothing imported."""


def _decode(raw):
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CsvFileError("the file is neither UTF-8 nor Windows-1252 text")


def read_rows(raw):
    """Yield (line number, {column: value}) of a CSV file (',' or ';' separated)."""
    text = _decode(raw)
    try:
        dialect = csv.Sniffer().sniff(text.splitlines()[0] if text else "", delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    header = [(name or "").strip().lower() for name in (reader.fieldnames or [])]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise CsvFileError(f"missing column(s): {', '.join(missing)} (expected: "
                           f"{', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)})")
    reader.fieldnames = header
    for row in reader:
        yield reader.line_num, {k: (v or "").strip() for k, v in row.items() if k}


def _date(value, column, errors):
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(f"{column} {value!r} is not a date (YYYY-MM-DD)")
        return None


def check_row(row, resolve):
    """(payload or None, [errors]); ``resolve(kind, code)`` says whether a code is mapped."""
    errors = []
    for column in REQUIRED_COLUMNS:
        if not row.get(column):
            errors.append(f"{column} is empty")
    if errors:
        return None, errors
    if not resolve("product", row["product"]):
        errors.append(f"unknown product {row['product']!r} (no product mapping)")
    if not resolve("uom", row["uom"]):
        errors.append(f"unknown unit {row['uom']!r} (no unit mapping)")
    if row.get("location") and not resolve("location", row["location"]):
        errors.append(f"unknown location {row['location']!r} (no location mapping)")
    try:
        qty = float(row["qty"].replace(",", ".") if row["qty"].count(",") == 1
                    and "." not in row["qty"] else row["qty"])
    except ValueError:
        qty = None
        errors.append(f"qty {row['qty']!r} is not a number")
    if qty is not None and qty < 0:
        errors.append(f"qty {qty:g} is negative")
    start = _date(row["period_start"], "period_start", errors)
    end = _date(row["period_end"], "period_end", errors) if row.get("period_end") else None
    if start and end and end < start:
        errors.append(f"period_end {end} is before period_start {start}")
    if errors:
        return None, errors
    payload = {"product": row["product"], "qty": qty, "uom": row["uom"],
               "period_start": start.isoformat()}
    if end:
        payload["period_end"] = end.isoformat()
    if row.get("location"):
        payload["location"] = row["location"]
    return payload, []


def file_key_prefix(raw):
    """Keys are file digest + line: importing the same file twice stores nothing twice."""
    return "csv:" + hashlib.sha1(raw).hexdigest()[:16]
