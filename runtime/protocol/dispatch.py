"""The server's request decision, I/O-free: which feature each method needs, and whether it is offered.

What only schema.ts says in prose, and so no generated method table carries, is data here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

__all__ = ["FEATURES", "SUBSCRIBING", "missing_feature"]

FEATURES: Final[Mapping[str, str]] = {
    "tools": "tools",
    "resources": "resources",
    "prompts": "prompts",
    "completion": "completions",
    "logging": "logging",
}
"""The server capability each method family needs (by the method name's first segment)."""
SUBSCRIBING: Final = frozenset({"resources/subscribe", "resources/unsubscribe"})
"""Methods that need their feature's `subscribe` flag as well."""


def missing_feature(method: str, offered: Mapping[str, Any]) -> str:
    """The feature `method` belongs to when the server does not offer it (`offered`: the server's
    capabilities), else ""."""
    feature = FEATURES.get(method.split("/", 1)[0])
    if feature is None:
        return ""
    if feature not in offered or (method in SUBSCRIBING and not offered[feature].get("subscribe")):
        return feature
    return ""
