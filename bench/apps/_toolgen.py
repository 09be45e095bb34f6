"""Standard-library-only tools of the benchmark, imported by every server app: ``echo``, ``big`` (1 MB of
text), ``blob`` (``size`` bytes of text, for the payload curve) and the generated many-tools catalogue.

Tool ``i`` is an async function with 3 to 5 typed parameters (str, int, bool, list[str] | None,
Literal[...]) and a docstring, built with ``exec`` so each framework derives its input schema from the
same signatures.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal

MEGABYTE = "0123456789abcdef" * 65536


async def echo(text: str) -> str:
    """Say `text` back."""
    return text


async def big() -> str:
    """1 MB of text."""
    return MEGABYTE


@lru_cache(maxsize=16)
def blob_text(size: int) -> str:
    """``size`` bytes of text (hex digits: nothing to escape), made once per size."""
    return ("0123456789abcdef" * (size // 16 + 1))[:size]


async def blob(size: int) -> str:
    """`size` bytes of text."""
    return blob_text(size)


_VERBS = ("search", "create", "update", "delete", "list", "get", "archive", "export", "import", "sync")
_NOUNS = ("issue", "document", "invoice", "contact", "event")
_PARAMS = (
    "query: str",
    "limit: int = 10",
    "include_archived: bool = False",
    "tags: list[str] | None = None",
    "order: Literal['asc', 'desc'] = 'asc'",
)


def make_tools(n: int) -> list[tuple[str, Any]]:
    """``n`` (name, async function) pairs."""
    out = []
    for i in range(n):
        name = f"{_VERBS[i % len(_VERBS)]}_{_NOUNS[i // len(_VERBS) % len(_NOUNS)]}_{i}"
        params = ", ".join(_PARAMS[: 3 + i % 3])
        doc = f"{name.replace('_', ' ').capitalize()}: look the records up and report what matched, tool {i}."
        src = f"async def {name}({params}) -> str:\n    {doc!r}\n    return query\n"
        ns: dict[str, Any] = {"Literal": Literal}
        exec(src, ns)
        out.append((name, ns[name]))
    return out


ISSUER = "https://issuer.bench.example"
"""The issuer of the benchmark's access tokens (`--measures auth`): checked, never asked anything."""
