"""The codec reads every message as it did before its fast paths: the same values, the same errors.

Speed-ups of the decoder (`mcpbind.shapes`, the `_from_wire` the generator writes out) must not change
what is accepted, what a value decodes to, or the words of an error. This test holds them to a record
of outcomes (`codec_golden.json`) written by the decoder before such changes: the benchmark's four
messages (`bench/codec.py`) and systematic variants of each, made by one rule per path of the message:
each member removed, each value replaced by a value of every JSON kind, an undeclared member added to
each object. Each case is read twice, from bytes by `wire.decoder` (a peer's message) and by
`wire.convert` (one built to send); the outcome is the decoded type and a digest of its re-encoding,
or the error's class and message.

After a change that is meant to change outcomes, rewrite the record and review its diff:

    python -m tests.generated.test_codec_golden --write
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from mcpbind import wire
from mcpbind.generated import v2026_07_28 as v2026

GOLDEN = Path(__file__).with_name("codec_golden.json")
BENCH_CODEC = Path(__file__).resolve().parents[2] / "bench" / "codec.py"

KINDS: tuple[Any, ...] = (None, True, 7, 2.5, "x", [], {}, [1], {"x": 1})
"""What every value is replaced by in turn: one of each JSON kind (and a non-empty array and object)."""


def bench_payloads() -> dict[str, bytes]:
    """The benchmark's messages, built by bench/codec.py itself (a script, not a package)."""
    spec = importlib.util.spec_from_file_location("_bench_codec", BENCH_CODEC)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench  # its dataclasses look their module up while being defined
    try:
        spec.loader.exec_module(bench)
        payloads: dict[str, bytes] = bench.build_payloads()
    finally:
        del sys.modules[spec.name]
    return payloads


TYPES: dict[str, Any] = {
    "call_tool_request": v2026.CallToolRequest,
    "call_tool_result": v2026.CallToolResult,
    "list_tools_result": v2026.ListToolsResult,
    "input_required_result": v2026.InputRequiredResult,
}


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path into `value`; of an array only its first item (the others are alike)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*path, key)
            yield from _paths(item, (*path, key))
    elif isinstance(value, list) and value:
        yield (*path, 0)
        yield from _paths(value[0], (*path, 0))


def _at(doc: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        doc = doc[step]
    return doc


def variants(doc: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(name, message) for the message itself and each one-change variant of it."""
    yield "as sent", doc
    objects: list[tuple[Any, ...]] = [()]
    for path in _paths(doc):
        name = "/".join(map(str, path))
        parent, last = path[:-1], path[-1]
        if isinstance(last, str):
            changed = copy.deepcopy(doc)
            del _at(changed, parent)[last]
            yield f"{name}: removed", changed
        for kind in KINDS:
            if _at(doc, path) == kind and type(_at(doc, path)) is type(kind):
                continue
            changed = copy.deepcopy(doc)
            _at(changed, parent)[last] = copy.deepcopy(kind)
            yield f"{name}: {json.dumps(kind)}", changed
        if isinstance(_at(doc, path), dict):
            objects.append(path)
    for path in objects:
        changed = copy.deepcopy(doc)
        _at(changed, path)["x-undeclared"] = {"kept": [1, "two"]}
        yield f"{'/'.join(map(str, path)) or '$'}: undeclared member", changed


def outcome(read: Any) -> list[Any]:
    """What reading gives: the type and a digest of the canonical re-encoding, or the error."""
    try:
        value = read()
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        return ["error", type(exc).__name__, str(exc)]
    again = json.dumps(json.loads(wire.encode(value)), sort_keys=True, separators=(",", ":"))
    return ["ok", type(value).__name__, hashlib.sha256(again.encode()).hexdigest()[:16]]


def cases() -> Iterator[tuple[str, Any, bytes, Any]]:
    for message, data in bench_payloads().items():
        tp = TYPES[message]
        for name, doc in variants(json.loads(data)):
            yield f"{message} | {name}", tp, json.dumps(doc, separators=(",", ":")).encode(), doc


def record() -> dict[str, dict[str, list[Any]]]:
    out: dict[str, dict[str, list[Any]]] = {}
    for case, tp, data, doc in cases():
        out[case] = {
            "decode": outcome(lambda: wire.decoder(tp).decode(data)),  # noqa: B023 (called at once)
            "convert": outcome(lambda: wire.convert(doc, tp)),  # noqa: B023
        }
    return out


def test_every_case_reads_as_recorded() -> None:
    expected = json.loads(GOLDEN.read_text())
    actual = record()
    assert sorted(actual) == sorted(expected), "the cases changed: rewrite the record (see the docstring)"
    differ = {case: (expected[case], actual[case]) for case in expected if expected[case] != actual[case]}
    assert not differ, "\n".join(f"{case}:\n  was {old}\n  now {new}" for case, (old, new) in differ.items())


def test_the_record_covers_accepted_and_refused_messages_of_each_kind() -> None:
    # A record of only errors (or of only successes) would hold the decoder to little.
    expected = json.loads(GOLDEN.read_text())
    for message in TYPES:
        mine = [v for case, v in expected.items() if case.startswith(f"{message} |")]
        assert {o["decode"][0] for o in mine} == {"ok", "error"}, message
        assert {o["convert"][0] for o in mine} == {"ok", "error"}, message


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit(__doc__)
    lines = [
        f"{json.dumps(case)}: {json.dumps(v, separators=(',', ':'))}" for case, v in sorted(record().items())
    ]
    GOLDEN.write_text("{\n" + ",\n".join(lines) + "\n}\n")  # one case a line: a readable diff
    print(f"{GOLDEN}: {len(json.loads(GOLDEN.read_text()))} cases")
