"""HTTP headers mirrored from the body on the stateless wire (2026-07-28): values and `x-mcp-header`.

`Mcp-Name` and `Mcp-Param-{Name}` carry plain printable ASCII as is, and anything else (non-ASCII,
control characters, surrounding spaces, or text that looks like the sentinel itself) as the Base64
sentinel `=?base64?...?=`. A tool marks arguments to mirror with `x-mcp-header` in its input schema;
`param_headers` finds them (and refuses a schema whose annotations break the rules).
"""

from __future__ import annotations

import base64
import re
from typing import Any, Final

import msgspec

from .revisions import META_VERSION

__all__ = [
    "encode_value",
    "decode_value",
    "param_headers",
    "render",
    "InvalidHeaderAnnotation",
    "Peek",
    "peek",
    "routed_params",
    "BASE64_OPEN",
]

_TOKEN: Final = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_MAX_SAFE: Final = 2**53 - 1
_SENTINEL: Final = ("=?base64?", "?=")
BASE64_OPEN: Final = _SENTINEL[0]
"""How a header value in Base64 begins: a value that does not is its own text (`decode_value`)."""


class InvalidHeaderAnnotation(ValueError):
    """A tool's `x-mcp-header` annotations break the rules: clients leave such a tool out."""


def encode_value(value: str) -> str:
    # Printable ASCII is exactly 0x20-0x7E: checked by two scans in C, not a generator in Python.
    plain = value.isascii() and value.isprintable() and value == value.strip()
    if plain and not (value.startswith(_SENTINEL[0]) and value.endswith(_SENTINEL[1])):
        return value
    return _SENTINEL[0] + base64.b64encode(value.encode()).decode() + _SENTINEL[1]


def decode_value(value: str) -> str | None:
    """A header's value as sent in the body; None if it claims Base64 and is not."""
    if value.startswith(_SENTINEL[0]) and value.endswith(_SENTINEL[1]):
        try:
            return base64.b64decode(value[len(_SENTINEL[0]) : -len(_SENTINEL[1])], validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return None
    return value


def render(value: Any) -> str | None:
    """An argument as its header text (string as is, integer in decimal, boolean in lower case)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and abs(value) <= _MAX_SAFE:
        return str(value)
    if isinstance(value, str):
        return value
    return None


def param_headers(input_schema: Any) -> dict[str, tuple[str, ...]]:
    """`Mcp-Param-{Name}` name -> the property path it mirrors, for every `x-mcp-header` annotation."""
    found: dict[str, tuple[str, ...]] = {}

    def walk(node: Any, path: tuple[str, ...], reachable: bool) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, path, False)
            return
        if not isinstance(node, dict):
            return
        name = node.get("x-mcp-header")
        if name is not None and path:
            if not reachable:
                raise InvalidHeaderAnnotation(
                    f"x-mcp-header on {'.'.join(path)} is not reachable by properties"
                )
            if not isinstance(name, str) or not _TOKEN.match(name):
                raise InvalidHeaderAnnotation(f"x-mcp-header {name!r} is not an HTTP token")
            if node.get("type") not in ("string", "integer", "boolean"):
                raise InvalidHeaderAnnotation(
                    f"x-mcp-header on {'.'.join(path)}: only string, integer, boolean"
                )
            if name.lower() in {n.lower() for n in found}:
                raise InvalidHeaderAnnotation(f"x-mcp-header {name!r} is used twice")
            found[name] = path
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                for prop, sub in value.items():
                    walk(sub, (*path, prop), reachable)
            elif key != "x-mcp-header":
                walk(value, (*path, f"<{key}>"), False)

    walk(input_schema, (), True)
    return found


def value_at(arguments: Any, path: tuple[str, ...]) -> Any:
    node = arguments
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


class PeekMeta(msgspec.Struct, frozen=True):
    version: Any = msgspec.field(default=None, name=META_VERSION)


class PeekParams(msgspec.Struct):
    name: Any = None
    uri: Any = None
    arguments: msgspec.Raw = msgspec.Raw()
    """Left raw: decoded only for tools that mirror arguments into headers."""
    request_id: Any = msgspec.field(default=None, name="requestId")
    task_id: Any = msgspec.field(default=None, name="taskId")
    meta: PeekMeta | None = msgspec.field(default=None, name="_meta")


class _Peeked(msgspec.Struct):
    """A message's routing members as read off the wire: a Struct of their own, so that nothing a
    client sends can reach what the classifier notes beside them (`Peek`'s other members)."""

    method: str | None = None
    id: Any = None
    params: PeekParams | None = None


class Peek(msgspec.Struct):
    """What HTTP routing needs of a message (`method`, `id`, `params`), read without decoding the rest
    of it, and what the classifier notes of it (`typed`, `lean`, `tool`). Never decoded from the wire:
    `peek` reads a message's members into `_Peeked`, where members named as these notes are unknown
    members, as any other."""

    method: str | None = None
    id: Any = None
    params: PeekParams | None = None
    typed: Any = None
    """The params already decoded into the method's type, when the whole message was (HTTP's
    stateless route): `params` then holds only what routing reads, and `arguments` comes from here."""
    lean: bool = False
    """`typed` was decoded for a tool answered directly (`Server.answers_directly`): its open-object
    members (`_meta`) were validated as usual but hold only their declared members. Nothing else may
    take these params: if the tool is not answered directly after all, the body is read again."""
    tool: Any = None
    """With `lean`: the registration of the tool the `Mcp-Name` header names, looked up once for the
    request (its name is the body's once the classifier has checked the header against it)."""

    def arguments(self) -> Any:
        if self.typed is not None:
            arguments = getattr(self.typed, "arguments", None)
            return None if arguments is msgspec.UNSET else arguments
        raw = self.params.arguments if self.params is not None else None
        return msgspec.json.decode(raw) if raw else None


_peeked: Final = msgspec.json.Decoder(_Peeked | list[Any]).decode


def peek(body: bytes) -> Peek | list[Any]:
    """A message (or a batch, as a list) peeked at; raises msgspec.DecodeError for what is not JSON.
    (Not the usual request's way: the classifier reads that one's envelope and params on their own.)"""
    found = _peeked(body)
    return found if isinstance(found, list) else Peek(found.method, found.id, found.params)


def routed_params(params: Any) -> PeekParams | None:
    """What routing reads of a request's params (`Peek.params`), taken from its params decoded in full
    (every session revision's params types declare `_meta` as an object: what they take, a peek takes)."""
    if params is None:
        return None
    name = getattr(params, "name", None)
    uri = getattr(params, "uri", None)
    return PeekParams(name=None if name is msgspec.UNSET else name, uri=None if uri is msgspec.UNSET else uri)
