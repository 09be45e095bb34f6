"""A small TOML writer for the files the generator scaffolds (pins, overrides, errata): plain data in,
deterministic text out, with a comment allowed after any key so that every value says where it came from."""

from __future__ import annotations

import json
import re
from typing import Any

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def key(name: str) -> str:
    """A TOML key: bare where TOML allows it, else a basic string."""
    return name if _BARE_KEY.match(name) else json.dumps(name)


def value(data: Any) -> str:
    """A TOML value for str, int, float, bool, lists and (inline) tables of those."""
    if isinstance(data, bool):
        return "true" if data else "false"
    if isinstance(data, int | float):
        return repr(data)
    if isinstance(data, str):
        # JSON string escapes are valid TOML basic-string escapes for everything json.dumps emits.
        return json.dumps(data, ensure_ascii=False)
    if isinstance(data, list):
        return "[" + ", ".join(value(v) for v in data) + "]"
    if isinstance(data, dict):
        if not data:
            return "{}"
        return "{ " + ", ".join(f"{key(k)} = {value(v)}" for k, v in data.items()) + " }"
    raise TypeError(f"no TOML form for {type(data).__name__}")


def assignment(name: str, data: Any, comment: str | None = None) -> str:
    line = f"{key(name)} = {value(data)}"
    return f"{line}  # {comment}" if comment else line


def comment_block(text: str) -> list[str]:
    """`text` as `# ` lines (blank lines kept as `#`)."""
    return [f"# {line}".rstrip() for line in text.splitlines()]
