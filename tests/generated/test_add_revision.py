"""`add-revision` and `diff`: a new schema revision in one command, checked on a synthetic next revision
(the newest schema plus a method, a `Tool` member and a content block) and on the published ones."""

from __future__ import annotations

import itertools
import json
import shutil
import tomllib
from pathlib import Path

import msgspec
import pytest

from mcpbind.codegen.cli import generate
from mcpbind.codegen.diff import compare, facts_of, render
from mcpbind.codegen.pins import SCHEMA_DIR, load_pins, published_pins
from mcpbind.codegen.revision import Added, add_revision, read_schema_ts, scaffold_overrides
from mcpbind.codegen.source import SchemaError, apply_errata, load_source

from ..revision_support import (
    NEW_CONTENT,
    NEW_METHOD,
    NEW_TOOL_MEMBER,
    NEXT,
    codegen,
    next_schema,
    write_mirror,
)

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = [p.name for p in published_pins()]


def _schema_dir(tmp_path: Path) -> Path:
    """A copy of schema/ (pins, errata, overrides, the cached schemas) to add revisions to."""
    target = tmp_path / "schema"
    shutil.copytree(SCHEMA_DIR, target, ignore=shutil.ignore_patterns("examples"))
    return target


def _raw_corrected(name: str) -> dict[str, object]:
    """A published schema with its errata applied but none of the overrides' normalisations: what
    add-revision sees of a new revision once it has carried the errata forward."""
    pin = next(p for p in load_pins() if p.name == name)
    schema = json.loads(pin.cache_path().read_bytes())
    errata = tomllib.loads((SCHEMA_DIR / "errata" / f"{name}.toml").read_text()).get("erratum", [])
    apply_errata(schema, errata, name)
    return schema


@pytest.mark.parametrize("old,new", list(itertools.pairwise(PUBLISHED))[1:])
def test_the_scaffold_of_a_published_revision_agrees_with_its_hand_written_overrides(
    old: str, new: str
) -> None:
    pins = {p.name: p for p in load_pins()}
    added = Added(pins[new])
    scaffold = tomllib.loads(scaffold_overrides(new, pins[old], _raw_corrected(new), None, SCHEMA_DIR, added))
    written = load_source(pins[new]).overrides
    assert scaffold["results"] == written["results"]
    assert scaffold["error_codes"] == written["error_codes"] or any("error code" in r for r in added.review)
    assert scaffold["protocol_version"] == written["protocol_version"]
    # What the previous revision's overrides state and the new one kept is carried as it is.
    before = load_source(pins[old]).overrides
    for section in ("property_defaults", "dispatch_consts", "read_optional", "open", "open_unions"):
        if section in before and before[section] == written.get(section):
            assert scaffold[section] == written[section], section


def test_add_revision_pins_scaffolds_and_generates_a_synthetic_next_revision(tmp_path: Path) -> None:
    schema_dir = _schema_dir(tmp_path)
    mirror = write_mirror(tmp_path / "mirror")
    done = codegen("--schema-dir", schema_dir, "add-revision", NEXT, "--from", mirror)
    assert done.returncode == 0, done.stderr
    report = done.stdout
    # The pin: sha256 and size of the file, before the draft alias.
    raw = (mirror / NEXT / "schema.json").read_bytes()
    pins = load_pins(schema_dir)
    assert [p.name for p in pins if p.alias_of is None][-1] == NEXT
    assert pins[-1].name == "draft"
    pin = next(p for p in pins if p.name == NEXT)
    assert pin.bytes == len(raw) and pin.commit == "0" * 40
    # Every erratum of the previous revision still applies to the unchanged parts: carried, each said.
    previous = PUBLISHED[-1]
    carried = tomllib.loads((schema_dir / "errata" / f"{NEXT}.toml").read_text())["erratum"]
    expected = tomllib.loads((SCHEMA_DIR / "errata" / f"{previous}.toml").read_text())["erratum"]
    assert [e["pointer"] for e in carried] == [e["pointer"] for e in expected]
    assert report.count(f"carried from {previous}, still needed") == len(expected)
    # The new method's result type comes from the schema (ListWidgetsResultResponse), the diff says it.
    overrides = tomllib.loads((schema_dir / "overrides" / f"{NEXT}.toml").read_text())
    assert overrides["results"][NEW_METHOD] == ["ListWidgetsResult"]
    assert f"added `{NEW_METHOD}`" in report
    assert f"`Tool.{NEW_TOOL_MEMBER}` added (optional)" in report
    assert f"`ContentBlock` admits `{NEW_CONTENT}`" in report
    # Generating works, and the module has the additions with the carried errata in force.
    out = tmp_path / "generated"
    shutil.copytree(ROOT / "generated", out, ignore=shutil.ignore_patterns("__pycache__"))
    assert generate(check=False, out_dir=out, schema_dir=schema_dir) == 0
    stem = f"v{NEXT.replace('-', '_')}"
    # (the revision's module and the one holding its less used types)
    module = (out / f"{stem}.py").read_text() + (out / f"_{stem}_more.py").read_text()
    assert "class ListWidgetsRequest(" in module and "class VideoContent(" in module
    assert "cost_hint" in module and f'"{NEW_METHOD}"' in module
    package = (out / "__init__.py").read_text()
    assert f'LATEST: Final = "{NEXT}"' in package
    # The published modules are untouched by adding one.
    for name in PUBLISHED:
        file = f"v{name.replace('-', '_')}.py"
        assert (out / file).read_text() == (ROOT / "generated" / file).read_text()


