"""A JSON Schema as a msgspec type, made in this process from the source `render` writes for it: what
checks a tool's structured results against an output schema, on either side (the client checking what
a server sends, the server holding a tool to the schema it declared), so that both check alike.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import sys
import types
from typing import Any, Final

import msgspec

__all__ = ["compiled"]

log = logging.getLogger("mcpbind.stubgen")

_FAILED: Final = object()
"""A schema the mapping could not compile (kept, so that it is tried and logged once)."""
_COMPILED: dict[bytes, Any] = {}
"""Each schema compiled in this process, by its canonical JSON's digest: the same schema (the same tool
on another client, or listed again) is compiled once. At most `_KEPT` (the oldest go first: a server
that changes its schemas on every listing costs a compilation per call, not memory)."""
_KEPT: Final = 256
_MODULES = itertools.count(1)


def compiled(owner: str, schema: dict[str, Any]) -> Any:
    """The msgspec type of `schema` (`owner`: what it is the schema of, for the log), or None when the
    mapping cannot read it (logged)."""
    digest = hashlib.sha256(msgspec.json.encode(schema, order="sorted")).digest()
    found = _COMPILED.get(digest)
    if found is not None:
        return None if found is _FAILED else found
    from .render import render_schema  # (on use: most processes check no structured result)

    try:
        source, _widened = render_schema(schema, "Output")
        # A module of its own, in `sys.modules` for a moment: msgspec resolves the Structs' annotations
        # (strings, forward references between them included) through their module's globals, once;
        # after that the types stand alone, and the module goes.
        name = f"{__name__}.schema{next(_MODULES)}"
        module = types.ModuleType(name)
        sys.modules[name] = module
        try:
            exec(compile(source, f"<output schema of {owner}>", "exec"), module.__dict__)
            found = module.ROOT
            msgspec.json.Decoder(found)  # resolves every annotation now: a failure is this schema's
        finally:
            del sys.modules[name]
    except Exception as exc:  # a schema the mapping cannot read
        log.warning("%s: its output schema cannot be compiled, results go unchecked (%s)", owner, exc)
        found = _FAILED
    if len(_COMPILED) >= _KEPT:
        del _COMPILED[next(iter(_COMPILED))]
    _COMPILED[digest] = found
    return None if found is _FAILED else found
