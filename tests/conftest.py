"""Shared fixtures: the fetched schema cache, and each revision's generated module and corrected schema."""

from __future__ import annotations

import importlib
import json
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from mcpbind.codegen.pins import generated_pins, load_examples
from mcpbind.codegen.source import Source, load_source

REVISIONS = [p.name for p in generated_pins()]


def pytest_sessionstart(session: pytest.Session) -> None:
    missing = [p.name for p in generated_pins() if not p.cache_path().exists()]
    if missing:
        raise pytest.UsageError(
            f"schema cache lacks {missing}: run `python -m mcpbind.codegen fetch --from ../shared/mcp-spec`"
        )


@cache
def source(revision: str) -> Source:
    pin = next(p for p in generated_pins() if p.name == revision)
    return load_source(pin)


def module(revision: str) -> ModuleType:
    pin = next(p for p in generated_pins() if p.name == revision)
    return importlib.import_module(f"mcpbind.generated.{pin.module}")


def examples() -> list[tuple[str, Path]]:
    pin = load_examples()
    return [(name.split("/")[0], pin.cache_dir() / name) for name in sorted(pin.files)]


def same_json(a: Any, b: Any) -> bool:
    """Equality that tells 1 from 1.0 and True from 1: the wire must keep what was sent."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def load_json(path: Path) -> Any:
    return json.loads(path.read_bytes())


#: Filled by test_properties: per revision, the definitions covered and the instances checked.
PROPERTY_COUNTS: dict[str, dict[str, Any]] = {}
#: Filled by test_crosscheck: per revision, definitions compared with datamodel-codegen, and skipped.
CROSSCHECK_COUNTS: dict[str, dict[str, int]] = {}


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for rev, counts in sorted(PROPERTY_COUNTS.items()):
        terminalreporter.write_line(
            f"{rev}: {len(counts['definitions'])} definitions, {counts['valid']} valid instances checked, "
            f"{counts['invalid']} invalid instances rejected"
        )
    for rev, counts in sorted(CROSSCHECK_COUNTS.items()):
        terminalreporter.write_line(
            f"{rev}: datamodel-codegen agrees on {counts['compared']} definitions "
            f"({counts['open']} of them open objects); skipped {counts['alias']} aliases of another "
            f"definition's type, {counts['not a class']} unions/scalars/maps"
        )


@pytest.fixture(scope="session")
def redis_server() -> Any:
    """A real redis-server on a free loopback port for the whole test session (tests/redis_support.py)."""
    from .redis_support import RedisServer

    server = RedisServer()
    server.start()
    yield server
    server.close()
