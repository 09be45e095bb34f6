"""Every official 2026-07-28 example decodes into the type its folder names and re-encodes unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from mcpbind import wire

from ..conftest import examples, module, same_json

EXAMPLES = examples()


def test_all_examples_are_present() -> None:
    assert len(EXAMPLES) == 129


@pytest.mark.parametrize(("type_name", "path"), EXAMPLES, ids=[f"{t}/{p.name}" for t, p in EXAMPLES])
def test_example_round_trips(type_name: str, path: Path) -> None:
    mod = module("2026-07-28")
    tp = getattr(mod, type_name)
    raw = path.read_bytes()
    value = wire.decode(raw, tp)
    again = json.loads(wire.encode(value))
    assert same_json(again, json.loads(raw)), f"{type_name}: {again!r}"
    # Decoding what we encoded gives an equal value: nothing is lost in either direction.
    assert wire.decode(wire.encode(value), tp) == value


def test_a_wrong_example_names_the_path() -> None:
    mod = module("2026-07-28")
    bad = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": 3, "_meta": {}}}
    with pytest.raises(msgspec.ValidationError, match=r"\$\.params\.name"):
        wire.decode(json.dumps(bad), mod.CallToolRequest)
