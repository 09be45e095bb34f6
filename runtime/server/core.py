"""The MCP server: tools, resources, prompts and completions from typed functions, served in every era.

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
import base64
import contextvars
import inspect
import logging
import typing
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Final, TypeVar

import msgspec
from msgspec import UNSET, UnsetType

from .. import wire
from ..aio.peer import ROUTE, MessageTransport, Peer
from ..errors import RESOURCE_NOT_FOUND, InvalidParams, McpError, MethodNotFound
from ..protocol import revisions
from ..protocol.endpoint import IncomingNotification, IncomingRequest
from ..protocol.jsonrpc import INTERNAL_ERROR, PARSE_ERROR, RequestId, encode_error, encode_result
from ..protocol.request_state import PRINCIPAL, StateSealer, params_digest
from .signature import Signature, inspect_function
from .uritemplate import UriTemplate

__all__ = ["Server", "Context", "Connection", "ToolError", "ElicitOutcome", "LOG_LEVELS", "UVICORN_DEFAULTS"]

log = logging.getLogger("mcpbind.server")

F = TypeVar("F", bound=Callable[..., Any])

UVICORN_DEFAULTS: Final[dict[str, Any]] = {
    # Streams (GET, subscriptions) stay open until their clients leave: bound the wait on shutdown.
    "timeout_graceful_shutdown": 3,
    "access_log": False,
    "proxy_headers": False,
}
"""What `Server.run_http` passes to uvicorn unless told otherwise."""
_NUMBERS: Final = (int, float)
_TOKENS: Final = (str, int, float)
LOG_LEVELS: Final = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")


class ToolError(Exception):
    """Raised by a tool to report a failure the model should see (a result with `isError: true`)."""


@dataclass(frozen=True)
class ElicitOutcome:
    """The user's answer to an elicitation: `action` is accept, decline or cancel."""

    action: str
    content: dict[str, Any] | None = None


class _NeedInput(Exception):
    """A stateless handler asked for input it does not have yet: the request answers InputRequiredResult."""

    def __init__(self, key: str, request: dict[str, Any]) -> None:
        super().__init__(key)
        self.key = key
        self.request = request


# -- registrations ---------------------------------------------------------------------------------


@dataclass
class _Tool:
    name: str
    fn: Callable[..., Any]
    signature: Signature
    definition: dict[str, Any]


@dataclass
class _Resource:
    uri: str
    fn: Callable[..., Any]
    definition: dict[str, Any]
    mime_type: str | None
    ttl_ms: int
    cache_scope: str


@dataclass
class _Template:
    template: UriTemplate
    fn: Callable[..., Any]
    definition: dict[str, Any]
    mime_type: str | None
    ttl_ms: int
    cache_scope: str
    context_param: str | None


@dataclass
class _Prompt:
    name: str
    fn: Callable[..., Any]
    signature: Signature
    definition: dict[str, Any]


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


_asdict: Final = msgspec.structs.asdict


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


def _text(value: Any) -> dict[str, Any]:
    return {"type": "text", "text": value if isinstance(value, str) else msgspec.json.encode(value).decode()}


def _content_list(value: Any) -> list[dict[str, Any]]:
    """Tool/prompt return values as content blocks (JSON form)."""
    if value is None:
        return []
    if isinstance(value, list):
        return [b for item in value for b in _content_list(item)]
    if isinstance(value, msgspec.Struct):
        return [wire.to_builtins(value)]
    if isinstance(value, dict) and isinstance(value.get("type"), str):
        return [value]
    return [_text(value)]


# -- the request context ---------------------------------------------------------------------------


