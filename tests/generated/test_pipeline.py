"""The schema pipeline and the generator: pins, fetch, errata, determinism, `--check`, a new revision,
TSDoc rendered as plain prose."""

from __future__ import annotations

import ast
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from mcpbind import wire
from mcpbind.codegen.fetch import FetchError, fetch
from mcpbind.codegen.pins import SCHEMA_DIR, generated_pins, load_pins
from mcpbind.codegen.source import SchemaError, apply_errata
from mcpbind.codegen.tsdoc import TSDoc

from ..revision_support import codegen

ROOT = Path(__file__).resolve().parents[2]
LATEST = generated_pins()[-1]


def test_every_revision_is_pinned_and_draft_is_an_alias() -> None:
    pins = {p.name: p for p in load_pins()}
    assert {"2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28", "draft"} <= set(pins)
    assert pins["draft"].alias_of == "2026-07-28"
    assert pins["draft"].sha256 == pins["2026-07-28"].sha256
    for pin in pins.values():
        assert len(pin.commit) == 40 and len(pin.sha256) == 64
        assert pin.url.startswith(
            "https://raw.githubusercontent.com/modelcontextprotocol/modelcontextprotocol/"
        )


def _mirror(tmp_path: Path) -> Path:
    mirror = tmp_path / "mirror"
    for pin in load_pins():
        if pin.alias_of is None:
            target = mirror / pin.name / "schema.json"
            target.parent.mkdir(parents=True)
            shutil.copy(pin.cache_path(), target)
    shutil.copytree(SCHEMA_DIR / "cache" / "2026-07-28" / "examples", mirror / "2026-07-28" / "examples")
    return mirror


def _schema_dir(tmp_path: Path) -> Path:
    schema_dir = tmp_path / "schema"
    schema_dir.mkdir(exist_ok=True)
    for name in ("pins.toml", "examples.toml"):
        shutil.copy(SCHEMA_DIR / name, schema_dir / name)
    return schema_dir


def test_fetch_from_a_mirror_verifies_and_fills_the_cache(tmp_path: Path) -> None:
    report = fetch(str(_mirror(tmp_path)), _schema_dir(tmp_path))
    assert (report.schemas, report.examples) == (len(load_pins()), 129)
    draft = next(p for p in load_pins() if p.name == "draft")
    target = next(p for p in load_pins() if p.name == (draft.alias_of or "draft"))
    assert draft.cache_path(tmp_path / "schema").read_bytes() == target.cache_path().read_bytes()


def test_a_wrong_hash_is_an_error_naming_the_file(tmp_path: Path) -> None:
    mirror = _mirror(tmp_path)
    path = mirror / "2025-06-18" / "schema.json"
    path.write_bytes(path.read_bytes().replace(b"Implementation", b"Impl", 1))
    with pytest.raises(FetchError, match=r"sha256 mismatch for 2025-06-18/schema\.json"):
        fetch(str(mirror), _schema_dir(tmp_path))
    example = sorted((mirror / "2026-07-28" / "examples" / "Tool").iterdir())[0]
    example.write_bytes(example.read_bytes() + b" ")
    (mirror / "2025-06-18" / "schema.json").write_bytes(
        (SCHEMA_DIR / "cache/2025-06-18/schema.json").read_bytes()
    )
    with pytest.raises(FetchError, match=r"2026-07-28/examples/Tool/"):
        fetch(str(mirror), _schema_dir(tmp_path))


def test_the_cli_reports_a_missing_mirror_clearly(tmp_path: Path) -> None:
    done = codegen("--schema-dir", _schema_dir(tmp_path), "fetch", "--from", tmp_path / "nowhere")
    assert done.returncode == 2
    assert "cannot read" in done.stderr and "2024-11-05/schema.json" in done.stderr


def test_an_erratum_asserts_the_upstream_value() -> None:
    schema = {"$defs": {"RequestId": {"type": ["string", "number"]}}}
    erratum = {
        "pointer": "/$defs/RequestId/type",
        "upstream": ["string", "integer"],
        "corrected": ["string", "number"],
        "reference": "test",
    }
    with pytest.raises(SchemaError, match="upstream may have fixed it"):
        apply_errata(schema, [erratum], "test")
    schema["$defs"]["RequestId"]["type"] = ["string", "integer"]
    apply_errata(schema, [erratum], "test")
    assert schema["$defs"]["RequestId"]["type"] == ["string", "number"]


def test_generate_check_is_clean() -> None:
    done = codegen("generate", "--check")
    assert done.returncode == 0, done.stdout + done.stderr


