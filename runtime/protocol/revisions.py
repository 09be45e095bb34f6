"""The protocol revisions mcpbind speaks, and their generated modules (imported on first use)."""

from __future__ import annotations

import importlib
from functools import cache
from types import ModuleType
from typing import Final

from ..generated import LATEST, REVISIONS, STATELESS

__all__ = ["ALL", "STATEFUL", "MODERN", "LATEST", "META_VERSION", "module", "is_modern"]

ALL: Final[tuple[str, ...]] = tuple(r for r in REVISIONS if r != "draft")
MODERN: Final[tuple[str, ...]] = tuple(r for r in ALL if r in STATELESS)
STATEFUL: Final[tuple[str, ...]] = tuple(r for r in ALL if r not in MODERN)

META_VERSION: Final = "io.modelcontextprotocol/protocolVersion"
"""The `_meta` key that carries the protocol version in every request of a stateless revision."""


@cache
def module(revision: str) -> ModuleType:
    """The generated module of `revision` ('draft' resolves to its target)."""
    try:
        return importlib.import_module(REVISIONS[revision])
    except KeyError:
        raise ValueError(f"unknown MCP revision {revision!r}; known: {', '.join(ALL)}") from None


def is_modern(revision: str) -> bool:
    return revision in MODERN
