"""Translate the external codes of a payload with a set of mapping rules (pure function).

A rule is (payload field, mapping type, required). A required code without a mapping puts
the message in `exception`; an optional one is resolved when a mapping exists. Which rules
apply to which canonical type is not kept here: it is the model hook
``mfg.message._mfg_mapping_rules()`` that each addon extends with ``super()``
(docs/extending.md, "Mapping rules").
"""
from ..exceptions import MissingMapping  # noqa: F401 (re-exported)


def resolve(rules, payload, lookup):
    """Translate the external codes of ``payload`` named by ``rules``.

    ``lookup(mapping_type, external_code)`` returns the mapped value or None.
    Returns {field: value}; raises MissingMapping naming every missing required code at once,
    so the operator fixes them all in one go.
    """
    resolved, missing = {}, []
    for field, kind, required in rules:
        code = payload.get(field)
        if code in (None, ""):
            continue
        value = lookup(kind, str(code))
        if value is None:
            if required:
                missing.append((kind, str(code), field))
            continue
        resolved[field] = value
    if missing:
        raise MissingMapping(missing)
    return resolved