class Context:
    """What a handler knows of the request it serves, and what it may do while serving it."""

    def __init__(
        self,
        conn: Connection,
        request_id: RequestId,
        revision: str,
        meta: dict[str, Any] | None,
        client_capabilities: Any,
        answers: dict[str, Any] | None = None,
    ) -> None:
        self._conn = conn
        self.request_id = request_id
        self.revision = revision
        self.module: ModuleType = revisions.module(revision)
        self.stateless = revision in revisions.MODERN
        self.meta: dict[str, Any] = meta or {}
        # A dict, or the typed form decoded from `_meta`, made a dict when a handler first asks.
        self._client_caps = client_capabilities
        self._answers = answers if answers is not None else {}
        self._asked = 0
        self._needed: dict[str, dict[str, Any]] = {}
        self._consumed: set[str] = set()
        self.progress_token = self.meta.get("progressToken")

    @property
    def client_capabilities(self) -> dict[str, Any]:
        """What the client offers (sampling, elicitation, roots...), in wire form."""
        caps = self._client_caps
        if type(caps) is not dict:
            caps = self._client_caps = wire.to_builtins(caps) or {}
        return caps  # type: ignore[no-any-return]

    @property
    def server(self) -> Server:
        return self._conn.server

    async def progress(self, progress: float, total: float | None = None, message: str | None = None) -> None:
        """Report progress, if the client asked for it (`progressToken`)."""
        token = self.progress_token
        if token is None:
            return
        params_type = self.module.ProgressNotificationParams
        if (
            type(progress) in _NUMBERS
            and (total is None or type(total) in _NUMBERS)
            and (message is None or (type(message) is str and "message" in params_type.__struct_fields__))
            and type(token) in _TOKENS
        ):
            # Every value of exactly its declared type: the params are built as their type, which
            # conversion would give as well, without a second pass to check them.
            body = params_type(progress_token=token, progress=progress)
            if total is not None:
                body.total = total
            if message is not None:
                body.message = message
            await self._conn.peer.notify("notifications/progress", body)
            return
        params = _drop_none(
            {"progressToken": token, "progress": progress, "total": total, "message": message}
        )
        await self._conn.notify("notifications/progress", params, self.module)

    async def log(self, level: str, data: Any, logger: str | None = None) -> None:
        """Send a log message to the client, if its level is at or above the one the client chose."""
        if level not in LOG_LEVELS:
            raise ValueError(f"unknown log level {level!r}")
        wanted = self.meta.get(revisions.META_LOG_LEVEL) if self.stateless else self._conn.log_level
        if self.stateless and wanted is None:
            return  # 2026-07-28: no level in the request means no log messages for it
        if wanted is not None and LOG_LEVELS.index(level) < LOG_LEVELS.index(wanted):
            return
        await self._conn.notify(
            "notifications/message", _drop_none({"level": level, "data": data, "logger": logger}), self.module
        )

    # Input from the user or the model: a server->client request on stateful revisions, an
    # InputRequiredResult (and a re-run of the handler with the answers) on stateless ones.

    async def _ask(
        self, method: str, capability: str, params: dict[str, Any], result: str, key: str | None
    ) -> Any:
        if capability not in self.client_capabilities:
            raise McpError(
                f"the client does not support {method} (no `{capability}` capability)",
                code=revisions.MISSING_REQUIRED_CLIENT_CAPABILITY if self.stateless else INTERNAL_ERROR,
                data={"requiredCapabilities": {capability: {}}} if self.stateless else UNSET,
            )
        if key is None:
            key = f"{method.split('/')[0]}-{self._asked}"
        self._asked += 1
        if self.stateless:
            if key in self._answers:
                self._consumed.add(key)
                return wire.convert(self._answers[key], getattr(self.module, result))
            # Every ask made before the handler stops (several, under asyncio.gather) is collected,
            # so that one InputRequiredResult carries them all.
            self._needed[key] = {"method": method, "params": params}
            raise _NeedInput(key, self._needed[key])
        return await self._conn.ask(method, params, getattr(self.module, result), self.module)

    async def elicit(
        self, message: str, schema: dict[str, Any], *, url: str | None = None, key: str | None = None
    ) -> ElicitOutcome:
        """Ask the user; `schema` is the requested (flat) JSON Schema of an object. With `url`, ask the
        user to visit it instead (URL mode). `key` names the input request (stateless revisions)."""
        params: dict[str, Any] = {"message": message, "requestedSchema": schema}
        if url is not None:
            self._url_mode_offered()
            elicitation_id = key or f"e{self._asked}"
            params = {"mode": "url", "message": message, "url": url, "elicitationId": elicitation_id}
        answer = await self._ask("elicitation/create", "elicitation", params, "ElicitResult", key)
        content = answer.content if answer.content is not UNSET else None
        return ElicitOutcome(answer.action, content)

    def _url_mode_offered(self) -> None:
        """URL-mode elicitation exists from 2025-11-25 on, and only for a client that declares it
        (`elicitation.url`; an empty `elicitation` means form mode alone)."""
        if not hasattr(self.module, "ElicitRequestURLParams"):
            raise McpError(f"URL-mode elicitation is not part of protocol revision {self.revision}")
        elicitation = self.client_capabilities.get("elicitation")
        if not isinstance(elicitation, dict) or "url" not in elicitation:
            raise McpError(
                "the client does not support URL-mode elicitation (no `elicitation.url` capability)",
                code=revisions.MISSING_REQUIRED_CLIENT_CAPABILITY if self.stateless else INTERNAL_ERROR,
                data={"requiredCapabilities": {"elicitation": {"url": {}}}} if self.stateless else UNSET,
            )

    def close_sse_stream(self, retry_ms: int = 1000) -> None:
        """On Streamable HTTP (stateful sessions with resumable streams), close the connection that
        carries this request's answer after what is queued, telling the client to reconnect in
        `retry_ms` and resume with Last-Event-ID (SSE polling). Elsewhere, nothing happens."""
        poll = getattr(ROUTE.get(), "poll", None)
        if poll is not None:
            poll(retry_ms)

    async def complete_elicitation(self, elicitation_id: str) -> None:
        """Tell the client that a URL-mode elicitation finished out of band (where the revision has
        `notifications/elicitation/complete`)."""
        if not self.stateless:
            await self._conn.notify(
                "notifications/elicitation/complete", {"elicitationId": elicitation_id}, self.module
            )

    async def sample(
        self, messages: Sequence[dict[str, Any]], max_tokens: int, *, key: str | None = None, **options: Any
    ) -> Any:
        """Ask the client's model; returns the revision's CreateMessageResult."""
        params = {"messages": list(messages), "maxTokens": max_tokens, **options}
        return await self._ask("sampling/createMessage", "sampling", params, "CreateMessageResult", key)

    async def list_roots(self, *, key: str | None = None) -> list[Any]:
        """The client's roots (the revision's Root structs)."""
        result = await self._ask("roots/list", "roots", {}, "ListRootsResult", key)
        return list(result.roots)


