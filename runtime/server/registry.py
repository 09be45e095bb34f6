"""The `Server` registry: what is registered (tools, resources, prompts, completions, methods) and the
capabilities that follow from it; how it is served (stdio, Streamable HTTP, WebSocket) is `serving`.

One `Server` serves every revision at once. A client that opens with `initialize` gets the highest
stateful revision both support, for the life of the connection; a request that carries its protocol
version in `_meta` is served statelessly (2026-07-28 on). Results are built once as plain JSON data and
converted into the negotiated revision's generated types, so that what goes on the wire is exactly what
that revision's schema allows (members a revision lacks are not sent).

    server = Server("demo", "1.0.0")

    @server.tool()
    async def add(a: int, b: int) -> int:
        return a + b

    server.run_stdio()
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar, overload

import msgspec

from .. import wire
from ..protocol import dispatch, revisions
from ..protocol.request_state import StateSealer
from . import metadata
from .context import Context, drop_none
from .features import Features, PromptEntry, ResourceEntry, TemplateEntry, ToolEntry
from .handlers import Handlers, Route
from .lifespan import Lifespan, LifespanFactory
from .registrations import Registrations, Withdrawn
from .scopes import RequiredScopes
from .serving import UVICORN_DEFAULTS, Serving
from .session import Connection
from .signature import (
    callable_doc,
    callable_name,
    declared,
    given_as_json,
    inspect_function,
    refuse_async_generator,
    type_hints,
    uri_arguments,
)

if TYPE_CHECKING:
    # Tasks, resource templates and custom methods load with their first use: a server without them
    # does not pay for their modules at start (cold start).
    from ..protocol.tasks import TaskPolicy
    from .middleware import Middleware, MiddlewareChain
    from .shared import SharedState
    from .tasks import Tasks, TaskStore

__all__ = ["Server", "UVICORN_DEFAULTS"]

F = TypeVar("F", bound=Callable[..., Any])


_PLAIN_READS: frozenset[str] = frozenset({"tasks", "middleware_chain", "required_scopes"})
"""The attributes `Server.plain_calls` is made of."""
_set: Final = object.__setattr__


class Server(Features, Registrations, Serving):
    # Slots for what it makes: past ~30 attributes CPython 3.11 gives an instance a dictionary, and
    # every read of the server's state on a request's path would be that dictionary's lookup. (Its
    # bases have none: what a subclass or a caller adds goes in the instance's dictionary.)
    __slots__ = (
        "_caps",
        "_completions",
        "_connections",
        "_kept",
        "_list_cache",
        "_meta_cache",
        "_methods",
        "_middleware",
        "_prompts",
        "_resources",
        "_shared",
        "_task_policy",
        "_task_store",
        "_templates",
        "_tools",
        "expose_errors",
        "frames",
        "handlers",
        "info_members",
        "instructions",
        "lanes",
        "lifespan",
        "list_ttl_ms",
        "max_concurrency",
        "max_queued",
        "max_subscriptions",
        "middleware_chain",
        "missing_features",
        "name",
        "on_roots_changed",
        "page_size",
        "plain_calls",
        "relay",
        "required_scopes",
        "revisions",
        "sealer",
        "stateless_lane",
        "tasks",
        "title",
        "tool_entry",
        "version",
    )

    def __init__(
        self,
        name: str,
        version: str = "0.1.0",
        *,
        title: str | None = None,
        instructions: str | None = None,
        revisions_served: Iterable[str] = revisions.ALL,
        page_size: int = 100,
        state_secret: bytes | None = None,
        list_ttl_ms: int = 0,
        max_concurrency: int = 64,
        max_queued: int = 1024,
        lifespan: LifespanFactory | None = None,
        expose_errors: bool = False,
        implementation: Mapping[str, Any] | None = None,
        middleware: Sequence[Middleware] = (),
        task_policy: TaskPolicy | None = None,
        task_store: TaskStore | None = None,
    ) -> None:
        """`lifespan(server)`: an async context manager entered while the server serves (see
        `mcpbind.server.lifespan`); what it yields is `ctx.lifespan` in every handler.
        `expose_errors`: send the text of a tool's unexpected exception to the client (by default
        only a `ToolError`'s message is sent; the exception is logged either way).
        `implementation`: further members of the server's `Implementation` (`icons`, `website_url`,
        `description`, any member a revision has), sent to the revisions that have them.
        `middleware`: hooks around every request and notification, the first the outermost (see
        `mcpbind.server.middleware`; `add_middleware` adds one inside those already there)."""
        self.name = name
        self.version = version
        self.title = title
        self.instructions = instructions
        # "draft" names the upstream draft's version; it is served only where named.
        self.revisions = tuple(dict.fromkeys(revisions.resolve(rev) for rev in revisions_served))
        self.expose_errors = expose_errors
        self.info_members = metadata.implementation(name, version, self.revisions, implementation or {})
        """Members of the server's `Implementation` beyond its name, version and title."""
        self.page_size = page_size
        self.list_ttl_ms = list_ttl_ms
        self.max_concurrency = max_concurrency
        """Handlers of one connection that may wait at once (on the client, a sleep, I/O...)."""
        self.max_queued = max_queued
        """Requests of one connection queued past `max_concurrency`; more are refused (-32000)."""
        self.max_subscriptions = 1000
        """URIs one session may be subscribed to at once (`resources/subscribe`); more are refused."""
        self.sealer = StateSealer(state_secret)
        self._tools: dict[str, ToolEntry] = {}  # (changed in place, never replaced: `tool_entry` is its get)
        self.tool_entry = self._tools.get
        self._resources: dict[str, ResourceEntry] = {}
        self._templates: list[TemplateEntry] = []
        self._prompts: dict[str, PromptEntry] = {}
        self._completions: dict[tuple[str, str], Callable[..., Any]] = {}
        self._methods: dict[str, Route] = {}
        self._kept: dict[tuple[str, str], Withdrawn] = {}
        self._connections: set[Connection] = set()
        self._list_cache: dict[tuple[str, str], tuple[Any, ...]] = {}
        self._meta_cache: dict[Any, Any] = {}
        self.lanes: dict[Any, Any] = {}
        """What a plain call of each revision needs, this server's (`plain.Lane`, by `Revision`)."""
        self.stateless_lane: Any = None
        """The `plain.Lane` of the revision the last plain call outside a session named (None: none
        yet): the next one's params are read by it first, and their `_meta` says whether it was right."""
        self.frames: dict[Any, Any] = {}
        """Per revision, its `plain.Lane` and the decoder of a whole line as a plain call of one of its
        tools (`plain.frame`; None: no such tool, or too many tools): made on the second call read
        there (the first leaves a marker, `plain._LATER`, and goes the general way), dropped whenever
        the tools change (`_changed`)."""
        self._caps: dict[str, Any] | None = None
        self.missing_features: dict[str, str] = {}
        """`missing_feature`'s answers, by method (`dispatch.Gate`): emptied whenever `_caps` is."""
        """Per method, the feature it needs that is not offered ("": offered), while `_caps` holds."""
        self.required_scopes = RequiredScopes()
        """The scopes each tool, resource and prompt registered with `scopes=` needs of the caller."""
        self.handlers = Handlers(self)
        """The request handlers connections route to (by the method tables' handler names)."""
        self._task_policy, self._task_store = task_policy, task_store
        self.tasks: Tasks | None = None
        """The tasks runner: made when the first tool that runs as a task is registered."""
        self.on_roots_changed: Callable[[], Awaitable[None]] | None = None
        """Called when a client says its roots changed (`notifications/roots/list_changed`)."""
        self.relay: Callable[[str, str], None] | None = None
        """Set by a notification bus between workers (`mcpbind.transports.http.redis`): list changes
        ("list", kind), registrations made while serving ("add" or "remove", "<kind>:<name>", kind
        tools, resources or prompts, and the name or URI) and resource updates ("resource", uri) go to
        it, and it delivers them on every worker, this one included, instead of to this worker's
        connections alone (another worker applies a registration with `withdraw` and `restore`)."""
        self._shared: SharedState | None = None  # made by the first read (cold start: `shared`)
        self._middleware: list[Middleware] = []
        self.middleware_chain: MiddlewareChain | None = None
        """The registered middleware as one function (None when there is none: the hot path)."""
        self.plain_calls = True
        """No middleware, task runner or required scopes: a call of a tool that needs nothing of a
        connection may be answered in one step (`server.plain`). One test per call, kept by
        `_recheck` whenever what it reads changes (a middleware added, a registration made or
        withdrawn, or `tasks`, `middleware_chain` or `required_scopes` assigned: `__setattr__`)."""
        for mw in middleware:
            self.add_middleware(mw)
        self.lifespan = Lifespan(lifespan, self, name)
        """The lifespan's state while it runs (`lifespan.state`, `lifespan.state_as(T)`)."""

    @property
    def shared(self) -> SharedState:
        """Values handlers keep between requests (`ctx.shared`): in this process, or in the store every
        worker shares when served over Redis (`mcpbind.server.shared`). The in-process store (and its
        module) is made on first use: most servers never use it."""
        if self._shared is None:
            from .shared import MemoryState

            self._shared = MemoryState()
        return self._shared

    @shared.setter
    def shared(self, store: SharedState) -> None:
        self._shared = store

    # -- registration ------------------------------------------------------------------------------

    def add_middleware(self, middleware: Middleware) -> Middleware:
        """Add a middleware inside those registered already (usable as a decorator)."""
        from .middleware import chain  # loaded by the first middleware: a server without has no use for it

        self._middleware.append(middleware)
        self.middleware_chain = chain(self._middleware)
        self._recheck()
        return middleware

    if not TYPE_CHECKING:  # (to a type checker, a Server's attributes are the ones it declares)

        def __setattr__(self, name: str, value: Any) -> None:
            # `plain_calls` kept right when what it reads is assigned directly rather than through
            # the API (`server.tasks = ...`). Here rather than in properties: those three are read on
            # every general-path call, and a property's read costs a call; a Server's attributes are
            # assigned at its making and on changes, not per call (its making: 80k instructions more,
            # callgrind; 122k through `super()`).
            _set(self, name, value)
            if name in _PLAIN_READS and hasattr(self, "plain_calls"):  # (not while it is made)
                self._recheck()

    def _recheck(self) -> None:
        """`plain_calls` again, after what it reads may have changed."""
        self.plain_calls = (
            self.middleware_chain is None and self.tasks is None and not self.required_scopes.active
        )

    @overload
    def tool(self, name: F, /) -> F: ...

    @overload
    def tool(
        self,
        name: str | None = None,
        *,
        description: str | None = None,
        title: str | None = None,
        annotations: msgspec.Struct | Mapping[str, Any] | None = None,
        meta: dict[str, Any] | None = None,
        icons: Sequence[msgspec.Struct | Mapping[str, Any]] | None = None,
        input_schema: dict[str, Any] | None = None,
        scopes: Iterable[str] = (),
        task_support: Literal["forbidden", "optional", "required"] = "forbidden",
        defer_task: bool = False,
        **members: Any,
    ) -> Callable[[F], F]: ...

    def tool(
        self,
        name: str | F | None = None,
        *,
        description: str | None = None,
        title: str | None = None,
        annotations: msgspec.Struct | Mapping[str, Any] | None = None,
        meta: dict[str, Any] | None = None,
        icons: Sequence[msgspec.Struct | Mapping[str, Any]] | None = None,
        input_schema: dict[str, Any] | None = None,
        scopes: Iterable[str] = (),
        task_support: Literal["forbidden", "optional", "required"] = "forbidden",
        defer_task: bool = False,
        **members: Any,
    ) -> F | Callable[[F], F]:
        """Register a function as a tool; its parameters' type hints make the input schema, its
        return annotation the output schema (unless it returns text or content). `scopes`: what the
        caller's access token must grant to call it (`mcpbind.auth.server`). `task_support`: whether
        it runs as a task (README, "Tasks"); `defer_task`: only once it calls `Context.become_task`
        (2026-07-28: after gathering input with the request's own round trips).

        `annotations` is a `ToolAnnotations` of any revision or its JSON form; `members` are any other
        members of the served revisions' `Tool` (`execution=`, `output_schema=`, a new revision's
        member), by Python or wire name. The definition is checked against every served revision at
        registration, and each revision is sent the members it has. A name registered twice is a
        ValueError (`remove_tool` first to replace a tool). `@server.tool` with no call registers
        the function as `@server.tool()` does.

        An `async def` tool (resource, prompt, completion, middleware alike) runs from its first step
        to its end in one task of its own: `asyncio.current_task()` is that request's, anyio cancel
        scopes (httpx's) and `asyncio.timeout` work as anywhere, and cancelling the request cancels
        that task alone. A plain `def`, and an `async def` with no `await` (nor `async with`, `async
        for`) in its code, runs inline in one step, in the task that read the request."""
        if callable(name):
            return self.tool()(name)

        def register(fn: F) -> F:
            tool_name = name or callable_name(fn)
            if tool_name in self._tools:
                raise ValueError(f"a tool named {tool_name!r} is registered already")
            sig = inspect_function(fn, Context, name=tool_name)
            definition = drop_none(
                {
                    "name": tool_name,
                    "title": title,
                    "description": description or callable_doc(fn),
                    "inputSchema": input_schema or sig.input_schema,
                    "outputSchema": sig.output_schema,
                    "annotations": wire.to_builtins(annotations),
                    "icons": wire.to_builtins(icons),
                    "_meta": meta,
                }
            )
            definition = self._define("Tool", definition, members, f"tool {tool_name!r}")
            schema = definition.get("outputSchema")
            if sig.output_schema is None and schema is not None:  # (`output_schema=`)
                sig = declared(sig, wire.to_builtins(schema), tool_name)
            entry = ToolEntry(
                tool_name, fn, sig, definition, task_support=task_support, defer_task=defer_task
            )
            if task_support != "forbidden":
                definition["execution"] = {"taskSupport": task_support}
                if self.tasks is None:
                    from .tasks import Tasks

                    self.tasks = Tasks(self._task_policy, self._task_store)
            self._tools[tool_name] = entry
            self.required_scopes.require("tools/call", tool_name, scopes)
            self._changed("tools", tool_name, "add")
            return fn

        return register

    def remove_tool(self, name: str) -> None:
        if self.withdraw("tools", name, notify=True) is None:
            raise KeyError(name)

    def resource(
        self,
        uri: str,
        *,
        name: str | None = None,
        title: str | None = None,
        description: str | None = None,
        mime_type: str | None = None,
        ttl_ms: int = 0,
        cache_scope: str = "private",
        meta: dict[str, Any] | None = None,
        scopes: Iterable[str] = (),
        **members: Any,
    ) -> Callable[[F], F]:
        """Register a resource; a URI with `{variables}` is an RFC 6570 template. `scopes`: what the
        caller's access token must grant to read it. `members`: any other member of the served
        revisions' `Resource` (or `ResourceTemplate`): `icons=`, `annotations=`, `size=`... A URI (or
        template) registered twice is a ValueError."""

        def register(fn: F) -> F:
            if uri in self._resources or any(t.template.template == uri for t in self._templates):
                raise ValueError(f"a resource at {uri!r} is registered already")
            definition = drop_none(
                {
                    "name": name or callable_name(fn, anonymous=uri),
                    "title": title,
                    "description": description or callable_doc(fn),
                    "mimeType": mime_type,
                    "_meta": meta,
                }
            )
            owner = f"resource {uri!r}"
            refuse_async_generator(fn, owner)
            hints = _hints(fn)
            ctx_param = next(
                (p for p, h in hints.items() if isinstance(h, type) and issubclass(h, Context)), None
            )
            if "{" in uri:
                from .uritemplate import UriTemplate

                template = UriTemplate(uri)
                definition = self._define(
                    "ResourceTemplate", {**definition, "uriTemplate": uri}, members, owner
                )
                self._templates.append(
                    TemplateEntry(
                        template,
                        fn,
                        definition,
                        mime_type,
                        ttl_ms,
                        cache_scope,
                        ctx_param,
                        uri_arguments(hints, ctx_param),
                    )
                )
            else:
                definition = self._define("Resource", {**definition, "uri": uri}, members, owner)
                self._resources[uri] = ResourceEntry(
                    uri, fn, definition, mime_type, ttl_ms, cache_scope, ctx_param
                )
            self.required_scopes.require("resources/read", uri, scopes)
            self._changed("resources", uri, "add")
            return fn

        return register

    @overload
    def prompt(self, name: F, /) -> F: ...

    @overload
    def prompt(
        self,
        name: str | None = None,
        *,
        description: str | None = None,
        title: str | None = None,
        scopes: Iterable[str] = (),
        **members: Any,
    ) -> Callable[[F], F]: ...

    def prompt(
        self,
        name: str | F | None = None,
        *,
        description: str | None = None,
        title: str | None = None,
        scopes: Iterable[str] = (),
        **members: Any,
    ) -> F | Callable[[F], F]:
        """Register a function as a prompt; its parameters are the prompt's (string) arguments. `scopes`:
        what the caller's access token must grant to get it. `members`: any other member of the served
        revisions' `Prompt` (`icons=`, `meta=`...). A name registered twice is a ValueError.
        `@server.prompt` with no call registers the function as `@server.prompt()` does."""
        if callable(name):
            return self.prompt()(name)

        def register(fn: F) -> F:
            prompt_name = name or callable_name(fn)
            if prompt_name in self._prompts:
                raise ValueError(f"a prompt named {prompt_name!r} is registered already")
            sig = inspect_function(fn, Context, name=prompt_name, results=False, texts=True)
            required = set(sig.input_schema.get("required", []))
            arguments = [
                drop_none(
                    {
                        "name": arg,
                        "required": arg in required,
                        "description": _argument_description(sig.input_schema, arg),
                    }
                )
                for arg in sig.names
            ]
            definition = drop_none(
                {
                    "name": prompt_name,
                    "title": title,
                    "description": description or callable_doc(fn),
                    "arguments": arguments,
                }
            )
            definition = self._define("Prompt", definition, members, f"prompt {prompt_name!r}")
            self._prompts[prompt_name] = PromptEntry(prompt_name, fn, sig, definition)
            self.required_scopes.require("prompts/get", prompt_name, scopes)
            self._changed("prompts", prompt_name, "add")
            return fn

        return register

    def remove_prompt(self, name: str) -> None:
        if self.withdraw("prompts", name, notify=True) is None:
            raise KeyError(name)

    def remove_resource(self, uri: str) -> None:
        """Remove a resource or resource template (nothing when `uri` is neither)."""
        self.withdraw("resources", uri, notify=True)

    def completion(self, kind: str, name: str) -> Callable[[F], F]:
        """Register completions for a prompt's (`"prompt"`) or a template's (`"resource"`) arguments:
        `fn(argument_name, value, context_arguments) -> list[str]`."""

        def register(fn: F) -> F:
            self._completions[(kind, name)] = fn
            self._caps = None
            self.missing_features.clear()
            return fn

        return register

    def method(self, name: str, *, params: Any = None) -> Callable[[F], F]:
        """Serve request method `name` (one a served revision's method table lists for the client to
        send, and no decorator covers) with `fn(params, ctx)`; see `mcpbind.server.custom`. `params`:
        a type the revision's decoded params are converted into (by default they come as decoded).
        What `fn` returns is converted into the revision's result type. Registering a method that
        has a handler already is a ValueError."""

        def register(fn: F) -> F:
            from .custom import method_route

            self._methods[name] = method_route(name, fn, params, self.revisions, self._methods)
            return fn

        return register

    def method_route(self, name: str) -> Route | None:
        """The route of a method registered with `method`, if any."""
        return self._methods.get(name)

    def _define(
        self, type_name: str, base: dict[str, Any], given: Mapping[str, Any], owner: str
    ) -> dict[str, Any]:
        """A definition: the decorator's named arguments and its further `members`, checked against
        every served revision. Without further members nothing is checked here (the revisions'
        modules load on first use, not when a plain server is defined): listing converts them."""
        if not given:
            return base
        if "meta" in given:  # `meta=` is the Python name of `_meta` everywhere
            given = {("_meta" if k == "meta" else k): v for k, v in given.items()}
        definition = {**base, **metadata.members(type_name, self.revisions, given, owner)}
        return metadata.checked(definition, type_name, self.revisions, owner)

    def tool_entries(self) -> list[ToolEntry]:
        """Every tool registered, in the order of registration."""
        return list(self._tools.values())

    def _changed(self, kind: str, name: str = "", change: str = "", notify: bool = True) -> None:
        # Resources list as two kinds: resources and (resource) templates.
        kinds = ("resources", "templates") if kind == "resources" else (kind,)
        self._list_cache = {k: v for k, v in self._list_cache.items() if k[1] not in kinds}
        self._caps = None
        self.missing_features.clear()
        if kind == "tools":
            self.frames.clear()  # (`plain.frame`: a tool added, withdrawn or replaced)
        self._recheck()  # (a registration's task runner or scopes)
        if not notify:
            return
        if self.relay is not None:
            if change:  # the bus applies it on the other workers; its list change goes with it
                self.relay(change, f"{kind}:{name}")
            else:
                self.relay("list", kind)
            return
        for conn in list(self._connections):
            conn.list_changed(kind)

    async def notify_resource_updated(self, uri: str) -> None:
        """Tell every client subscribed to `uri` that it changed."""
        if self.relay is not None:
            self.relay("resource", uri)
            return
        for conn in list(self._connections):
            await conn.resource_updated(uri)

    # -- capabilities and discovery ----------------------------------------------------------------

    def capabilities(self) -> dict[str, Any]:
        """What the server offers, from what is registered (the same dict until the registry changes)."""
        if self._caps is not None:
            return self._caps
        self.missing_features.clear()
        caps: dict[str, Any] = {"logging": {}}
        if self._tools:
            caps["tools"] = {"listChanged": True}
        if self._resources or self._templates:
            caps["resources"] = {"subscribe": True, "listChanged": True}
        if self._prompts:
            caps["prompts"] = {"listChanged": True}
        if self._completions:
            caps["completions"] = {}
        if any(t.task_support != "forbidden" for t in self._tools.values()):
            # Each revision keeps its own: `tasks` in 2025-11-25, the extension from 2026-07-28.
            caps["tasks"] = {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}
            from ..protocol.tasks import EXTENSION as TASKS_EXTENSION

            caps["extensions"] = {TASKS_EXTENSION: {}}
        self._caps = caps
        return caps

    def missing_feature(self, method: str) -> str:
        """The feature `method` needs that the server does not offer, else "" (capability enforcement:
        such a method is not found)."""
        if self._caps is None:
            self.capabilities()  # the registry changed: what is offered is worked out again
        missing = self.missing_features.get(method)
        if missing is None:
            missing = self.missing_features[method] = dispatch.missing_feature(method, self.capabilities())
        return missing

    # -- serving -----------------------------------------------------------------------------------


def _argument_description(arguments: dict[str, Any], name: str) -> str | None:
    """A prompt argument's description (`arguments`: the schema of them all): its own, and, where its
    type is an object or an array (a model, a dataclass, a list), that it expects the JSON text of one."""
    schema = arguments["properties"].get(name, {})
    description = schema.get("description")
    own = description if isinstance(description, str) and description else None
    if not given_as_json(schema, arguments.get("$defs") or {}):
        return own
    return f"{own} (JSON text)" if own else "JSON text"


def _hints(fn: Callable[..., Any]) -> dict[str, Any]:
    try:
        # With their `Annotated` parts: a template variable's constraints (pydantic's `Field`,
        # msgspec's `Meta`) are checked when its text is made the parameter's type.
        return type_hints(fn)  # (a partial's function's, a callable object's `__call__`'s)
    except Exception:  # hints that do not resolve: no context parameter to find
        return {}
