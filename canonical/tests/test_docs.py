"""The contract pages in docs/contract/ are the JSON Schemas, rendered: they cannot drift."""

import importlib.util
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _gen_docs():
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "canonical/tools/gen_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_checked_in_contract_pages_match_the_schemas():
    problems = _gen_docs().stale()
    assert not problems, f"docs/contract is stale, run `make docs`: {problems}"


def test_a_schema_change_makes_the_pages_stale(tmp_path):
    gen = _gen_docs()
    gen.write(tmp_path)
    assert gen.stale(tmp_path) == []
    page = tmp_path / "types" / "machine.alarm.v1.md"
    page.write_text(page.read_text().replace("| `severity` |", "| `severity_level` |"))
    (tmp_path / "types" / "machine.retired.v1.md").write_text("# old\n")
    assert gen.stale(tmp_path) == [
        "types/machine.alarm.v1.md",
        "types/machine.retired.v1.md (no schema)",
    ]


def test_every_schema_field_and_type_is_documented():
    gen = _gen_docs()
    pages = gen.generate()
    for type_name, version, path in gen._schemas():
        page = pages[f"types/{type_name}.v{version}.md"]
        for field in json.loads(path.read_text())["properties"]:
            assert f"| `{field}` |" in page, (type_name, field)
        assert f"[`{type_name}`]({type_name}.v{version}.md)" in pages["types/README.md"]
    for version, page in ((1, "envelope.md"), (2, "envelope.v2.md")):
        envelope = json.loads((gen.SCHEMA_DIR / f"envelope.v{version}.json").read_text())
        for field in envelope["properties"]:
            assert f"| `{field}` |" in pages[page], field
    definitions = json.loads((gen.SCHEMA_DIR / "definitions.v2.json").read_text())
    for name in definitions["definitions"]:
        assert f"\n## {name}\n" in pages["definitions.v2.md"], name


def _python_blocks(markdown):
    blocks, inside, lines = [], False, []
    for line in markdown.splitlines():
        if line.startswith("```"):
            if inside:
                blocks.append("\n".join(lines))
            inside, lines = line.strip() == "```python", []
        elif inside:
            lines.append(line)
    return blocks


def test_webhook_verification_example_accepts_a_real_signature_and_refuses_forgeries():
    import hashlib
    import hmac

    (code,) = _python_blocks((ROOT / "docs" / "webhooks.md").read_text())
    namespace = {}
    exec(compile(code, "docs/webhooks.md", "exec"), namespace)  # noqa: S102 - our own doc
    verify = namespace["verify_mfg_webhook"]
    body = b'{"key":"a-1","type":"machine.alarm"}'
    # Signed the way addons/mfg_integration/services/transport.py sign() does.
    signature = "sha256=" + hmac.new(b"s3cret", b"1764748800." + body, hashlib.sha256).hexdigest()
    headers = {"X-Mfg-Timestamp": "1764748800", "X-Mfg-Signature": signature}
    assert verify("s3cret", headers, body, now=1764748800 + 10)
    assert not verify("other", headers, body, now=1764748800 + 10)
    assert not verify("s3cret", headers, body + b" ", now=1764748800 + 10)
    assert not verify("s3cret", headers, body, now=1764748800 + 301)
    assert not verify(
        "s3cret", dict(headers, **{"X-Mfg-Timestamp": "1764748801"}), body, now=1764748800
    )


def test_a_schema_keyword_the_generator_cannot_render_fails_loudly():
    gen = _gen_docs()
    schema = {
        "type": "object",
        "required": ["code"],
        "properties": {"code": {"type": "string", "oneOf": [{"pattern": "^[A-Z]+$"}]}},
    }
    with pytest.raises(ValueError, match=r"code: gen_docs.py does not render \['oneOf'\]"):
        gen._object_tables(schema, "", [])
    nested = {
        "type": "object",
        "properties": {
            "lines": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"qty": {"type": "number", "multipleOf": 1}},
                },
            }
        },
    }
    with pytest.raises(ValueError, match=r"lines\[\]\.qty: .*multipleOf"):
        gen._object_tables(nested, "", [])


LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_every_relative_link_in_the_repository_markdown_points_to_a_file():
    skip = {".venv", "var", ".git", "node_modules"}
    pages = [
        page for page in sorted(ROOT.rglob("*.md")) if not skip & set(page.relative_to(ROOT).parts)
    ]
    broken = []
    for page in pages:
        for target in LINK.findall(page.read_text()):
            if target.startswith(("http://", "https://", "mailto:", "#")):
                continue
            path = (page.parent / target.split("#", 1)[0]).resolve()
            if not path.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert not broken, broken


def test_every_addon_has_readme_fragments_and_its_translation_template():
    addons = sorted(p.parent for p in (ROOT / "addons").glob("*/__manifest__.py"))
    assert len(addons) >= 7
    for addon in addons:
        for fragment in ("DESCRIPTION.md", "CONFIGURE.md", "USAGE.md"):
            path = addon / "readme" / fragment
            assert path.is_file() and path.read_text().strip(), f"{addon.name}/readme/{fragment}"
        pot = addon / "i18n" / f"{addon.name}.pot"
        assert pot.is_file(), f"{pot.relative_to(ROOT)} missing: run `make pot`"
        text = pot.read_text()
        assert f"#. module: {addon.name}\n" in text and 'msgid "' in text, pot.name


def test_canonical_v2_examples_are_valid_envelopes():
    from mfg_canonical import validate_envelope
    from mfg_canonical.b2mml import export, import_document

    page = (ROOT / "docs" / "canonical-v2.md").read_text()
    blocks = re.findall(r"```json\n(.*?)```", page, flags=re.S)
    assert blocks, "the page shows an example"
    for block in blocks:
        envelope = json.loads(block)
        validate_envelope(envelope)
        (again,), rejects = import_document(export(envelope))
        assert rejects == []
        validate_envelope(again)
        # B2MML adds the ids it requires (response, actuals); the facts are unchanged.
        for before, after in zip(envelope["payload"]["segment_responses"],
                                 again["payload"]["segment_responses"], strict=True):
            assert before["segment_state"] == after["segment_state"]
            assert [a["quantity"] for a in before["material_actuals"]] == \
                [a["quantity"] for a in after["material_actuals"]]