def test_an_erratum_fixed_upstream_is_not_carried_and_said(tmp_path: Path) -> None:
    schema = next_schema()
    defs = schema["$defs"]
    assert isinstance(defs, dict)
    defs["RequestId"]["type"] = ["string", "number"]  # upstream fixed
    defs["ProgressToken"]["type"] = "string"  # upstream changed otherwise
    schema_dir = _schema_dir(tmp_path)
    added = add_revision(NEXT, source_dir=write_mirror(tmp_path / "mirror", schema), schema_dir=schema_dir)
    report = added.report()
    assert "erratum /$defs/RequestId/type: fixed upstream, not carried" in report
    assert "erratum /$defs/ProgressToken/type of" in report and 'no longer applies (found "string")' in report
    carried = tomllib.loads((schema_dir / "errata" / f"{NEXT}.toml").read_text())["erratum"]
    assert "/$defs/RequestId/type" not in [e["pointer"] for e in carried]


def test_schema_ts_constants_are_read_when_the_source_has_it(tmp_path: Path) -> None:
    ts = (
        'export const LATEST_PROTOCOL_VERSION = "DRAFT-2099-v1";\n'
        'export const JSONRPC_VERSION = "2.0";\n'
        "export const PARSE_ERROR = -32700;\n"
        "export const HEADER_MISMATCH = -32020;\n"
        "export const NEW_THING = -32030;\n"
        "export const NOT_A_CODE = 5;\n"
    )
    facts = read_schema_ts(ts)
    assert facts.protocol_version == "DRAFT-2099-v1"
    assert facts.error_codes == {"PARSE_ERROR": -32700, "HEADER_MISMATCH": -32020, "NEW_THING": -32030}
    mirror = write_mirror(tmp_path / "mirror")
    (mirror / NEXT / "schema.ts").write_text(ts)
    schema_dir = _schema_dir(tmp_path)
    add_revision(NEXT, source_dir=mirror, schema_dir=schema_dir)
    overrides = tomllib.loads((schema_dir / "overrides" / f"{NEXT}.toml").read_text())
    assert overrides["protocol_version"] == "DRAFT-2099-v1"
    assert overrides["error_codes"]["NEW_THING"] == -32030


def test_add_revision_refuses_what_it_cannot_do_naming_the_step(tmp_path: Path) -> None:
    schema_dir = _schema_dir(tmp_path)
    with pytest.raises(SchemaError, match="pinned already"):
        add_revision(PUBLISHED[-1], source_dir=tmp_path, schema_dir=schema_dir)
    with pytest.raises(SchemaError, match=r"step 'read schema'.*could not be read"):
        add_revision(NEXT, source_dir=tmp_path / "empty", schema_dir=schema_dir)
    with pytest.raises(SchemaError, match="not a revision name"):
        add_revision("next", source_dir=tmp_path, schema_dir=schema_dir)
    done = codegen("--schema-dir", schema_dir, "add-revision", NEXT)
    assert done.returncode == 2 and "--from" in done.stderr


def test_a_missing_overrides_file_is_named_with_its_step(tmp_path: Path) -> None:
    schema_dir = _schema_dir(tmp_path)
    (schema_dir / "overrides" / f"{PUBLISHED[-1]}.toml").unlink()
    done = codegen("--schema-dir", schema_dir, "generate", "--check")
    assert done.returncode == 2
    assert f"step 'load overrides': {schema_dir / 'overrides' / PUBLISHED[-1]}.toml is missing" in done.stderr


def test_a_missing_result_type_names_the_overrides_file_and_the_method(tmp_path: Path) -> None:
    schema_dir = _schema_dir(tmp_path)
    path = schema_dir / "overrides" / f"{PUBLISHED[-1]}.toml"
    path.write_text(
        "\n".join(line for line in path.read_text().splitlines() if not line.startswith('"tools/list"'))
    )
    done = codegen("--schema-dir", schema_dir, "generate", "--check")
    assert done.returncode == 2
    assert f"schema/overrides/{PUBLISHED[-1]}.toml [results] lacks 'tools/list'" in done.stderr


def test_diff_of_two_published_revisions_says_what_changed() -> None:
    done = codegen("diff", "2025-06-18", "2025-11-25")
    assert done.returncode == 0, done.stderr
    assert "added `tasks/get`" in done.stdout
    assert "`Tool.icons` added (optional): taken by the server's decorators as metadata" in done.stdout
    same = render(
        compare(facts_of("a", _raw_corrected("2025-11-25")), facts_of("b", _raw_corrected("2025-11-25")))
    )
    assert "No change" in same


def test_the_revision_docs_are_current() -> None:
    done = codegen("docs", "--check")
    assert done.returncode == 0, done.stdout


def test_the_published_modules_are_byte_identical_after_regeneration() -> None:
    done = codegen("generate", "--check")
    assert done.returncode == 0, done.stdout
    assert "up to date" in done.stdout


def test_an_unknown_revision_in_a_diff_is_an_error() -> None:
    done = codegen("diff", "2025-06-18", "1999-01-01")
    assert done.returncode == 2 and "1999-01-01 is not pinned" in done.stderr


def test_the_synthetic_schema_is_valid_json_schema_data() -> None:
    # Guard the fixture itself: its new definitions decode as JSON and refer only to what exists.
    schema = next_schema()
    text = json.dumps(schema)
    for ref in set(part.split('"')[0] for part in text.split('"$ref": "#/$defs/')[1:]):
        assert ref in schema["$defs"], ref
    msgspec.json.decode(text.encode())
