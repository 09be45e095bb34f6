"""The server's request handlers, routed to by the handler names of the generated method tables.

Each generated `RequestMethod` names its handler (`tools/call` -> `call_tool`); `ROUTES` maps each
handler name to the `Handlers` method of that name, and a request goes where its table entry points. A request
whose handler is not here is not found. A handler takes the decoded params and the request's `Context`, and
returns revision-neutral JSON data or the result type itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final

import msgspec
from msgspec import UNSET

from .. import wire
from ..aio.interfaces import ROUTE
from ..errors import InvalidParams, McpError
from ..protocol import revisions
from ..protocol.request_state import PRINCIPAL, params_digest
from .context import Context, NeedInput, drop_none
from .features import opt

if TYPE_CHECKING:
    from .registry import Server

__all__ = ["Handlers", "Route", "ROUTES", "routes", "CARRIED"]

CARRIED: Final = "mcpbind/carried"
"""Where a handler's `ctx.carried` travels in a sealed `requestState` (no input request has this key:
one a client sends under it is dropped)."""

LIMIT_REACHED: Final = -32000
"""The error of a request refused because a bound is reached (as `TooManyTasks`): nothing was done."""

MAX_SUBSCRIBED_URI: Final = 8192
"""Characters of a URI a session may subscribe to (with `Server.max_subscriptions`, what bounds the
memory a session's subscriptions take)."""

Result = dict[str, Any] | msgspec.Struct
Route = Callable[["Handlers", Any, Context], Awaitable[Result]]
"""A handler, unbound: called as `route(handlers, params, ctx)` (no bound method made per request)."""


class Handlers:
    """One method per request a client may send, named as the method tables name its handler."""

    __slots__ = ("server",)

    def __init__(self, server: Server) -> None:
        self.server = server

    def call_tool(self, params: Any, ctx: Context) -> Awaitable[Result]:
        # Not a coroutine of its own: the awaitable it gives is the tool's run (every call).
        server = self.server
        run: Callable[..., Awaitable[Result]] = server.tool_run
        if server.tasks is not None:  # (None unless a tool runs as a task: no cost otherwise)
            from . import task_requests  # the tasks' modules load with the first task tool (cold start)

            run = task_requests.tool_runner(server, server.tasks, params, ctx) or run
        arguments = params.arguments
        if arguments is UNSET:
            arguments = None
        if ctx.era.asks_inline:  # (`with_input`'s first case, inline: every call of the session era)
            return run(params.name, arguments, ctx)
        return with_input(server, ctx, params, "tools/call", run, params.name, arguments)

    # Tasks, both eras (the 2025-11-25 core's method names; the 2026-07-28 extension's routed here too).

    async def get_task(self, params: Any, ctx: Context) -> Result:
        from . import task_requests

        return await task_requests.get_task(self.server, params, ctx)

    async def get_task_payload(self, params: Any, ctx: Context) -> Result:
        from . import task_requests

        return await task_requests.get_task_payload(self.server, params, ctx)

    async def list_tasks(self, params: Any, ctx: Context) -> Result:
        from . import task_requests

        return await task_requests.list_tasks(self.server, params, ctx)

    async def cancel_task(self, params: Any, ctx: Context) -> Result:
        from . import task_requests

        return await task_requests.cancel_task(self.server, params, ctx)

    async def update_task(self, params: Any, ctx: Context) -> Result:
        from . import task_requests

        return await task_requests.update_task(self.server, params, ctx)

    async def ping(self, params: Any, ctx: Context) -> Result:
        return {}

    async def discover(self, params: Any, ctx: Context) -> Result:
        server = self.server
        return drop_none(
            {
                # Newest first, as every refusal naming them lists them (protocol versions are
                # dates: the stateless ones come first), whatever order `revisions_served` has.
                "supportedVersions": sorted(server.revisions, reverse=True),
                "capabilities": server.capabilities(),
                "instructions": server.instructions,
            }
        )

    async def set_level(self, params: Any, ctx: Context) -> Result:
        ctx.connection.log_level = params.level
        return {}

    async def list_tools(self, params: Any, ctx: Context) -> Result:
        return self._list(ctx, params, "tools", "Tool", "tools")

    async def list_resources(self, params: Any, ctx: Context) -> Result:
        return self._list(ctx, params, "resources", "Resource", "resources")

    async def list_resource_templates(self, params: Any, ctx: Context) -> Result:
        return self._list(ctx, params, "templates", "ResourceTemplate", "resourceTemplates")

    async def list_prompts(self, params: Any, ctx: Context) -> Result:
        return self._list(ctx, params, "prompts", "Prompt", "prompts")

    def _list(self, ctx: Context, params: Any, kind: str, type_name: str, key: str) -> dict[str, Any]:
        server = self.server
        cursor = None if params is None else getattr(params, "cursor", UNSET)
        items, nxt = server.page(
            server.listed(ctx.revision, kind, type_name), None if cursor in (None, UNSET) else str(cursor)
        )
        return drop_none({key: list(items), "nextCursor": nxt})

    async def get_prompt(self, params: Any, ctx: Context) -> Result:
        server = self.server
        return await with_input(
            server, ctx, params, "prompts/get", server.get_prompt, params.name, opt(params.arguments)
        )

    async def read_resource(self, params: Any, ctx: Context) -> Result:
        server = self.server

        async def read(c: Context) -> dict[str, Any]:
            result, entry = await server.read_resource(params.uri, c)
            c.era.cache_resource(result, entry.ttl_ms, entry.cache_scope)
            return result

        return await with_input(server, ctx, params, "resources/read", read)

    async def subscribe(self, params: Any, ctx: Context) -> Result:
        subscriptions, uri = ctx.connection.subscriptions, params.uri
        if uri not in subscriptions:
            # Bounded: each URI is kept for the session's life (and in every snapshot of it).
            _subscribable(self.server, len(subscriptions) + 1, (uri,))
            subscriptions.add(uri)
        return {}

    async def unsubscribe(self, params: Any, ctx: Context) -> Result:
        ctx.connection.subscriptions.discard(params.uri)
        return {}

    async def complete(self, params: Any, ctx: Context) -> Result:
        return await self.server.complete(
            wire.to_builtins(params.ref),
            wire.to_builtins(params.argument),
            wire.to_builtins(opt(getattr(params, "context", UNSET))),
        )

    async def subscriptions_listen(self, params: Any, ctx: Context) -> Result:
        from ..protocol.task_subscriptions import TASK_IDS  # (loaded by the revisions that listen)

        conn = ctx.connection
        rid = ctx.request_id
        wanted = wire.to_builtins(params.notifications)
        uris = wanted.get("resourceSubscriptions")
        if uris:  # held while the stream is open, and looked through on every resource update
            _subscribable(self.server, len(uris), uris)
        if TASK_IDS in wanted:  # the tasks extension's member: the caller's own tasks, if it declares it
            from .task_requests import subscribable_tasks

            # (each task id is looked up in the store)
            _subscribable(self.server, len(wanted[TASK_IDS] or ()), (), "tasks")

            wanted[TASK_IDS] = await subscribable_tasks(self.server.tasks, ctx, wanted[TASK_IDS])
        conn.listeners[rid] = (ctx.revision, wanted, ROUTE.get())
        try:
            method = "notifications/subscriptions/acknowledged"
            ack = {"notifications": wanted, "_meta": {revisions.META_SUBSCRIPTION: rid}}
            if TASK_IDS in wanted:  # a member the core's type lacks: sent as it is (its parts are checked)
                await conn.peer.notify(method, ack)
            else:
                await conn.notify(method, ack, ctx.module)
            await asyncio.Event().wait()  # until the client cancels the request, or the connection ends
        finally:
            conn.listeners.pop(rid, None)
        return {}


def _subscribable(server: Server, count: int, uris: Iterable[str], what: str = "resources") -> None:
    """Refuse subscriptions past the bounds: `count` URIs or task ids (`what`) in all (a session's, or
    one listen's) over `server.max_subscriptions` (-32000 with the limit), or a URI longer than
    `MAX_SUBSCRIBED_URI`."""
    limit = server.max_subscriptions
    if count > limit:
        raise McpError(
            f"Too many subscriptions: at most {limit} {what} at once; unsubscribe first",
            code=LIMIT_REACHED,
            data={"limit": limit},
        )
    if any(len(uri) > MAX_SUBSCRIBED_URI for uri in uris):
        raise InvalidParams(
            f"Invalid params: a URI to subscribe to is at most {MAX_SUBSCRIBED_URI} characters"
        )


ROUTES: Final[Mapping[str, Route]] = {
    name: fn for name, fn in vars(Handlers).items() if not name.startswith("_") and callable(fn)
}
"""Every handler, by the name the method tables give it (its public methods)."""


def routes(revision: revisions.Revision) -> Mapping[str, Route]:
    """Every request a client may send in `revision` that has a handler here, to that handler."""
    return {
        method: ROUTES[spec.handler]
        for method, spec in revision.requests.items()
        if "client_to_server" in spec.directions and spec.handler in ROUTES
    }


def with_input(
    server: Server,
    ctx: Context,
    params: Any,
    method: str,
    run: Callable[..., Awaitable[Result]],
    *args: Any,
) -> Awaitable[Result]:
    """Run a handler, `run(*args, ctx)`. Where the era asks the client with requests of its own, the
    handler is awaited as it is, with no frame around it; otherwise a request for input turns into
    the era's InputRequiredResult."""
    if ctx.era.asks_inline:
        return run(*args, ctx)
    return _gathering_input(server, ctx, params, method, run, args)


async def _gathering_input(
    server: Server,
    ctx: Context,
    params: Any,
    method: str,
    run: Callable[..., Awaitable[Result]],
    args: tuple[Any, ...],
) -> Result:
    state = getattr(params, "request_state", UNSET)
    responses = getattr(params, "input_responses", UNSET)
    # The digest binds a sealed state to its request: computed only when a state is opened or sealed.
    digest: str | None = None
    answers: dict[str, Any] = {}
    carried: Any = None
    if state is not UNSET and state:
        digest = params_digest(wire.to_builtins(params))
        answers.update(server.sealer.open(state, method, digest, PRINCIPAL.get()))
        carried = answers.pop(CARRIED, None)  # (only a sealed state carries it: the server wrote it)
    if responses is not UNSET and responses:
        answers.update(wire.to_builtins(responses))
        answers.pop(CARRIED, None)
    ctx.answers = answers
    if isinstance(carried, dict):
        ctx.carried.update(carried)
    try:
        return await run(*args, ctx)
    except NeedInput:
        # Only answers the handler used travel on; anything else the client sent is ignored.
        kept = {k: v for k, v in answers.items() if k in ctx.consumed}
        if ctx.has_carried:
            kept[CARRIED] = wire.to_builtins(ctx.carried)
        if digest is None:
            digest = params_digest(wire.to_builtins(params))
        state = server.sealer.seal(method, digest, kept, PRINCIPAL.get())
        return ctx.era.input_required(dict(ctx.needed), state)
