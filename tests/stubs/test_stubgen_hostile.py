"""`mcpbind stubs` against hostile tool lists: `$ref` cycles, huge and odd enums, names that are Python
keywords, not identifiers or the same after normalisation, control characters, non-finite defaults,
wrong-typed schema members. Each gives a module that compiles and imports, or a clear one-line error
and a non-zero exit: never a traceback."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import msgspec
import pytest

from mcpbind.stubgen.render import Surface, format_source, render


def obj(properties: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, **more}


CYCLE = {"$defs": {"A": {"$ref": "#/$defs/B"}, "B": {"$ref": "#/$defs/A"}}}
TOOLS: dict[str, list[dict[str, Any]]] = {
    "ref_cycle": [{"name": "t", "inputSchema": obj({"a": {"$ref": "#/$defs/A"}}, **CYCLE)}],
    "self_ref_output": [{"name": "t", "inputSchema": obj({}), "outputSchema": {"$ref": "#"}}],
    "ref_not_a_string": [{"name": "t", "inputSchema": obj({"a": {"$ref": 5}})}],
    "huge_enum": [{"name": "t", "inputSchema": obj({"a": {"enum": [f"v{i}" for i in range(5000)]}})}],
    "odd_enum": [
        {"name": "t", "inputSchema": obj({"a": {"enum": [1, "1", None, True, 1.5, {"x": 1}, "\udc00"]}})}
    ],
    "keywords": [
        {
            "name": "class",
            "inputSchema": obj(
                {"class": {}, "def": {}, "self": {"type": "string"}, "given": {}}, required=["self"]
            ),
        }
    ],
    "not_identifiers": [
        {"name": "1 bad-name!", "inputSchema": obj({"1x": {}, "a-b": {}, "": {}, "\x00": {}, '"': {}})}
    ],
    "same_after_normalising": [
        {"name": "a-b", "inputSchema": obj({})},
        {"name": "a_b", "inputSchema": obj({"x-y": {}, "x_y": {}, "X_Y": {}})},
        {"name": "a_b", "inputSchema": obj({})},
    ],
    "control_characters": [
        {
            "name": "t",
            "description": 'nul \x00 """ \\ \udc00',
            "inputSchema": obj({"a": {"description": '"""\x01'}}),
        }
    ],
    "non_finite_default": [
        {"name": "t", "inputSchema": obj({"b": {"type": "number", "default": float("inf")}})}
    ],
    "wrong_typed_members": [
        {"name": "t", "description": 5, "inputSchema": obj({"a": {"type": 5}, "b": {}}, required=[["a"], 5])}
    ],
}
TEMPLATES = [{"name": "r", "uriTemplate": "x://{self}/{a-b}/{a_b}/{given}{?expand}"}]
PROMPTS = [{"name": "p", "arguments": [{"name": "def"}, {"name": "def", "required": True}, {"name": "self"}]}]


def load(text: str, path: Path) -> ModuleType:
    path.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # msgspec resolves the module's annotations through it
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("case", sorted(TOOLS))
def test_a_hostile_schema_gives_a_module_that_imports(case: str, tmp_path: Path) -> None:
    text, widened = render(Surface(case, "1", TOOLS[case], [], TEMPLATES, PROMPTS))
    text, _ = format_source(text)
    module = load(text, tmp_path / f"hostile_{case}.py")
    assert any(isinstance(v, type) and hasattr(v, "_call") for v in vars(module).values())
    if case in ("ref_cycle", "self_ref_output"):
        assert any("cycle of references" in w for w in widened), widened


def test_reserved_and_keyword_names_keep_their_wire_names(tmp_path: Path) -> None:
    text, _ = render(Surface("kw", "1", TOOLS["keywords"], [], TEMPLATES, PROMPTS))
    module = load(format_source(text)[0], tmp_path / "hostile_keywords.py")
    sent = msgspec.json.decode(msgspec.json.encode(module.ClassInput(self_="x", def_=1, class_=2, given_=3)))
    assert sent == {"self": "x", "def": 1, "class": 2, "given": 3}


def test_a_member_msgspec_cannot_name_is_left_out_and_said(tmp_path: Path) -> None:
    text, widened = render(Surface("n", "1", TOOLS["not_identifiers"], [], [], []))
    module = load(format_source(text)[0], tmp_path / "hostile_names.py")
    fields = {f.encode_name for f in msgspec.structs.fields(module.N1BadNameInput)}
    assert fields == {"1x", "a-b", ""}
    assert sum("cannot be a msgspec field name" in w for w in widened) == 2, widened


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"tools": [5]}, "tools[0] is not an object with a string `name`"),
        ({"tools": [{"name": 5}]}, "tools[0] is not an object with a string `name`"),
        ({"tools": [{"name": "t", "inputSchema": 5}]}, "tools[0].inputSchema is not an object"),
        ({"tools": [], "prompts": {"a": 1}}, "`prompts` is not an array"),
        ({"tools": [], "resources": [{"name": "r"}]}, "resources[0] is not an object with a string `uri`"),
        (
            {
                "tools": [
                    {"name": "t", "inputSchema": json.loads('{"properties":{"a":' * 400 + "{}" + "}}" * 400)}
                ]
            },
            "a schema nests too deeply",
        ),
    ],
)
def test_the_cli_refuses_a_malformed_file_clearly(
    body: dict[str, Any], expected: str, tmp_path: Path
) -> None:
    source = tmp_path / "tools.json"
    source.write_text(json.dumps(body))
    out = tmp_path / "out.py"
    done = subprocess.run(
        [sys.executable, "-m", "mcpbind", "stubs", str(source), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0, done
    assert "Traceback" not in done.stderr, done.stderr
    assert expected in done.stderr, done.stderr
    assert not out.exists()
