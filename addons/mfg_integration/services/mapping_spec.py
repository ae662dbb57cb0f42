"""Translate the external codes of a payload with a set of mapping rules (pure function).

A rule is (payload field, mapping type, required). A required code without a mapping puts
the message in `exception`; an optional one is resolved when a mapping exists. Which rules
apply to which canonical type is not kept here: it is the model hook
``mfg.message._mfg_mapping_rules()`` that each addon extends with ``super()``
(docs/extending.md, "Mapping rules").

The field may be a path into the payload (v2 payloads nest): ``a.b`` walks objects,
``a[].b`` every item of the list ``a``, ``a[use=Produced].b`` the items whose ``use`` is
``Produced``. A path through ``[]`` resolves to {code: value} (one document may name
several work centers); a plain path to the value itself.
"""
import re

from ..exceptions import MissingMapping  # noqa: F401 (re-exported)

_LIST_STEP = re.compile(r"^(?P<name>[\w-]+)\[(?:(?P<key>[\w-]+)=(?P<value>[^\]]*))?\]$")


def values_at(payload, path):
    """Every value at ``path`` in ``payload`` (empty when the path leads nowhere)."""
    found = [payload]
    for part in path.split("."):
        listed = _LIST_STEP.match(part)
        name = listed["name"] if listed else part
        step = []
        for node in found:
            value = node.get(name) if isinstance(node, dict) else None
            if listed:
                step.extend(item for item in (value if isinstance(value, list) else [])
                            if not listed["key"] or (isinstance(item, dict) and str(
                                item.get(listed["key"])) == listed["value"]))
            elif value is not None:
                step.append(value)
        found = step
    return found


def value_at(payload, path):
    values = values_at(payload, path)
    return values[0] if values else None


def resolve(rules, payload, lookup):
    """Translate the external codes of ``payload`` named by ``rules``.

    ``lookup(mapping_type, external_code)`` returns the mapped value or None.
    Returns {field: value} ({field: {code: value}} for a path through a list); raises
    MissingMapping naming every missing required code at once, so the operator fixes them
    all in one go.
    """
    resolved, missing = {}, []
    for field, kind, required in rules:
        listed = "[]" in field
        codes = [code for code in values_at(payload, field) if code not in (None, "")]
        for code in dict.fromkeys(str(code) for code in codes):
            value = lookup(kind, code)
            if value is None:
                if required:
                    missing.append((kind, code, field))
                continue
            if listed:
                resolved.setdefault(field, {})[code] = value
            else:
                resolved[field] = value
    if missing:
        raise MissingMapping(missing)
    return resolved
