"""Parsing request bodies so that a hostile value is one envelope's problem, not the batch's.

Python's ``json`` recurses once per nesting level: a body nested a few thousand levels deep
raises RecursionError (a server error) before any rule can look at it, and takes the nine
good envelopes of the batch down with the bad one. ``loads`` therefore retries such a body
with every subtree below PARSE_DEPTH replaced by ``null``: the parse succeeds, the structure
that remains is still far deeper than ``values.MAX_DEPTH``, and the validator rejects just
the envelope that carried it ("payload.deep...: nested deeper than 32 levels").

The fast path (one ``json.loads``) is unchanged for ordinary bodies; the slower tokenizing
pass runs only after a RecursionError. Non-finite numbers (NaN, Infinity, 1e999) and lone
surrogate escapes are parsed as Python does and left to the per-envelope value rules.
"""
import json
import re

# Far beyond MAX_DEPTH plus the wrapper levels ({"envelopes": [...]}, JSON-RPC params), far
# below the interpreter's recursion limit even when called deep inside a web server stack.
PARSE_DEPTH = 200

# A JSON string (possessive: no backtracking on hostile input), or a run of opening or of
# closing brackets: "[[[[..." is one token, so the common hostile shape costs no Python loop.
_TOKEN = re.compile(r'"(?:[^"\\]++|\\.)*+"|[\[{]++|[\]}]++', re.DOTALL)
# The tokenizing pass runs at Python speed (about 1 s per 5 MiB of brackets); above this size
# a body nested past the recursion limit is refused as a whole instead.
CUT_MAX_CHARS = 32 * 1024 * 1024


class BodyError(ValueError):
    """The body as a whole is not usable JSON (HTTP 400); the text says why."""


def decode_utf8(data):
    """``data`` (bytes) as text; invalid UTF-8 is refused, never silently replaced."""
    try:
        return bytes(data).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyError(f"body is not valid UTF-8 (invalid byte at offset {exc.start})") from None


def cut_deep(text, limit=PARSE_DEPTH):
    """``text`` with every array/object nested deeper than ``limit`` replaced by ``null``."""
    out = []
    depth = 0
    copied_to = 0
    cut_at = None
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token[0] == '"':
            continue
        run = len(token)
        if token[0] in "[{":
            if cut_at is None and depth + run > limit:
                cut_at = match.start() + (limit - depth)  # the bracket opening level limit+1
            depth += run
        else:
            if cut_at is not None and depth - run <= limit:
                # the bracket closing level limit+1 is in this run
                out.append(text[copied_to:cut_at])
                out.append("null")
                copied_to = match.start() + (depth - limit)
                cut_at = None
            depth -= run
    if cut_at is not None:  # never closed: cut anyway, the parser then says what is missing
        out.append(text[copied_to:cut_at])
        out.append("null")
    else:
        out.append(text[copied_to:])
    return "".join(out)


def loads(data):
    """Parse a request body (bytes or str); raise BodyError with a reason if impossible."""
    text = decode_utf8(data) if isinstance(data, (bytes, bytearray, memoryview)) else data
    try:
        return json.loads(text)
    except RecursionError:
        pass
    except ValueError as exc:
        raise BodyError(f"malformed JSON: {exc}") from None
    if len(text) > CUT_MAX_CHARS:
        raise BodyError(f"nested deeper than the parser allows in a body over "
                        f"{CUT_MAX_CHARS // (1024 * 1024)} MiB: split the batch")
    try:
        return json.loads(cut_deep(text))
    except (ValueError, RecursionError) as exc:
        raise BodyError(f"malformed JSON: {exc}") from None
