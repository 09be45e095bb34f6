"""Handlers the server author registers for any request method of a revision (`@server.method(...)`).

The decorators cover tools, resources, prompts and completions; any other request a revision's
method table lists for the client to send (a method a new revision adds, say) is served by a function
registered under its name, with no change to the runtime:

    @server.method("tasks/list", result=TaskList)
    async def list_tasks(params: Any, ctx: Context) -> TaskList:
        ...

The request is decoded and checked by the revision's own params type first (as every request is);
`params=` converts it further into a type of the author's (a Struct, dataclass, TypedDict or pydantic
model). What the function returns becomes JSON data and is converted into the revision's result type,
so nothing that type forbids is sent. Asking the client for input works as in tools, in both eras.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import msgspec

from .. import wire
from ..aio import own
from ..errors import InvalidParams
from ..protocol import revisions
from .context import Context, drop_none
from .handlers import ROUTES, Result, Route, with_input
from .types import converter, to_plain

if TYPE_CHECKING:
    from .handlers import Handlers

__all__ = ["method_route"]


def method_route(
    name: str, fn: Callable[..., Any], params: Any, served: Iterable[str], registered: Mapping[str, Route]
) -> Route:
    """The route of a registered method: `fn(params, ctx)`, its params converted to `params` if given.
    ValueError when `name` has a handler already (the runtime's in a served revision, or `registered`)."""
    if (
        name in registered
        or name == "initialize"
        or any(
            (spec := revisions.revision(r).requests.get(name)) is not None and spec.handler in ROUTES
            for r in served
        )
    ):
        raise ValueError(f"method {name!r} has a handler already")
    convert = converter(params) if params is not None else None

    async def route(handlers: Handlers, decoded: Any, ctx: Context) -> Result:
        argument = decoded
        if convert is not None:
            try:
                argument = convert(wire.to_builtins(decoded) if decoded is not None else {})
            except (msgspec.ValidationError, ValueError) as exc:
                raise InvalidParams(f"Invalid params: {exc}") from None

        async def run(c: Context) -> Result:
            value = fn(argument, c)
            if inspect.isawaitable(value):
                value = await own.run(value)
            plain = {} if value is None else to_plain(value)
            if not isinstance(plain, dict):
                raise TypeError(f"the handler of {name} returned {type(value).__name__}, not an object")
            return drop_none(plain)  # (a member set to None is absent, as everywhere on the wire)

        run_it: Callable[[Context], Awaitable[Result]] = run
        return await with_input(handlers.server, ctx, decoded, name, run_it)

    return route
