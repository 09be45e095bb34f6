"""`mcpbind stubs` output, from saved schemas that use every JSON Schema form the generator covers: the
module is deterministic, formatted, mypy --strict clean; its Structs take every valid sample back
exactly and refuse invalid ones with the JSON path."""

from __future__ import annotations

import copy
import importlib.util
import json
import random
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import msgspec
import pytest

from mcpbind.stubgen.render import Surface, format_source, render

from .samples import round_trips

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

from typecheck import run_mypy  # noqa: E402

COVERAGE = Path(__file__).with_name("coverage.json")


def surface() -> Surface:
    data = json.loads(COVERAGE.read_text())
    return Surface("coverage", "1.0.0", data["tools"], [], data["resourceTemplates"], data["prompts"])


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ModuleType]:
    text, _ = render(surface())
    text, formatted = format_source(text)
    assert formatted
    path = tmp_path_factory.mktemp("stubs") / "coverage_stubs.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("coverage_stubs", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["coverage_stubs"] = module
    spec.loader.exec_module(module)
    return path, module


def test_output_is_deterministic_whatever_the_order() -> None:
    first = render(surface())[0]
    shuffled = surface()
    random.Random(7).shuffle(shuffled.tools)
    for tool in shuffled.tools:  # key order inside a schema does not matter either
        tool["inputSchema"] = dict(reversed(list(copy.deepcopy(tool["inputSchema"]).items())))
    assert render(shuffled)[0] == first
    assert "# schemas-sha256: " in first.splitlines()[1]


def test_the_module_is_formatted_and_lint_clean(generated: tuple[Path, ModuleType]) -> None:
    path, _ = generated
    for command in (["format", "--check", "--isolated", "--line-length", "100"], ["check", "--isolated"]):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *command, str(path)], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_the_module_and_its_typed_use_pass_mypy_strict(generated: tuple[Path, ModuleType]) -> None:
    path, _ = generated
    use = path.with_name("use_coverage.py")
    use.write_text(
        "from coverage_stubs import Coverage, Node, ShapesInputShapeCircle, TreeOutput\n"
        "from mcpbind.client import Client\n\n\n"
        "async def ok(client: Client) -> int:\n"
        "    stubs = Coverage(client)\n"
        "    out: TreeOutput = await stubs.tree(root=Node(label='a', children=[Node(label='b')]))\n"
        "    await stubs.shapes(shape=ShapesInputShapeCircle(radius=2), color='red', scale=0.5)\n"
        "    await stubs.maps(counts={'a': 1}, point=(1.0, 2), max_results=3)\n"
        "    await stubs.prompt_review(code='x')\n"
        "    await stubs.read_file(path='a/b')\n"
        "    return out.count\n\n\n"
        "async def bad(client: Client) -> None:\n"
        "    stubs = Coverage(client)\n"
        "    await stubs.tree(root='a')  # E: arg-type\n"
        "    await stubs.shapes(shape=ShapesInputShapeCircle(radius=2), color='pink')  # E: arg-type\n"
        "    await stubs.maps(counts={'a': 'b'})  # E: dict-item\n"
        "    await stubs.nothing(x=1)  # E: call-arg\n"
        "    label: int = (await stubs.tree(root=Node(label='a'))).labels  # E: assignment\n"
    )
    done = run_mypy([str(path), str(use)], cwd=path.parent)
    found = {
        (int(line.split(":")[1]), line.rsplit("[", 1)[-1].rstrip("]"))
        for line in done.stdout.splitlines()
        if ": error:" in line
    }
    expected = {
        (n, line.rsplit("# E: ", 1)[1])
        for n, line in enumerate(use.read_text().splitlines(), 1)
        if "# E: " in line
    }
    assert found == expected, done.stdout


VALID: dict[str, list[Any]] = {
    "media": [
        {
            "items": [
                {"type": "audio", "data": "a"},
                {"type": "link", "uri": "u"},
                {"type": "image", "data": ""},
            ]
        }
    ],
    "tree": [
        {"root": {"label": "a"}},
        {"root": {"label": "a", "children": [{"label": "b", "children": [{"label": "c"}]}]}, "depth": 0},
    ],
    "shapes": [
        {"shape": {"kind": "circle", "radius": 1.5}},
        {"shape": {"kind": "square", "side": 2}, "size": 12, "color": "blue", "unit": "cm", "note": None},
        {"shape": {"kind": "square", "side": 2}, "size": "12px", "legacy": "x", "scale": 2.5},
    ],
    "maps": [
        {"counts": {}},
        {
            "counts": {"a": 1},
            "when": "2026-01-01T00:00:00Z",
            "id": "0b4c3f0e-2c2f-4a55-8b43-0d2b7c3a1e11",
            "point": [1, 2.5],
            "tags": ["x", "y"],
            "both": {"a": "s", "b": True},
            "max-results": 3,
            "class": "c",
            "free": {"anything": [1, None]},
        },
    ],
}

INVALID: list[tuple[str, Any, str]] = [
    ("media", {"items": [{"type": "video", "data": "a"}]}, "$.items[0].type"),
    ("media", {"items": [{"type": "image", "data": "a", "uri": "u"}]}, "$.items[0]"),
    ("tree", {"root": {"label": ""}}, "$.root.label"),
    ("tree", {"root": {"label": "a", "children": [{"label": 3}]}}, "$.root.children[0].label"),
    ("tree", {"root": {"label": "a", "extra": 1}}, "$.root"),
    ("tree", {"root": {"label": "a"}, "depth": 11}, "$.depth"),
    ("shapes", {"shape": {"kind": "triangle"}}, "$.shape.kind"),
    ("shapes", {"shape": {"kind": "circle", "radius": 0}}, "$.shape.radius"),
    ("shapes", {"shape": {"kind": "circle", "radius": 1}, "size": "12em"}, "$.size"),
    ("shapes", {"shape": {"kind": "circle", "radius": 1}, "color": "pink"}, "$.color"),
    ("shapes", {"shape": {"kind": "circle", "radius": 1}, "unit": "in"}, "$.unit"),
    ("shapes", {"shape": {"kind": "circle", "radius": 1}, "scale": 0.3}, "$.scale"),
    ("maps", {"counts": {"a": "b"}}, "$.counts[...]"),
    ("maps", {"counts": {}, "tags": []}, "$.tags"),
    ("maps", {"counts": {}, "point": [1, 2, 3]}, "$.point"),
    ("maps", {"counts": {}, "both": {"b": True}}, "$.both"),
    ("maps", {"counts": {}, "surprise": 1}, "$"),
]


def schema_of(name: str) -> Any:
    return next(t for t in surface().tools if t["name"] == name)["inputSchema"]


def input_type(module: ModuleType, name: str) -> Any:
    return getattr(module, f"{name.capitalize()}Input")


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_samples_round_trip_exactly(generated: tuple[Path, ModuleType], name: str) -> None:
    schema = schema_of(name)
    for sample in VALID[name]:
        jsonschema.Draft202012Validator(schema).validate(sample)  # the samples are valid, by the schema
        assert round_trips(sample, input_type(generated[1], name), schema), sample


@pytest.mark.parametrize(("name", "sample", "path"), INVALID)
def test_invalid_samples_are_refused_at_their_path(
    generated: tuple[Path, ModuleType], name: str, sample: Any, path: str
) -> None:
    assert not jsonschema.Draft202012Validator(schema_of(name)).is_valid(sample)  # invalid, by the schema
    with pytest.raises(msgspec.ValidationError) as caught:
        msgspec.convert(sample, input_type(generated[1], name))
    assert str(caught.value).endswith(f"`{path}`") or path == "$", str(caught.value)
