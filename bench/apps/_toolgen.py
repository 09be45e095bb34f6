"""Standard-library-only tools of the benchmark, imported by every server app: ``echo``, ``big`` (1 MB of
text), ``blob`` (``size`` bytes of text, for the payload curve) and the generated many-tools catalogue.

Tool ``i`` is an async function with 3 to 5 typed parameters (str, int, bool, list[str] | None,
Literal[...]) and a docstring, built with ``exec`` so each framework derives its input schema from the
same signatures.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from types import SimpleNamespace
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


def options(spec: dict[str, tuple[type, Any]], argv: list[str] | None = None) -> SimpleNamespace:
    """The command line, read by hand as ``floor_stdio.py`` reads its own: argparse costs a server's
    cold start about 19 M instructions (2-3 ms) that the floor does not pay. ``spec`` maps each
    ``--name`` to (type, default); ``bool`` makes it a flag. ``--page-size`` is ``page_size``."""
    argv = sys.argv[1:] if argv is None else argv
    values = {name: default for name, (_, default) in spec.items()}
    i = 0
    while i < len(argv):
        name, _, inline = argv[i].partition("=")
        if name not in spec:
            sys.exit(f"{sys.argv[0]}: unknown option {argv[i]!r}; known: {', '.join(spec)}")
        kind = spec[name][0]
        if kind is bool:
            values[name] = True
        else:
            if not inline:
                i += 1
                if i == len(argv):
                    sys.exit(f"{sys.argv[0]}: {name} needs a value")
                inline = argv[i]
            values[name] = kind(inline)
        i += 1
    return SimpleNamespace(**{name[2:].replace("-", "_"): value for name, value in values.items()})


"""The issuer of the benchmark's access tokens (`--measures auth`): checked, never asked anything."""
