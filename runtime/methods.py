"""Method tables and the one interface typed stubs delegate to.

Each generated revision module describes every method of its revision as a `RequestMethod` or a
`NotificationMethod`: wire name, directions, message, params and result types, and the name of the
handler method. The runtime routes and decodes every method from these tables; typed stubs call
`Sender.send_request` / `Sender.send_notification` with them.

A generated module creates its schema types on first use (`mcpbind.lazy`), so its tables name the
types (`types_from=` the module) and each entry looks them up the first time one is read: a server
that answers `tools/call` never creates the types of the methods it is never asked.
"""

from __future__ import annotations

import sys
from types import FunctionType
from typing import Any, Generic, Literal, Protocol, TypeVar

__all__ = ["Direction", "RequestMethod", "NotificationMethod", "Sender"]

P = TypeVar("P")
R = TypeVar("R")

Direction = Literal["client_to_server", "server_to_client", "input"]
"""Who sends a method: client to server, server to client, or (2026-07-28 on) a server's input request
carried inside an `InputRequiredResult` and answered in the retried request."""

_set = object.__setattr__


def _resolve(module: Any, ref: Any) -> Any:
    """A type field of a generated table's entry: None, a name in `module` or a tuple of names; in a
    copy (`RequestMethod.replace`), also a function making the type from `module`'s, or a type."""
    if type(ref) is str:
        return getattr(module, ref)
    if type(ref) is tuple:
        return tuple(getattr(module, name) if type(name) is str else name for name in ref)
    if type(ref) is FunctionType:
        return ref(module)
    return ref


class _Method:
    """What both kinds of method share: immutable fields compared by value, and type fields that may
    be named rather than given (`types_from=`), looked up on first read. An unread type field is an
    unset slot, so a read after the first is a plain slot read (the hot path pays nothing)."""

    __slots__ = ("_named",)
    _named: tuple[str, dict[str, Any]] | None
    _fields_: tuple[str, ...] = ()
    _types_: tuple[str, ...] = ()
    _given_: tuple[str, ...] = ()
    """The fields that are never named: set at once even in a generated table (whose ~40 entries
    are made by every import of a revision)."""

    def _init(self, values: dict[str, Any], types_from: str | None) -> None:
        for field in self._fields_ if types_from is None else self._given_:
            _set(self, field, values[field])
        _set(self, "_named", None if types_from is None else (types_from, values))

    def __getattr__(self, attr: str) -> Any:
        # Only reached for a slot never set: a type field named by a generated table, looked up
        # alone (a server that reads `params_type` need not create the task-augmented result type).
        named = object.__getattribute__(self, "_named")
        if named is None or attr not in self._types_:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {attr!r}")
        value = _resolve(sys.modules[named[0]], named[1][attr])
        _set(self, attr, value)
        return value

    def __setattr__(self, attr: str, value: Any) -> None:
        raise AttributeError(f"immutable type: {type(self).__name__!r}")

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, field) for field in self._fields_)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, _Method)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{field}={getattr(self, field)!r}" for field in self._fields_)
        return f"{type(self).__name__}({fields})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), dict(zip(self._fields_, self._values(), strict=True))))


def _rebuild(cls: type[Any], values: dict[str, Any]) -> Any:
    return cls(**values)


class RequestMethod(_Method, Generic[P, R]):
    """A request: its params type `P` and the result type `R` it is answered with."""

    _fields_ = (
        "name",
        "directions",
        "message_type",
        "params_type",
        "params_required",
        "result_type",
        "result_types",
        "handler",
        "task_result_type",
    )
    __slots__ = tuple(sorted(_fields_))
    _types_ = ("message_type", "params_type", "result_type", "result_types", "task_result_type")
    _given_ = ("name", "directions", "params_required", "handler")

    name: str
    directions: tuple[Direction, ...]
    message_type: Any
    """The request's own definition (for revisions whose requests are whole JSON-RPC messages)."""
    params_type: Any
    """The params type, or None when the request takes no params."""
    params_required: bool
    result_type: Any
    """The type results decode into: a Struct, or a dispatched union of the possible results."""
    result_types: tuple[Any, ...]
    """Every result type the request may be answered with, in the schema's order."""
    handler: str
    """The Python method name in stubs and handler protocols, e.g. `call_tool`."""
    task_result_type: Any
    """The result when the request is task-augmented (2025-11-25 tasks), else None."""

    def __init__(
        self,
        *,
        name: str,
        directions: tuple[Direction, ...],
        message_type: Any,
        params_type: Any,
        params_required: bool,
        result_type: Any,
        result_types: tuple[Any, ...],
        handler: str,
        task_result_type: Any = None,
        types_from: str | None = None,
    ) -> None:
        """`types_from`: the module whose names the type fields are (a generated table); else types."""
        self._init(
            {
                "name": name,
                "directions": directions,
                "message_type": message_type,
                "params_type": params_type,
                "params_required": params_required,
                "result_type": result_type,
                "result_types": result_types,
                "handler": handler,
                "task_result_type": task_result_type,
            },
            types_from,
        )

    def replace(self, **changes: Any) -> RequestMethod[Any, Any]:
        """A copy with `changes` (types). A copy of a generated table's entry looks its types up on
        first read too, and a changed type may then also be a function making it from the module,
        called on first read (so that extending a revision's method creates no class)."""
        if self._named is not None:
            module, values = self._named
            return RequestMethod(**{**values, **changes}, types_from=module)
        return RequestMethod(**{**dict(zip(self._fields_, self._values(), strict=True)), **changes})


class NotificationMethod(_Method, Generic[P]):
    """A notification and its params type `P`."""

    _fields_ = ("name", "directions", "message_type", "params_type", "params_required", "handler")
    __slots__ = tuple(sorted(_fields_))
    _types_ = ("message_type", "params_type")
    _given_ = ("name", "directions", "params_required", "handler")

    name: str
    directions: tuple[Direction, ...]
    message_type: Any
    params_type: Any
    params_required: bool
    handler: str

    def __init__(
        self,
        *,
        name: str,
        directions: tuple[Direction, ...],
        message_type: Any,
        params_type: Any,
        params_required: bool,
        handler: str,
        types_from: str | None = None,
    ) -> None:
        """`types_from`: the module whose names the type fields are (a generated table); else types."""
        self._init(
            {
                "name": name,
                "directions": directions,
                "message_type": message_type,
                "params_type": params_type,
                "params_required": params_required,
                "handler": handler,
            },
            types_from,
        )


class Sender(Protocol):
    """What typed stubs need from the runtime: send a request and await its result; send a notification."""

    async def send_request(self, method: RequestMethod[P, R], params: P) -> R: ...

    async def send_notification(self, method: NotificationMethod[P], params: P) -> None: ...