# -- the server ------------------------------------------------------------------------------------


class Server:
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
        self._tools: dict[str, _Tool] = {}
        self._resources: dict[str, _Resource] = {}
        self._templates: list[_Template] = []
        self._prompts: dict[str, _Prompt] = {}
        self._completions: dict[tuple[str, str], Callable[..., Any]] = {}
        self._connections: set[Connection] = set()
        self._list_cache: dict[tuple[str, str], tuple[Any, ...]] = {}
        self._meta_cache: dict[Any, Any] = {}
        self._caps: dict[str, Any] | None = None
        self._missing: dict[str, str] = {}
        """Per method, the feature it needs that is not offered ("": offered), while `_caps` holds."""
        self.on_roots_changed: Callable[[], Awaitable[None]] | None = None
        """Called when a client says its roots changed (`notifications/roots/list_changed`)."""

    # -- registration ------------------------------------------------------------------------------

    @property
    def info(self) -> dict[str, Any]:
        return _drop_none({"name": self.name, "version": self.version, "title": self.title})

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
            definition = _drop_none(
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
            self._tools[tool_name] = _Tool(tool_name, fn, sig, definition)
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
            definition = _drop_none(
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
                    _Template(
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
                self._resources[uri] = _Resource(
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
                _drop_none(
                    {
                        "name": arg,
                        "required": arg in required,
                        "description": sig.input_schema["properties"].get(arg, {}).get("description"),
                    }
                )
                for arg in sig.names
            ]
            definition = _drop_none(
                {
                    "name": prompt_name,
                    "title": title,
                    "description": description or inspect.getdoc(fn),
                    "arguments": arguments,
                }
            )
            self._prompts[prompt_name] = _Prompt(prompt_name, fn, sig, definition)
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

    def _server_meta(self, result_type: Any) -> Any:
        """The `_meta` naming this server on stateless results, converted once per result type (an
        object of the exact type passes conversion untouched); a plain dict where the type is not a
        single Struct with a `_meta` member."""
        cached = self._meta_cache.get(result_type)
        if cached is None:
            cached = {revisions.META_SERVER: self.info}
            members = [m.type for m in getattr(result_type, "_union_", ())] or [result_type]
            found: set[Any] = set()
            for member in members:
                if not (isinstance(member, type) and issubclass(member, msgspec.Struct)):
                    found.add(None)
                    continue
                for f in msgspec.structs.fields(member):
                    if f.encode_name == "_meta":
                        found.update(t for t in typing.get_args(f.type) or (f.type,) if t is not UnsetType)
            if len(found) == 1 and None not in found:
                cached = wire.convert(cached, found.pop())
            self._meta_cache[result_type] = cached
        return cached

    # -- serving -----------------------------------------------------------------------------------

    async def serve(self, transport: MessageTransport) -> None:
        """Serve one connection until its transport ends."""
        conn = Connection(self, transport)
        self._connections.add(conn)
        try:
            await conn.peer.run()
        finally:
            self._connections.discard(conn)
            await transport.close()

    async def serve_stdio(self, *, max_line: int | None = None) -> None:
        from ..transports.stdio import DEFAULT_MAX_LINE, StdioServerTransport

        transport = StdioServerTransport(max_line=max_line or DEFAULT_MAX_LINE)
        await transport.start()
        await self.serve(transport)

    def http_app(self, *, path: str = "/mcp", security: Any = None, json_response: bool = False) -> Any:
        """The ASGI application serving this server's MCP endpoint (mount it anywhere)."""
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

    def run_stdio(self, *, uvloop: bool | None = None, max_line: int | None = None) -> None:
        """Serve stdin/stdout until stdin closes, on uvloop when it is installed (`uvloop=False`: the
        default asyncio loop; `True`: uvloop or ImportError). uvloop halves the cost of the pipes.
        `max_line`: the largest message read, in bytes (default 16 MiB); a longer one is refused."""
        with asyncio.Runner(loop_factory=_loop_factory(uvloop)) as runner:
            runner.run(self.serve_stdio(max_line=max_line))

    # -- method implementations (revision-neutral JSON data in, JSON data out) ---------------------

    def _page(self, items: Sequence[Any], cursor: str | None) -> tuple[Sequence[Any], str | None]:
        start = 0
        if cursor:
            try:
                start = int(base64.urlsafe_b64decode(cursor.encode()).decode())
            except ValueError:
                raise InvalidParams(f"invalid cursor {cursor!r}") from None
            if not 0 <= start <= len(items):
                raise InvalidParams(f"invalid cursor {cursor!r}")
        end = start + self.page_size
        nxt = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(items) else None
        return items[start:end], nxt

    def _listed(self, revision: str, kind: str, type_name: str) -> tuple[Any, ...]:
        """The registry's definitions converted for `revision`, once per change of the registry."""
        key = (revision, kind)
        cached = self._list_cache.get(key)
        if cached is None:
            mod = revisions.module(revision)
            source: Iterable[dict[str, Any]]
            if kind == "tools":
                source = (t.definition for t in self._tools.values())
            elif kind == "resources":
                source = (r.definition for r in self._resources.values())
            elif kind == "templates":
                source = (t.definition for t in self._templates)
            else:
                source = (p.definition for p in self._prompts.values())
            tp = getattr(mod, type_name)
            cached = self._list_cache[key] = tuple(wire.convert(d, tp) for d in source)
        return cached

    async def call_tool(
        self,
        name: str,
        arguments: dict[str, Any] | None,
        ctx: Context | None,
        module: ModuleType | None = None,
    ) -> dict[str, Any] | msgspec.Struct:
        """The result of a tools/call: a dict in wire form, converted (validated) by the caller, or, for
        the common text answer, the result type itself, built from values that cannot be wrong. `ctx`
        is None only for a tool that takes none (`answers_directly`); `module` then names the revision."""
        tool = self._tools.get(name)
        if tool is None:
            raise InvalidParams(f"Unknown tool: {name}")
        sig = tool.signature
        try:
            args = msgspec.convert(arguments or {}, sig.arguments)
        except msgspec.ValidationError as exc:
            return {"content": [_text(f"Invalid arguments for tool {name}: {exc}")], "isError": True}
        kwargs = _asdict(args)  # the Struct's fields are the function's parameters, in order
        if sig.context_param:
            if ctx is None:
                raise TypeError(f"tool {name} takes a Context and was called without one")
            kwargs[sig.context_param] = ctx
        try:
            value = tool.fn(**kwargs)
            if sig.is_async or inspect.isawaitable(value):
                value = await value
        except (McpError, _NeedInput, asyncio.CancelledError):
            raise
        except ToolError as exc:
            return {"content": [_text(str(exc))], "isError": True}
        except Exception as exc:
            log.warning("tool %s failed", name, exc_info=True)
            return {"content": [_text(f"{type(exc).__name__}: {exc}")], "isError": True}
        if sig.output_schema is not None:
            plain = wire.to_builtins(value)
            structured = {"result": plain} if sig.wraps_output else plain
            return {"content": [_text(plain)], "structuredContent": structured}
        if type(value) is str:
            mod = ctx.module if ctx is not None else module
            assert mod is not None
            return mod.CallToolResult(content=[mod.TextContent(text=value)])  # type: ignore[no-any-return]
        return {"content": _content_list(value)}

    def takes_no_context(self, name: str | None) -> bool:
        """A tool of that name is registered and takes no `Context`."""
        tool = self._tools.get(name) if name is not None else None
        return tool is not None and not tool.signature.context_param

    def answers_directly(self, params: Any) -> bool:
        """A stateless `tools/call` with these params can be answered without a connection: its tool
        takes no `Context` (so it cannot ask the client anything, report progress or log), and the
        request carries no input responses or request state to check."""
        if not self.takes_no_context(params.name):
            return False
        # UNSET is falsy: only a non-empty state or answers need the multi round-trip path.
        return not (getattr(params, "request_state", UNSET) or getattr(params, "input_responses", UNSET))

    async def call_direct(self, rid: RequestId, params: Any, revision: str) -> bytes:
        """The answer to a stateless `tools/call` that `answers_directly` allows: exactly what a
        connection would answer, with none of its machinery (no peer, context or request tracking)."""
        try:
            mod = revisions.module(revision)
            result = await self.call_tool(params.name, _opt(params.arguments), None, mod)
            return self._answer(rid, "tools/call", result, mod.REQUESTS["tools/call"].result_type, revision)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            return _failure(rid, "tools/call", exc)

    def _answer(
        self, rid: RequestId, method: str, result: Any, result_type: Any, modern: str | None
    ) -> bytes:
        """A handler's result as its JSON-RPC answer: a dict is shaped and validated as `result_type`, a
        typed stateless result gets the server's `_meta`."""
        if isinstance(result, dict):
            if modern is not None:
                result = self._modern_result(method, result, result_type)
            result = wire.convert(result, result_type)
        elif modern is not None and getattr(result, "meta", None) is UNSET:
            result.meta = self._server_meta(type(result))  # a typed result (resultType set)
        return encode_result(rid, result)

    def _modern_result(self, method: str, result: dict[str, Any], result_type: Any) -> dict[str, Any]:
        out = dict(result)
        meta = result.get("_meta")
        if not meta:
            out["_meta"] = self._server_meta(result_type)
        elif revisions.META_SERVER not in meta:
            out["_meta"] = {**meta, revisions.META_SERVER: self.info}
        out.setdefault("resultType", "complete")
        if out["resultType"] == "complete" and method in _CACHEABLE:
            out.setdefault("ttlMs", self.list_ttl_ms)
            out.setdefault("cacheScope", "public")
        return out

    async def read_resource(self, uri: str, ctx: Context) -> tuple[dict[str, Any], _Resource | _Template]:
        entry: _Resource | _Template | None = self._resources.get(uri)
        args: dict[str, Any] = {}
        if entry is None:
            for template in self._templates:
                match = template.template.match(uri)
                if match is not None:
                    entry, args = template, match
                    break
        if entry is None:
            if ctx.stateless:
                raise InvalidParams(f"Resource not found: {uri}", data={"uri": uri})
            raise McpError(f"Resource not found: {uri}", code=RESOURCE_NOT_FOUND, data={"uri": uri})
        if isinstance(entry, _Template) and entry.context_param:
            args[entry.context_param] = ctx
        value = entry.fn(**args)
        if inspect.isawaitable(value):
            value = await value
        contents: list[dict[str, Any]] = []
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict):
                contents.append({"uri": uri, **item})
            elif isinstance(item, bytes):
                contents.append(
                    _drop_none(
                        {"uri": uri, "mimeType": entry.mime_type, "blob": base64.b64encode(item).decode()}
                    )
                )
            else:
                contents.append(_drop_none({"uri": uri, "mimeType": entry.mime_type, "text": str(item)}))
        return {"contents": contents}, entry

    async def get_prompt(self, name: str, arguments: dict[str, Any] | None, ctx: Context) -> dict[str, Any]:
        prompt = self._prompts.get(name)
        if prompt is None:
            raise InvalidParams(f"Unknown prompt: {name}")
        try:
            args = msgspec.convert(arguments or {}, prompt.signature.arguments, strict=False)
        except msgspec.ValidationError as exc:
            raise InvalidParams(f"Invalid arguments for prompt {name}: {exc}") from None
        kwargs = _asdict(args)
        if prompt.signature.context_param:
            kwargs[prompt.signature.context_param] = ctx
        value = prompt.fn(**kwargs)
        if inspect.isawaitable(value):
            value = await value
        description = prompt.definition.get("description")
        messages: list[dict[str, Any]] = []
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict) and "role" in item:
                messages.append(item)
            else:
                messages.append({"role": "user", "content": _content_list(item)[0]})
        return _drop_none({"description": description, "messages": messages})

    async def complete(
        self, ref: dict[str, Any], argument: dict[str, Any], context: dict[str, Any] | None
    ) -> dict[str, Any]:
        kind = "prompt" if ref.get("type") == "ref/prompt" else "resource"
        key = ref.get("name") if kind == "prompt" else ref.get("uri")
        fn = self._completions.get((kind, str(key)))
        values: list[str] = []
        if fn is not None:
            out = fn(argument.get("name"), argument.get("value", ""), (context or {}).get("arguments", {}))
            if inspect.isawaitable(out):
                out = await out
            values = list(out)
        return {"completion": {"values": values[:100], "total": len(values), "hasMore": len(values) > 100}}


def _hints(fn: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(fn)
    except Exception:  # hints that do not resolve: no context parameter to find
        return {}


# -- one connection ---------------------------------------------------------------------------------


class _PeekMeta(msgspec.Struct):
    version: str | None = msgspec.field(default=None, name=revisions.META_VERSION)


class _PeekParams(msgspec.Struct):
    meta: _PeekMeta | None = msgspec.field(default=None, name="_meta")


_peek = msgspec.json.Decoder(_PeekParams)


class Connection:
    """The server's side of one connection: the negotiated legacy session, or per-request modern state."""

    def __init__(self, server: Server, transport: MessageTransport, peer: type[Peer] = Peer) -> None:
        self.server = server
        self.peer = peer(
            transport,
            on_request=self.on_request,
            on_notification=self.on_notification,
            max_concurrency=server.max_concurrency,
            max_queued=server.max_queued,
            allow_batch=self._batches_allowed,
            # Answered as they are read, limits or not: a ping must get through a full queue.
            serial=frozenset({"initialize", "ping"}),
        )
        self.revision: str | None = None
        """The stateful revision negotiated by `initialize`; None while there is no session."""
        self.client_caps: dict[str, Any] = {}
        self.client_info: dict[str, Any] = {}
        self.initialized = False
        self.log_level: str | None = None
        self.subscriptions: set[str] = set()
        self.listeners: dict[RequestId, tuple[str, dict[str, Any], object | None]] = {}
        self._pending_notes: set[asyncio.Task[None]] = set()

    def is_idle(self) -> bool:
        """Nothing is running, awaited or listening, and no session was negotiated: a stateless
        connection in this state carries nothing of the requests it served."""
        return (
            self.revision is None and not self.listeners and not self._pending_notes and self.peer.is_idle()
        )

    # kept for transports/http until it moves to `Connection.is_idle()` and `Connection.revision`
    idle = is_idle

    @property
    def legacy(self) -> str | None:  # kept for transports/http until it moves to `Connection.revision`
        return self.revision

    @legacy.setter
    def legacy(self, revision: str | None) -> None:
        self.revision = revision

    def _batches_allowed(self) -> bool:
        return self.revision is not None and hasattr(revisions.module(self.revision), "JSONRPCBatchRequest")

    # -- outgoing ----------------------------------------------------------------------------------

    async def notify(
        self, method: str, params: dict[str, Any], mod: ModuleType, *, check: bool = True
    ) -> None:
        spec = mod.NOTIFICATIONS.get(method)
        if spec is None:
            return  # the revision has no such notification
        body = wire.convert(params, spec.params_type) if spec.params_type is not None else None
        await self.peer.notify(method, body)

    async def ask(self, method: str, params: dict[str, Any], result_type: Any, mod: ModuleType) -> Any:
        spec = mod.REQUESTS[method]
        body = wire.convert(params, spec.params_type)
        decoder = wire.decoder(result_type)
        return await self.peer.request(
            method, body, decoder.decode, timeout=300.0, on_cancel=lambda rid: self._cancel_sent(rid, mod)
        )

    async def _cancel_sent(self, rid: RequestId, mod: ModuleType) -> None:
        await self.notify("notifications/cancelled", {"requestId": rid, "reason": "cancelled"}, mod)

    def _spawn_note(self, coro: Coroutine[Any, Any, None], route: object | None) -> None:
        """Send a notification that belongs to no request (route None: the session's own stream) or to
        a subscription stream (`route`), whatever request is being served when it is triggered."""
        context = contextvars.copy_context()
        context.run(ROUTE.set, route)
        task = asyncio.get_running_loop().create_task(coro, context=context)
        self._pending_notes.add(task)
        task.add_done_callback(self._pending_notes.discard)

    def list_changed(self, kind: str) -> None:
        method = {
            "tools": "notifications/tools/list_changed",
            "resources": "notifications/resources/list_changed",
            "prompts": "notifications/prompts/list_changed",
        }[kind]
        if self.revision is not None and self.initialized:
            self._spawn_note(self.notify(method, {}, revisions.module(self.revision)), None)
        flag = {
            "tools": "toolsListChanged",
            "resources": "resourcesListChanged",
            "prompts": "promptsListChanged",
        }[kind]
        for rid, (revision, wanted, route) in self.listeners.items():
            if wanted.get(flag):
                meta = {"_meta": {revisions.META_SUBSCRIPTION: rid}}
                self._spawn_note(self.notify(method, meta, revisions.module(revision)), route)

    async def resource_updated(self, uri: str) -> None:
        method = "notifications/resources/updated"
        if self.revision is not None and uri in self.subscriptions:
            self._spawn_note(self.notify(method, {"uri": uri}, revisions.module(self.revision)), None)
        for rid, (revision, wanted, route) in self.listeners.items():
            if uri in (wanted.get("resourceSubscriptions") or ()):
                params = {"uri": uri, "_meta": {revisions.META_SUBSCRIPTION: rid}}
                self._spawn_note(self.notify(method, params, revisions.module(revision)), route)

    # -- incoming ----------------------------------------------------------------------------------

    async def on_notification(self, event: IncomingNotification) -> None:
        method = event.method
        if method == "notifications/initialized":
            self.initialized = True
        elif method == "notifications/roots/list_changed":
            if self.server.on_roots_changed is not None:
                await self.server.on_roots_changed()
        elif method == "notifications/cancelled":
            try:
                params = msgspec.json.decode(event.params or b"{}")
                rid = params["requestId"]
                # A cancelled listen stops at once, not when its handler next runs: a change made by
                # the very next request must not reach it.
                self.listeners.pop(rid, None)
                self.peer.cancel_incoming(rid)
            except (msgspec.DecodeError, RecursionError, KeyError, TypeError):
                log.warning("ignoring malformed notifications/cancelled")

    def _modern_revision(self, event: IncomingRequest) -> str | None:
        if event.params is None:
            return None
        try:
            peek = _peek.decode(event.params)
        except msgspec.ValidationError:
            return None
        except (msgspec.DecodeError, RecursionError) as exc:
            raise _unparsable(exc) from None
        return peek.meta.version if peek.meta is not None else None

    async def on_request(self, event: IncomingRequest) -> bytes | None:
        rid = event.id
        try:
            if event.method == "initialize":
                return encode_result(rid, self._initialize(event))
            if self.revision is not None:
                return await self._dispatch(event, self.revision, None)
            requested = event.revision or self._modern_revision(event)
            if requested is None:
                if event.method == "ping":
                    return encode_result(rid, {})
                raise InvalidParams(
                    "Invalid params: no session, and no protocol version in "
                    f"`_meta.{revisions.META_VERSION}`: send `initialize` first, or carry the version in "
                    f"every request (this server speaks {', '.join(self.server.revisions)})"
                )
            if requested not in self.server.revisions or not revisions.is_modern(requested):
                # Every version the server speaks, both eras: a dual-era client falls back to
                # initialize when none of the stateless ones suits it.
                raise McpError(
                    "Unsupported protocol version",
                    code=revisions.UNSUPPORTED_PROTOCOL_VERSION,
                    data={"supported": sorted(self.server.revisions, reverse=True), "requested": requested},
                )
            return await self._dispatch(event, requested, requested)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            return _failure(rid, event.method, exc)

    def _initialize(self, event: IncomingRequest) -> Any:
        stateful = [r for r in self.server.revisions if not revisions.is_modern(r)]
        if not stateful:
            raise MethodNotFound(
                f"Method not found: initialize (this server speaks only {', '.join(self.server.revisions)}, "
                "which carry the version in every request)"
            )
        newest = revisions.module(stateful[-1])
        try:
            params = wire.decoder(newest.InitializeRequestParams).decode(event.params or b"{}")
        except msgspec.ValidationError as exc:
            raise InvalidParams(f"Invalid params: {exc}") from None
        except (msgspec.DecodeError, RecursionError) as exc:
            raise _unparsable(exc) from None
        revision = params.protocol_version if params.protocol_version in stateful else stateful[-1]
        self.revision = revision
        mod = revisions.module(revision)
        self.client_caps = _caps_of(mod, wire.to_builtins(params.capabilities))
        self.client_info = wire.to_builtins(params.client_info)
        result = _drop_none(
            {
                "protocolVersion": revision,
                "capabilities": self.server.capabilities(),
                "serverInfo": self.server.info,
                "instructions": self.server.instructions,
            }
        )
        return wire.convert(result, mod.InitializeResult)

    async def _dispatch(self, event: IncomingRequest, revision: str, modern: str | None) -> bytes | None:
        mod = revisions.module(revision)
        spec = mod.REQUESTS.get(event.method)
        if spec is None or "client_to_server" not in spec.directions:
            raise MethodNotFound(f"Method not found: {event.method}")
        try:
            if spec.params_type is None:
                params = None
            elif event.decoded is not None and event.revision == revision:
                params = event.decoded  # decoded with the whole message by the transport
            elif event.params is None:
                if spec.params_required:
                    raise InvalidParams(f"Invalid params: {event.method} requires params")
                params = None
            else:
                params = wire.decoder(spec.params_type).decode(event.params)
        except msgspec.ValidationError as exc:
            raise InvalidParams(f"Invalid params: {exc}") from None
        except (msgspec.DecodeError, RecursionError) as exc:
            raise _unparsable(exc) from None
        meta: dict[str, Any] | None = None
        if params is not None:
            raw_meta = getattr(params, "meta", None)
            meta = raw_meta if isinstance(raw_meta, dict) else None  # this request's own: no copy
        caps = self.client_caps if modern is None else (meta or {}).get(revisions.META_CAPABILITIES) or {}
        self._check_offered(event.method)
        ctx = Context(self, event.id, revision, meta, caps)
        result = await self._handle(event.method, params, ctx, event)
        if result is None:
            return None
        return self.server._answer(event.id, event.method, result, spec.result_type, modern)

    def _check_offered(self, method: str) -> None:
        """A method of a feature the server did not declare is not found (capability enforcement)."""
        server = self.server
        if server._caps is None:
            server.capabilities()  # the registry changed: what is offered is worked out again
        missing = server._missing.get(method)
        if missing is None:
            missing = server._missing[method] = _missing_feature(method, server.capabilities())
        if missing:
            raise MethodNotFound(f"Method not found: {method} (this server does not offer {missing})")

    async def _handle(self, method: str, params: Any, ctx: Context, event: IncomingRequest) -> Any:
        server = self.server
        if method == "tools/call":  # by far the most frequent
            return await self._with_input(
                ctx, params, method, server.call_tool, params.name, _opt(params.arguments)
            )
        if method == "ping":
            return {}
        if method == "server/discover":
            modern = [r for r in server.revisions if revisions.is_modern(r)]
            return _drop_none(
                {
                    "supportedVersions": modern + [r for r in server.revisions if r not in modern],
                    "capabilities": server.capabilities(),
                    "instructions": server.instructions,
                }
            )
        if method == "logging/setLevel":
            self.log_level = params.level
            return {}
        if method in ("tools/list", "resources/list", "resources/templates/list", "prompts/list"):
            kind, type_name, key = _LISTS[method]
            items, nxt = server._page(server._listed(ctx.revision, kind, type_name), _cursor(params))
            return _drop_none({key: list(items), "nextCursor": nxt})
        if method == "prompts/get":
            return await self._with_input(
                ctx, params, method, server.get_prompt, params.name, _opt(params.arguments)
            )
        if method == "resources/read":

            async def read(c: Context) -> dict[str, Any]:
                result, entry = await server.read_resource(params.uri, c)
                if c.stateless:
                    result["ttlMs"], result["cacheScope"] = entry.ttl_ms, entry.cache_scope
                return result

            return await self._with_input(ctx, params, method, read)
        if method == "resources/subscribe":
            self.subscriptions.add(params.uri)
            return {}
        if method == "resources/unsubscribe":
            self.subscriptions.discard(params.uri)
            return {}
        if method == "completion/complete":
            return await server.complete(
                wire.to_builtins(params.ref),
                wire.to_builtins(params.argument),
                wire.to_builtins(_opt(getattr(params, "context", UNSET))),
            )
        if method == "subscriptions/listen":
            return await self._listen(ctx, params, event)
        raise MethodNotFound(f"Method not found: {method}")

    def _with_input(
        self,
        ctx: Context,
        params: Any,
        method: str,
        run: Callable[..., Awaitable[dict[str, Any] | msgspec.Struct]],
        *args: Any,
    ) -> Awaitable[dict[str, Any] | msgspec.Struct]:
        """Run a handler, `run(*args, ctx)`; on stateless revisions, turn a request for input into
        InputRequiredResult. A session's handler is awaited as it is, with no frame around it."""
        if not ctx.stateless:
            return run(*args, ctx)
        return self._gathering_input(ctx, params, method, run, args)

    async def _gathering_input(
        self,
        ctx: Context,
        params: Any,
        method: str,
        run: Callable[..., Awaitable[dict[str, Any] | msgspec.Struct]],
        args: tuple[Any, ...],
    ) -> dict[str, Any] | msgspec.Struct:
        state = getattr(params, "request_state", UNSET)
        responses = getattr(params, "input_responses", UNSET)
        # The digest binds a sealed state to its request: computed only when a state is opened or sealed.
        digest: str | None = None
        answers: dict[str, Any] = {}
        if state is not UNSET and state:
            digest = params_digest(wire.to_builtins(params))
            answers.update(self.server.sealer.open(state, method, digest, PRINCIPAL.get()))
        if responses is not UNSET and responses:
            answers.update(wire.to_builtins(responses))
        ctx._answers = answers
        try:
            return await run(*args, ctx)
        except _NeedInput:
            # Only answers the handler used travel on; anything else the client sent is ignored.
            kept = {k: v for k, v in answers.items() if k in ctx._consumed}
            if digest is None:
                digest = params_digest(wire.to_builtins(params))
            return {
                "resultType": "input_required",
                "inputRequests": dict(ctx._needed),
                "requestState": self.server.sealer.seal(method, digest, kept, PRINCIPAL.get()),
            }

    async def _listen(self, ctx: Context, params: Any, event: IncomingRequest) -> dict[str, Any]:
        wanted = wire.to_builtins(params.notifications)
        self.listeners[event.id] = (ctx.revision, wanted, ROUTE.get())
        try:
            await self.notify(
                "notifications/subscriptions/acknowledged",
                {"notifications": wanted, "_meta": {revisions.META_SUBSCRIPTION: event.id}},
                ctx.module,
            )
            await asyncio.Event().wait()  # until the client cancels the request, or the connection ends
        finally:
            self.listeners.pop(event.id, None)
        return {}


def _unparsable(exc: Exception) -> McpError:
    """Params that are no JSON after all: the envelope skips over them without checking their strings'
    UTF-8, and decoding them goes deeper into the stack than reading the envelope did (msgspec raises
    RecursionError, not DecodeError, on deep nesting). Bad JSON is a parse error wherever it is found."""
    detail = wire.TOO_DEEP if isinstance(exc, RecursionError) else str(exc)
    return McpError(f"Parse error: {detail}", code=PARSE_ERROR)


def _caps_of(mod: ModuleType, caps: dict[str, Any]) -> dict[str, Any]:
    """A client's capabilities as the negotiated revision has them: read with the newest revision's
    types, they are converted through the session's, which drops what that revision lacks (`tasks`
    before 2025-11-25, `elicitation` before 2025-06-18). URL-mode elicitation came with 2025-11-25,
    but 2025-06-18's `elicitation` is an open object that would keep a `url` member: dropped too."""
    try:
        kept = wire.to_builtins(wire.convert(caps, mod.ClientCapabilities))
    except msgspec.ValidationError:
        return caps  # valid for the newest revision: nothing of the session's depends on the rest
    elicitation = kept.get("elicitation")
    if isinstance(elicitation, dict) and not hasattr(mod, "ElicitRequestURLParams"):
        kept["elicitation"] = {k: v for k, v in elicitation.items() if k not in ("url", "form")}
    return kept  # type: ignore[no-any-return]


def _failure(rid: RequestId, method: str, exc: Exception) -> bytes:
    """The error answer to a request whose handler raised: its McpError, or an internal error (logged)."""
    if isinstance(exc, McpError):
        return encode_error(rid, exc.code, exc.message, exc.data)
    log.error("internal error answering %s", method, exc_info=exc)
    return encode_error(rid, INTERNAL_ERROR, "Internal error")


def _missing_feature(method: str, offered: dict[str, Any]) -> str:
    """The feature `method` belongs to when the server does not offer it, else ""."""
    feature = _FEATURES.get(method.split("/", 1)[0])
    if feature is None:
        return ""
    if feature not in offered or (
        method in ("resources/subscribe", "resources/unsubscribe") and not offered[feature].get("subscribe")
    ):
        return feature
    return ""


_FEATURES: Final = {
    "tools": "tools",
    "resources": "resources",
    "prompts": "prompts",
    "completion": "completions",
    "logging": "logging",
}
_CACHEABLE: Final = frozenset(
    {
        "server/discover",
        "tools/list",
        "resources/list",
        "resources/templates/list",
        "prompts/list",
        "resources/read",
    }
)
_LISTS: Final = {
    "tools/list": ("tools", "Tool", "tools"),
    "resources/list": ("resources", "Resource", "resources"),
    "resources/templates/list": ("templates", "ResourceTemplate", "resourceTemplates"),
    "prompts/list": ("prompts", "Prompt", "prompts"),
}


def _opt(value: Any) -> Any:
    return None if value is UNSET else value


def _cursor(params: Any) -> str | None:
    if params is None:
        return None
    cursor = getattr(params, "cursor", UNSET)
    return None if cursor is UNSET else str(cursor)


_Connection = Connection  # kept for transports/http until it moves to `mcpbind.server.session.Connection`
