"""The `Server` registry: what is registered (tools, resources, prompts, completions), the capabilities
that follow from it, and the entry points that serve it (stdio, Streamable HTTP, any transport).

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

import asyncio
import inspect
import typing
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Final, TypeVar

from ..aio.peer import MessageTransport
from ..protocol import dispatch, revisions
from ..protocol.request_state import StateSealer
from .context import Context, drop_none
from .features import Features, PromptEntry, ResourceEntry, TemplateEntry, ToolEntry
from .handlers import Handlers
from .session import Connection
from .signature import inspect_function
from .uritemplate import UriTemplate

__all__ = ["Server", "UVICORN_DEFAULTS"]

F = TypeVar("F", bound=Callable[..., Any])

UVICORN_DEFAULTS: Final[dict[str, Any]] = {
    # Streams (GET, subscriptions) stay open until their clients leave: bound the wait on shutdown.
    "timeout_graceful_shutdown": 3,
    "access_log": False,
    "proxy_headers": False,
}
"""What `Server.run_http` passes to uvicorn unless told otherwise."""


class Server(Features):
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
    ) -> None:
        self.name = name
        self.version = version
        self.title = title
        self.instructions = instructions
        self.revisions = tuple(revisions_served)
        for rev in self.revisions:
            if rev not in revisions.ALL:
                raise ValueError(f"unknown revision {rev!r}")
        self.page_size = page_size
        self.list_ttl_ms = list_ttl_ms
        self.max_concurrency = max_concurrency
        """Handlers of one connection that may wait at once (on the client, a sleep, I/O...)."""
        self.max_queued = max_queued
        """Requests of one connection queued past `max_concurrency`; more are refused (-32000)."""
        self.sealer = StateSealer(state_secret)
        self._tools: dict[str, ToolEntry] = {}
        self._resources: dict[str, ResourceEntry] = {}
        self._templates: list[TemplateEntry] = []
        self._prompts: dict[str, PromptEntry] = {}
        self._completions: dict[tuple[str, str], Callable[..., Any]] = {}
        self._connections: set[Connection] = set()
        self._list_cache: dict[tuple[str, str], tuple[Any, ...]] = {}
        self._meta_cache: dict[Any, Any] = {}
        self._caps: dict[str, Any] | None = None
        self._missing: dict[str, str] = {}
        """Per method, the feature it needs that is not offered ("": offered), while `_caps` holds."""
        self.handlers = Handlers(self)
        """The request handlers connections route to (by the method tables' handler names)."""
        self.on_roots_changed: Callable[[], Awaitable[None]] | None = None
        """Called when a client says its roots changed (`notifications/roots/list_changed`)."""

    # -- registration ------------------------------------------------------------------------------

    def tool(
        self,
        name: str | None = None,
        *,
        description: str | None = None,
        title: str | None = None,
        annotations: dict[str, Any] | None = None,
        meta: dict[str, Any] | None = None,
        icons: list[dict[str, Any]] | None = None,
        input_schema: dict[str, Any] | None = None,
    ) -> Callable[[F], F]:
        """Register a function as a tool; its parameters' type hints make the input schema."""

        def register(fn: F) -> F:
            tool_name = name or fn.__name__
            sig = inspect_function(fn, Context, name=tool_name)
            definition = drop_none(
                {
                    "name": tool_name,
                    "title": title,
                    "description": description or inspect.getdoc(fn),
                    "inputSchema": input_schema or sig.input_schema,
                    "outputSchema": sig.output_schema,
                    "annotations": annotations,
                    "icons": icons,
                    "_meta": meta,
                }
            )
            self._tools[tool_name] = ToolEntry(tool_name, fn, sig, definition)
            self._changed("tools")
            return fn

        return register

    def remove_tool(self, name: str) -> None:
        del self._tools[name]
        self._changed("tools")

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
    ) -> Callable[[F], F]:
        """Register a resource; a URI with `{variables}` is an RFC 6570 template."""

        def register(fn: F) -> F:
            definition = drop_none(
                {
                    "name": name or fn.__name__,
                    "title": title,
                    "description": description or inspect.getdoc(fn),
                    "mimeType": mime_type,
                    "_meta": meta,
                }
            )
            if "{" in uri:
                template = UriTemplate(uri)
                ctx_param = next(
                    (p for p, h in _hints(fn).items() if isinstance(h, type) and issubclass(h, Context)), None
                )
                self._templates.append(
                    TemplateEntry(
                        template,
                        fn,
                        {**definition, "uriTemplate": uri},
                        mime_type,
                        ttl_ms,
                        cache_scope,
                        ctx_param,
                    )
                )
            else:
                self._resources[uri] = ResourceEntry(
                    uri, fn, {**definition, "uri": uri}, mime_type, ttl_ms, cache_scope
                )
            self._changed("resources")
            return fn

        return register

    def prompt(
        self, name: str | None = None, *, description: str | None = None, title: str | None = None
    ) -> Callable[[F], F]:
        """Register a function as a prompt; its parameters are the prompt's (string) arguments."""

        def register(fn: F) -> F:
            prompt_name = name or fn.__name__
            sig = inspect_function(fn, Context, name=prompt_name)
            required = set(sig.input_schema.get("required", []))
            arguments = [
                drop_none(
                    {
                        "name": arg,
                        "required": arg in required,
                        "description": sig.input_schema["properties"].get(arg, {}).get("description"),
                    }
                )
                for arg in sig.names
            ]
            definition = drop_none(
                {
                    "name": prompt_name,
                    "title": title,
                    "description": description or inspect.getdoc(fn),
                    "arguments": arguments,
                }
            )
            self._prompts[prompt_name] = PromptEntry(prompt_name, fn, sig, definition)
            self._changed("prompts")
            return fn

        return register

    def remove_prompt(self, name: str) -> None:
        del self._prompts[name]
        self._changed("prompts")

    def remove_resource(self, uri: str) -> None:
        if uri in self._resources:
            del self._resources[uri]
        else:
            self._templates = [t for t in self._templates if t.template.template != uri]
        self._changed("resources")

    def completion(self, kind: str, name: str) -> Callable[[F], F]:
        """Register completions for a prompt's (`"prompt"`) or a template's (`"resource"`) arguments:
        `fn(argument_name, value, context_arguments) -> list[str]`."""

        def register(fn: F) -> F:
            self._completions[(kind, name)] = fn
            self._caps = None
            return fn

        return register

    def _changed(self, kind: str) -> None:
        self._list_cache = {k: v for k, v in self._list_cache.items() if k[1] != kind}
        self._caps = None
        for conn in list(self._connections):
            conn.list_changed(kind)

    async def notify_resource_updated(self, uri: str) -> None:
        """Tell every client subscribed to `uri` that it changed."""
        for conn in list(self._connections):
            await conn.resource_updated(uri)

    # -- capabilities and discovery ----------------------------------------------------------------

    def capabilities(self) -> dict[str, Any]:
        """What the server offers, from what is registered (the same dict until the registry changes)."""
        if self._caps is not None:
            return self._caps
        self._missing.clear()
        caps: dict[str, Any] = {"logging": {}}
        if self._tools:
            caps["tools"] = {"listChanged": True}
        if self._resources or self._templates:
            caps["resources"] = {"subscribe": True, "listChanged": True}
        if self._prompts:
            caps["prompts"] = {"listChanged": True}
        if self._completions:
            caps["completions"] = {}
        self._caps = caps
        return caps

    def missing_feature(self, method: str) -> str:
        """The feature `method` needs that the server does not offer, else "" (capability enforcement:
        such a method is not found)."""
        if self._caps is None:
            self.capabilities()  # the registry changed: what is offered is worked out again
        missing = self._missing.get(method)
        if missing is None:
            missing = self._missing[method] = dispatch.missing_feature(method, self.capabilities())
        return missing

    # -- serving -----------------------------------------------------------------------------------

    def attach(self, conn: Connection) -> None:
        """Count `conn` among the connections that list changes and resource updates reach."""
        self._connections.add(conn)

    def detach(self, conn: Connection) -> None:
        self._connections.discard(conn)

    @property
    def connections(self) -> frozenset[Connection]:
        """The connections attached now (a snapshot: attaching or detaching later does not change it)."""
        return frozenset(self._connections)

    async def serve(self, transport: MessageTransport) -> None:
        """Serve one connection until its transport ends."""
        conn = Connection(self, transport)
        self.attach(conn)
        try:
            await conn.peer.run()
        finally:
            self.detach(conn)
            await transport.close()

    async def serve_stdio(self, *, max_line: int | None = None) -> None:
        # (Imported on use, as the HTTP transport is in `http_app`.)
        from ..transports.stdio import DEFAULT_MAX_LINE, StdioServerTransport

        transport = StdioServerTransport(max_line=max_line or DEFAULT_MAX_LINE)
        await transport.start()
        await self.serve(transport)

    def http_app(self, *, path: str = "/mcp", security: Any = None, json_response: bool = False) -> Any:
        """The ASGI application serving this server's MCP endpoint (mount it anywhere)."""
        # Imported here, not at the top: the HTTP transport imports the server (its connections), and
        # the server imports a transport only when asked to serve on it, so neither module-level
        # import graph has a cycle, and a stdio server never loads the HTTP modules.
        from ..transports.http.app import HttpApp

        return HttpApp(self, path=path, security=security, json_response=json_response)

    def run_http(
        self,
        host: str = "127.0.0.1",
        port: int = 8000,
        *,
        path: str = "/mcp",
        json_response: bool = False,
        security: Any = None,
        **uvicorn_options: Any,
    ) -> None:
        """Serve the MCP endpoint with uvicorn (bound to loopback unless told otherwise). `security`,
        an `HttpSecurity`, sets who may connect and the limits (body size, sessions, requests at once,
        bytes kept for resumption).

        `uvicorn_options` go to `uvicorn.run`. Two defaults differ from uvicorn's: no access log
        (uvicorn formats each line's arguments, quoting the path, even when the log level hides it)
        and no proxy-headers middleware (it rewrites every request's scope, for client addresses
        that MCP never reads). Together they are about 5% of answering a small request. Pass
        `access_log=True`, or `proxy_headers=True` behind a proxy whose client addresses you log.
        """
        import uvicorn

        for option, value in UVICORN_DEFAULTS.items():
            uvicorn_options.setdefault(option, value)
        app = self.http_app(path=path, security=security, json_response=json_response)
        uvicorn.run(app, host=host, port=port, **uvicorn_options)

    def run_websocket(
        self, host: str = "127.0.0.1", port: int = 8000, *, uvloop: bool | None = None, **options: Any
    ) -> None:
        """Serve `ws://host:port/mcp` alone, with no ASGI server (`mcpbind[ws]`; SEP-1288, a
        proposal). `options` go to `mcpbind.transports.websocket.standalone.start` (`path`,
        `security`, `options`: a `WebSocketOptions`). `run_http` serves WebSockets on its path too."""
        from ..transports.websocket.standalone import serve_forever

        with asyncio.Runner(loop_factory=_loop_factory(uvloop)) as runner:
            runner.run(serve_forever(self, host, port, **options))

    def run_stdio(self, *, uvloop: bool | None = None, max_line: int | None = None) -> None:
        """Serve stdin/stdout until stdin closes, on uvloop when it is installed (`uvloop=False`: the
        default asyncio loop; `True`: uvloop or ImportError). uvloop halves the cost of the pipes.
        `max_line`: the largest message read, in bytes (default 16 MiB); a longer one is refused."""
        with asyncio.Runner(loop_factory=_loop_factory(uvloop)) as runner:
            runner.run(self.serve_stdio(max_line=max_line))


def _hints(fn: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(fn)
    except Exception:  # hints that do not resolve: no context parameter to find
        return {}


def _loop_factory(uvloop: bool | None) -> Callable[[], asyncio.AbstractEventLoop] | None:
    if uvloop is False:
        return None
    try:
        import uvloop as module
    except ImportError:
        if uvloop:
            raise
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = module.new_event_loop
    return factory
