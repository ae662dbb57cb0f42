"""How SAP answers are turned into the core's two failure kinds.

The core pipeline knows two outcomes of a failed delivery: a business error (the message
goes to `exception` and waits for a person) and any other exception (retried with the
flow's backoff, then dead-lettered). SAP reports both kinds through the same BAPIRET2
tables, so the split is decided here, in one place, for RFC, SOAP and OData alike.
"""
import hashlib

from odoo.addons.mfg_integration.exceptions import MfgBusinessError

# (message class, number) pairs that mean "someone else holds the SAP lock": the same
# posting succeeds once the lock is released, so these are retried, not escalated.
DEFAULT_LOCK_MESSAGES = "CO/469,M3/897,MC/601"
ERROR_TYPES = ("E", "A", "X")


class SapBusinessError(MfgBusinessError):
    """SAP refused the content (BAPIRET2 E/A, HTTP 4xx, SOAP client fault): no retry."""


class SapRetryableError(Exception):
    """Lock, connection loss, timeout, malformed answer: try again with the flow's backoff."""


def parse_lock_messages(text):
    """"CO/469, M3/897" -> {("CO", "469"), ("M3", "897")}."""
    pairs = set()
    for item in (text or "").replace(";", ",").split(","):
        if "/" in item:
            msg_class, number = item.strip().split("/", 1)
            pairs.add((msg_class.strip().upper(), number.strip().lstrip("0").zfill(3)))
    return pairs


def format_return(row):
    """One BAPIRET2/BAPIRET1/BAPI_CORU_RETURN row as SAP shows it: "E CO 469: text"."""
    number = str(row.get("NUMBER") or "").strip()
    ident = " ".join(part for part in (str(row.get("ID") or "").strip(), number) if part)
    text = str(row.get("MESSAGE") or "").strip() or "(no message text)"
    return f"{row.get('TYPE', '')} {ident}: {text}".strip()


def error_rows(rows):
    return [row for row in rows or () if str(row.get("TYPE") or "").upper() in ERROR_TYPES]


def is_lock(row, lock_messages):
    if str(row.get("FLG_LOCKED") or "").strip().upper() == "X":
        return True
    key = (str(row.get("ID") or "").strip().upper(),
           str(row.get("NUMBER") or "").strip().lstrip("0").zfill(3))
    return key in lock_messages


def raise_for_return(rows, lock_messages, context=""):
    """Raise for the E/A rows of a BAPI return table; do nothing when there are none.

    A lock anywhere makes the whole answer retryable: the other errors are usually its
    consequences (e.g. "no confirmation posted") and vanish once the lock is gone.
    """
    errors = error_rows(rows)
    if not errors:
        return
    text = "; ".join(format_return(row) for row in errors)
    if context:
        text = f"{context}: {text}"
    if any(is_lock(row, lock_messages) for row in errors):
        raise SapRetryableError(f"SAP object locked, will retry. {text}")
    raise SapBusinessError(text)


def external_ref(key, length):
    """The message key cut to an SAP field of ``length`` characters, still unique.

    SAP text fields are short (HEADER_TXT 25, CONF_TEXT 40); a longer key keeps its head
    for people and gets a hash tail for uniqueness, so a re-send is recognisable.
    """
    if len(key) <= length:
        return key
    digest = hashlib.blake2b(key.encode(), digest_size=5).hexdigest()
    return f"{key[:length - 11]}~{digest}"