def test_generate_check_shows_the_diff_of_a_stale_file(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    shutil.copytree(ROOT / "generated", out, ignore=shutil.ignore_patterns("__pycache__"))
    stale = out / "_v2025_06_18_more.py"  # (where the revision's `Tool` is written)
    stale.write_text(stale.read_text().replace("class Tool(", "class Tool2(", 1))
    done = codegen("generate", "--check", "--out", out)
    assert done.returncode == 1
    assert "-    class Tool2(" in done.stdout and "+    class Tool(" in done.stdout
    assert codegen("generate", "--out", out).returncode == 0
    assert stale.read_text() == (ROOT / "generated" / "_v2025_06_18_more.py").read_text()


def test_generated_modules_start_with_the_schema_hash() -> None:
    for pin in generated_pins():
        head = (ROOT / "generated" / f"{pin.module}.py").read_text().splitlines()[:4]
        assert any(pin.sha256 in line for line in head)
        assert any("errata and overrides sha256" in line for line in head)


def test_importing_one_revision_imports_no_other() -> None:
    code = (
        "import sys, mcpbind.generated.v2025_06_18 as m; "
        "print(sorted(k for k in sys.modules if k.startswith('mcpbind.generated.v')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['mcpbind.generated.v2025_06_18']"


def _docstrings(path: Path) -> list[str]:
    """Every docstring of a module: of the module, classes, functions and attributes (bare strings)."""
    return [
        node.value.value
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    ]


def test_generated_docstrings_carry_no_tsdoc() -> None:
    checked = 0
    for path in sorted((ROOT / "generated").glob("*.py")):
        for doc in _docstrings(path):
            checked += 1
            assert "{@" not in doc and "@link" not in doc, f"{path.name}: {doc!r}"
            tags = [line for line in doc.splitlines() if line.lstrip().startswith("@")]
            assert not tags, f"{path.name}: {doc!r}"
    assert checked > 1000


def test_links_mangled_by_the_schema_rendering_read_as_names() -> None:
    from mcpbind.generated import v2026_07_28 as latest

    def doc(obj: object) -> str:
        return " ".join((obj.__doc__ or "").split())

    assert doc(latest.CallToolResult).startswith(
        "The result returned by the server for a CallToolRequest (`tools/call`) request."
    )
    assert "naming rules from `MetaObject`" in doc(latest.ResultMetaObject)
    assert doc(latest.ResultMetaObject).startswith("Extends MetaObject with")
    names = ("v2026_07_28.py", "_v2026_07_28_more.py")
    text = "".join((ROOT / "generated" / name).read_text() for name in names)
    assert "Keys MUST follow the `_meta` key naming rules, with a" in text
    assert "provided but ClientCapabilities.sampling.tools is not declared" in text


def test_every_tsdoc_form_renders_readably() -> None:
    tsdoc = TSDoc({"CallToolRequest": "tools/call", "Tool": None, "ToolUseContent": None, "MetaObject": None})
    cases = {
        # as the schema's JSON rendering mangles them: the pipe and its spaces dropped
        "a {@link CallToolRequesttools/call} request": "a CallToolRequest (`tools/call`) request",
        "see {@link MetaObject`_meta` key naming rules}.": "see `_meta` key naming rules.",
        "{@link ToolUseContent} and {@link Tool}": "ToolUseContent and Tool",
        "{@link Tool.outputSchema}": "Tool.outputSchema",
        # as TSDoc writes them
        "a {@link CallToolRequest | tools/call} request": "a CallToolRequest (`tools/call`) request",
        "a {@link CallToolRequest | `tools/call`} request": "a CallToolRequest (`tools/call`) request",
        "the {@link Tool | tool's} name": "the tool's name",
        "{@linkcode Unknown}, {@linkplain Unknown the other}": "Unknown, the other",
        "{@inheritDoc Tool}": "Tool",
        "Old.\n@deprecated Use {@link Tool} instead.": "Old.\nDeprecated: Use Tool instead.",
        "Text.\n@see {@link Tool}": "Text.\nSee: Tool",
        "Text.\n@internal\n@category Tools\nMore.": "Text.\nMore.",
        "mail me@example.org": "mail me@example.org",
    }
    for raw, readable in cases.items():
        assert tsdoc.render(raw) == readable, raw


def test_tsdoc_leaves_schema_data_alone() -> None:
    schema = {
        "description": "{@link Tool}",
        "properties": {"x": {"description": "{@link Tool}", "default": {"description": "{@link Tool}"}}},
        "const": "{@link Tool}",
    }
    TSDoc({"Tool": None}).rewrite(schema)
    assert schema == {
        "description": "Tool",
        "properties": {"x": {"description": "Tool", "default": {"description": "{@link Tool}"}}},
        "const": "{@link Tool}",
    }


def test_each_module_states_its_revision_facts_as_constants() -> None:
    """What the runtime would otherwise probe for with hasattr, each module states as a typed constant."""
    import importlib

    from mcpbind.generated import REVISIONS

    facts = {}
    for revision, name in REVISIONS.items():
        mod = importlib.import_module(name)
        assert mod.BATCHES is hasattr(mod, "JSONRPCBatchRequest")
        assert mod.URL_ELICITATION is hasattr(mod, "ElicitRequestURLParams")
        keys = {k: v for k, v in vars(mod).items() if k.startswith("META_")}
        assert all(v.startswith("io.modelcontextprotocol/") for v in keys.values())
        facts[revision] = (mod.STATELESS, mod.BATCHES, mod.URL_ELICITATION, sorted(keys))
    stateful = ["META_CLIENT_CAPABILITIES", "META_CLIENT_INFO", "META_LOG_LEVEL"]
    envelope = [*stateful, "META_PROTOCOL_VERSION", "META_SERVER_INFO", "META_SUBSCRIPTION_ID"]
    published = {
        "2024-11-05": (False, False, False, []),
        "2025-03-26": (False, True, False, []),
        "2025-06-18": (False, False, False, []),
        "2025-11-25": (False, False, True, []),
        "2026-07-28": (True, False, True, envelope),
    }
    for revision, fact in facts.items():
        if revision in published:
            assert fact == published[revision], revision
        else:  # a later revision, or the draft: its `_meta` keys follow its era
            assert fact[3] == (envelope if fact[0] else []), revision
    from mcpbind.generated import latest

    members = dict(latest.RequestMetaObject._members_)  # the keys the request `_meta` type declares
    assert latest.META_PROTOCOL_VERSION == members["protocol_version"]
    assert latest.META_CLIENT_CAPABILITIES == members["client_capabilities"]


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_a_new_revision_is_data_not_code(tmp_path: Path) -> None:
    """Copy the latest schema as `2026-12-15`, add a request and a field: `add-revision` and `generate`."""
    schema = json.loads(LATEST.cache_path().read_bytes())
    defs = schema["$defs"]
    defs["EchoRequestParams"] = {
        "description": "Parameters of an `echo/run` request.",
        "properties": {"_meta": {"$ref": "#/$defs/RequestMetaObject"}, "text": {"type": "string"}},
        "required": ["_meta", "text"],
        "type": "object",
    }
    defs["EchoRequest"] = {
        "description": "Asks the server to say `text` back.",
        "properties": {
            "id": {"$ref": "#/$defs/RequestId"},
            "jsonrpc": {"const": "2.0", "type": "string"},
            "method": {"const": "echo/run", "type": "string"},
            "params": {"$ref": "#/$defs/EchoRequestParams"},
        },
        "required": ["id", "jsonrpc", "method", "params"],
        "type": "object",
    }
    defs["EchoResult"] = {
        "properties": {"echoed": {"type": "string"}, "resultType": {"type": "string"}},
        "required": ["echoed", "resultType"],
        "type": "object",
    }
    defs["ClientRequest"]["anyOf"].append({"$ref": "#/$defs/EchoRequest"})
    defs["Tool"]["properties"]["category"] = {"description": "Where a tool is filed.", "type": "string"}
    raw = json.dumps(schema, indent=2).encode()

    # One command pins it and scaffolds its overrides and errata (the new method's result type comes from
    # the schema, here by its name); nothing is copied by hand.
    mirror = tmp_path / "mirror"
    (mirror / "2026-12-15").mkdir(parents=True)
    (mirror / "2026-12-15" / "schema.json").write_bytes(raw)
    schema_dir = tmp_path / "schema"
    shutil.copytree(SCHEMA_DIR, schema_dir, ignore=shutil.ignore_patterns("examples"))
    added = codegen(
        "--schema-dir", schema_dir, "add-revision", "2026-12-15", "--from", mirror, "--commit", "0" * 40
    )
    assert added.returncode == 0, added.stderr
    assert "results 'echo/run' = ['EchoResult'] is by name only" in added.stdout
    out = tmp_path / "out"
    done = codegen("--schema-dir", schema_dir, "generate", "--out", out)
    assert done.returncode == 0, done.stderr
    mod = _load(out / "v2026_12_15.py", "mcpbind_test_next_revision")

    assert mod.PROTOCOL_VERSION == "2026-12-15"
    echo = mod.REQUESTS["echo/run"]
    assert echo.result_type is mod.EchoResult and echo.params_type is mod.EchoRequestParams
    assert echo.directions == ("client_to_server",)
    assert callable(mod.ClientStub.echo) and callable(mod.ServerHandler.echo)
    request = wire.decode(
        b'{"jsonrpc":"2.0","id":7,"method":"echo/run","params":{"_meta":{'
        b'"io.modelcontextprotocol/protocolVersion":"2026-12-15",'
        b'"io.modelcontextprotocol/clientCapabilities":{}},"text":"hi"}}',
        mod.EchoRequest,
    )
    assert request.params.text == "hi" and request.params.meta.protocol_version == "2026-12-15"
    tool = wire.decode(b'{"name":"t","inputSchema":{"type":"object"},"category":"fun"}', mod.Tool)
    assert tool.category == "fun"
    assert json.loads(wire.encode(tool))["category"] == "fun"
