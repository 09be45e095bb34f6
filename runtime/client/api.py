"""The MCP client's user API: connect, call tools, read resources, get prompts, list (cached), listen.

    async with Client.stdio("python", ["server.py"]) as client:
        result = await client.call_tool("add", {"a": 1, "b": 2})

How the era and revision are chosen (`mode`) is in `negotiate`; requests for input from the server
(sampling, elicitation, roots) reach the same callbacks in both eras (`inbound`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, Final

import msgspec
from msgspec import UNSET

from .. import __version__, wire
from ..aio.peer import Peer
from ..errors import McpError, MethodNotFound, SessionClosed
from ..methods import NotificationMethod, RequestMethod
from ..protocol import revisions
from ..protocol.endpoint import IncomingNotification, IncomingRequest, ResultDecoder
from ..protocol.headers import InvalidHeaderAnnotation, param_headers
from ..protocol.jsonrpc import INTERNAL_ERROR, RequestId
from ..protocol.request_state import params_digest
from ..transports.stdio import WRITE_WAIT
from .endpoint import ClientEndpoint
from .inbound import Callback, InputCallbacks
from .negotiate import Negotiation
from .transport import ClientTransport

__all__ = ["Client"]

_MAX_ROUNDS: Final = 16

log = logging.getLogger("mcpbind.client")


class Client(Negotiation):
    """A connection to one MCP server; see the module's docstring, and `negotiate` for `mode`."""

    def __init__(
        self,
        transport: ClientTransport,
        *,
        mode: str = "auto",
        name: str = "mcpbind",
        version: str = __version__,
        sampling: Callback | None = None,
        elicitation: Callback | None = None,
        roots: Callable[[], Awaitable[list[dict[str, Any]]]] | None = None,
        on_log: Callback | None = None,
        on_list_changed: Callable[[str], Awaitable[None]] | None = None,
        on_resource_updated: Callable[[str], Awaitable[None]] | None = None,
        log_level: str | None = None,
        request_timeout: float | None = 60.0,
        probe_timeout: float = 3.0,
        cache: bool = True,
    ) -> None:
        if mode not in ("auto", "legacy") and mode not in revisions.ALL:
            raise ValueError(f"mode must be 'auto', 'legacy' or a revision in {revisions.ALL}, not {mode!r}")
        self.transport = transport
        self.mode = mode
        self.info = {"name": name, "version": version}
        self._input = InputCallbacks(sampling, elicitation, roots)
        self._on_log = on_log
        self._on_list_changed = on_list_changed
        self._on_resource_updated = on_resource_updated
        self.log_level = log_level
        self.request_timeout = request_timeout
        self.probe_timeout = probe_timeout
        self.peer = self._new_peer()
        self.revision = ""
        self.module = None
        self.server_info = {}
        self.server_capabilities = {}
        self.instructions = None
        self.supported_versions = []
        self._reader: asyncio.Task[None] | None = None
        self._progress: dict[Any, Callable[[float, float | None, str | None], Awaitable[None]]] = {}
        self._tokens = itertools.count(1)
        self._cache: dict[tuple[str, str], tuple[float, Any]] | None = {} if cache else None
        self._acknowledged: asyncio.Event | None = None

    @classmethod
    def stdio(
        cls,
        command: str,
        args: list[str] | tuple[str, ...] = (),
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        stderr: str | None = None,
        max_line: int | None = None,
        **options: Any,
    ) -> Client:
        """A client of a server run as a subprocess. `stderr`: None or "inherit" (the server's stderr
        is ours), "capture" (kept: see `StdioClientTransport.stderr_text`) or "devnull" (dropped).
        `max_line`: the longest line read from the server, 16 MiB by default (None); a longer one
        fails the request it answers."""
        from ..transports.stdio import DEFAULT_MAX_LINE, StdioClientTransport

        transport = StdioClientTransport(
            command, args, env=env, cwd=cwd, stderr=stderr, max_line=max_line or DEFAULT_MAX_LINE
        )
        return cls(transport, **options)

    @classmethod
    def http(
        cls,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        auth: Callable[[], Awaitable[str | None]] | None = None,
        max_message: int | None = None,
        max_header_bytes: int | None = None,
        max_headers: int | None = None,
        **options: Any,
    ) -> Client:
        """A client of a Streamable HTTP endpoint (`auth` returns a bearer token, or None).

        Limits (None: the default): `max_message`, the largest JSON answer or SSE event read, 16 MiB
        (a larger one fails its request); `max_header_bytes` and `max_headers`, the largest response
        head, 64 KiB of header names and values and 256 header lines."""
        from ..transports.http.client import StreamableHttpTransport

        # Over HTTP the era shows in the answer's status, not in silence: wait longer before giving up.
        options.setdefault("probe_timeout", 15.0)
        transport = StreamableHttpTransport(url, headers=headers, auth=auth)
        # Read when the transport starts (it makes its HTTP client then).
        if max_message is not None:
            transport.max_message = max_message
        if max_header_bytes is not None:
            transport.max_header_bytes = max_header_bytes
        if max_headers is not None:
            transport.max_headers = max_headers
        return cls(transport, **options)

    @classmethod
    def websocket(
        cls,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        auth: Callable[[], Awaitable[str | None]] | None = None,
        max_message: int | None = None,
        **options: Any,
    ) -> Client:
        """A client of a WebSocket endpoint (`ws://host:port/mcp`; SEP-1288, a proposal): `auth`
        returns a bearer token for the upgrade request, or None. `max_message`: the largest message
        read, 16 MiB by default (None). No reconnection: see `mcpbind.transports.websocket.client`."""
        from ..transports.websocket.client import DEFAULT_MAX_MESSAGE, WebSocketClientTransport

        transport = WebSocketClientTransport(
            url, headers=headers, auth=auth, max_message=max_message or DEFAULT_MAX_MESSAGE
        )
        return cls(transport, **options)

    def _new_peer(self) -> Peer:
        peer = Peer(self.transport, on_request=self._on_request, on_notification=self._on_notification)
        peer.endpoint = ClientEndpoint()
        return peer

    def _start_peer(self) -> None:
        """Read the transport's messages into the peer (from their reading task, where it allows)."""
        self.transport.deliver_to(self.peer.feed)
        self._reader = asyncio.ensure_future(self.peer.run())

    def _replace_transport(self, transport: ClientTransport) -> None:
        self.transport = transport
        if self._reader is not None:
            self._reader.cancel()
        self.peer = self._new_peer()
        self._start_peer()

    # -- lifecycle ---------------------------------------------------------------------------------

    async def __aenter__(self) -> Client:
        await self.transport.start()
        self._start_peer()
        try:
            await self._negotiate()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(
        self, tp: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self.transport.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._reader, 5.0)
            if not self._reader.done():
                self._reader.cancel()
        await self.peer.shutdown("the client closed")

    @property
    def stateless(self) -> bool:
        return revisions.is_modern(self.revision)

    @property
    def stub(self) -> Any:
        """The negotiated revision's generated `ClientStub`, sending through this client."""
        assert self.module is not None, "not connected"
        return self.module.ClientStub(self)

    def capabilities(self) -> dict[str, Any]:
        """The capabilities this client declares: those of the callbacks it was given."""
        return self._input.capabilities()

    # -- the Sender interface of the typed stubs ---------------------------------------------------

    async def send_request(self, method: RequestMethod[Any, Any], params: Any) -> Any:
        return await self._request(
            method.name, params, wire.decoder(method.result_type).decode, self.request_timeout
        )

    async def send_notification(self, method: NotificationMethod[Any], params: Any) -> None:
        await self._notify(method.name, params)

    async def _notify(self, method: str, params: Any) -> None:
        """`peer.notify`, its writes bounded by the request timeout (unless a caller bounded them
        already): no notification waits forever on a stdio server that stopped reading."""
        if WRITE_WAIT.get() is not None:
            await self.peer.notify(method, params)
            return
        token = WRITE_WAIT.set(self.request_timeout)
        try:
            await self.peer.notify(method, params)
        finally:
            WRITE_WAIT.reset(token)

    async def _request(
        self, method: str, params: Any, decode: ResultDecoder, timeout: float | None, *, cancel: bool = True
    ) -> Any:
        """`peer.request`, its writes bounded by its timeout: a stdio server that stops reading its
        stdin cannot hold a request past it."""
        token = WRITE_WAIT.set(timeout)
        try:
            return await self.peer.request(
                method, params, decode, timeout=timeout, on_cancel=self._send_cancel if cancel else None
            )
        finally:
            WRITE_WAIT.reset(token)

    async def _send_cancel(self, rid: RequestId) -> None:
        # Best effort: sent without waiting for a server that may not be reading at all.
        token = WRITE_WAIT.set(0.0)
        try:
            await self.notify(
                "notifications/cancelled", {"requestId": rid, "reason": "cancelled by the client"}
            )
        finally:
            WRITE_WAIT.reset(token)

    # -- requests by name, with JSON-form params --------------------------------------------------

    def _meta(self, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        meta: dict[str, Any] = dict(extra or {})
        if self.stateless:
            meta[revisions.META_VERSION] = self.revision
            meta[revisions.META_CAPABILITIES] = self._input.capabilities()
            meta[revisions.META_CLIENT] = self.info
            if self.log_level is not None:
                meta[revisions.META_LOG_LEVEL] = self.log_level
        return meta

    async def request(
        self,
        method: str,
        params: Mapping[str, Any] | None = None,
        *,
        meta: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Send `method` with JSON-form `params` (converted to the negotiated revision's types); returns
        the decoded result. Raises McpError for an error answer."""
        assert self.module is not None, "not connected"
        spec = self.module.REQUESTS.get(method)
        if spec is None:
            raise MethodNotFound(f"{method} does not exist in MCP {self.revision}")
        body: Any = None
        full_meta = self._meta(meta)
        if spec.params_type is not None and (params or full_meta or spec.params_required):
            data = dict(params or {})
            if full_meta:
                data["_meta"] = {**full_meta, **data.get("_meta", {})}
            body = wire.convert(data, spec.params_type)
        decode = wire.decoder(spec.result_type).decode
        limit = timeout or self.request_timeout
        try:
            return await self._request(method, body, decode, limit)
        except McpError:
            if method == "initialize" or not self.transport.take_session_lost():
                raise
        # The server ended our HTTP session: start a new one (the spec says the client MUST), then retry.
        await self._initialize(self.revision)
        return await self._request(method, body, decode, limit)

    async def notify(self, method: str, params: Mapping[str, Any] | None = None) -> None:
        assert self.module is not None
        spec = self.module.NOTIFICATIONS[method]
        body = wire.convert(dict(params or {}), spec.params_type) if spec.params_type is not None else None
        await self._notify(method, body)

    async def _with_input(
        self,
        method: str,
        params: dict[str, Any],
        *,
        meta: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> Any:
        """A request that may answer InputRequiredResult: fulfil its input requests and retry."""
        result = await self.request(method, params, meta=meta, timeout=timeout)
        for _ in range(_MAX_ROUNDS):
            if type(result).__name__ != "InputRequiredResult":
                return result
            retry = {k: v for k, v in params.items() if k not in ("inputResponses", "requestState")}
            if result.input_requests is not UNSET:
                retry["inputResponses"] = {
                    key: await self._input.fulfil(wire.to_builtins(req))
                    for key, req in result.input_requests.items()
                }
            if result.request_state is not UNSET:
                retry["requestState"] = result.request_state
            result = await self.request(method, retry, meta=meta, timeout=timeout)
        raise McpError(
            f"{method}: the server still needed input after {_MAX_ROUNDS} rounds", code=INTERNAL_ERROR
        )

    # -- conveniences ------------------------------------------------------------------------------

    async def ping(self) -> None:
        await self.request("ping")

    async def call_tool(
        self,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        *,
        progress: Callable[[float, float | None, str | None], Awaitable[None]] | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Call a tool; returns the revision's CallToolResult (a tool failure has `is_error` set)."""
        params: dict[str, Any] = {"name": name}
        if arguments is not None:
            params["arguments"] = dict(arguments)
        meta: dict[str, Any] = {}
        token = None
        if progress is not None:
            token = f"p{next(self._tokens)}"
            self._progress[token] = progress
            meta["progressToken"] = token
        try:
            try:
                return await self._with_input("tools/call", params, meta=meta, timeout=timeout)
            except McpError as exc:
                if exc.code != revisions.HEADER_MISMATCH:
                    raise
                # The tool's header annotations may have changed: list the tools again, then retry once.
                if self._cache is not None:
                    self._cache = {k: v for k, v in self._cache.items() if k[0] != "tools/list"}
                await self.list_tools()
                return await self._with_input("tools/call", params, meta=meta, timeout=timeout)
        finally:
            if token is not None:
                self._progress.pop(token, None)

    async def _cached(self, method: str, params: dict[str, Any]) -> Any:
        key = (method, params_digest(params))
        if self._cache is not None:
            hit = self._cache.get(key)
            if hit is not None and hit[0] > time.monotonic():
                return hit[1]
        result = await self.request(method, params)
        ttl = getattr(result, "ttl_ms", UNSET)
        if self._cache is not None and ttl is not UNSET and isinstance(ttl, (int, float)) and ttl > 0:
            self._cache[key] = (time.monotonic() + ttl / 1000.0, result)
        return result

    async def _list(self, method: str, key: str) -> list[Any]:
        items: list[Any] = []
        cursor: str | None = None
        for _ in range(10_000):
            params = {"cursor": cursor} if cursor else {}
            result = await self._cached(method, params)
            items.extend(getattr(result, key))
            nxt = getattr(result, "next_cursor", UNSET)
            if nxt is UNSET or not nxt:
                return items
            cursor = nxt
        raise McpError(f"{method}: too many pages", code=INTERNAL_ERROR)

    async def list_tools(self) -> list[Any]:
        """Every tool (all pages). Over HTTP, a tool whose `x-mcp-header` annotations break the rules is
        left out (the spec says so), and the others' annotations shape the headers of their calls."""
        tools = await self._list("tools/list", "tools")
        mirrors = self.transport.param_headers
        if mirrors is None:
            return tools
        kept = []
        for tool in tools:
            try:
                mirrors[tool.name] = param_headers(wire.to_builtins(tool.input_schema))
            except InvalidHeaderAnnotation as exc:
                log.warning("leaving out tool %r: %s", tool.name, exc)
                continue
            kept.append(tool)
        return kept

    async def list_resources(self) -> list[Any]:
        return await self._list("resources/list", "resources")

    async def list_resource_templates(self) -> list[Any]:
        return await self._list("resources/templates/list", "resource_templates")

    async def list_prompts(self) -> list[Any]:
        return await self._list("prompts/list", "prompts")

    async def read_resource(self, uri: str) -> Any:
        if self.stateless:
            return await self._with_input("resources/read", {"uri": uri})
        return await self.request("resources/read", {"uri": uri})

    async def get_prompt(self, name: str, arguments: Mapping[str, str] | None = None) -> Any:
        params: dict[str, Any] = {"name": name}
        if arguments is not None:
            params["arguments"] = dict(arguments)
        return await self._with_input("prompts/get", params)

    async def complete(
        self, ref: Mapping[str, Any], argument: Mapping[str, str], context: Mapping[str, Any] | None = None
    ) -> Any:
        params: dict[str, Any] = {"ref": dict(ref), "argument": dict(argument)}
        if context is not None:
            params["context"] = dict(context)
        return await self.request("completion/complete", params)

    async def subscribe(self, uri: str) -> None:
        await self.request("resources/subscribe", {"uri": uri})

    @contextlib.asynccontextmanager
    async def listen(
        self,
        *,
        tools: bool = False,
        resources: bool = False,
        prompts: bool = False,
        resource_uris: list[str] | None = None,
    ) -> AsyncIterator[None]:
        """Stateless revisions: open a `subscriptions/listen` stream for the duration of the block.
        Change notifications reach `on_list_changed` / `on_resource_updated` as on stateful revisions
        (where this subscribes to `resource_uris` and list changes need nothing)."""
        if not self.stateless:
            for uri in resource_uris or ():
                await self.subscribe(uri)
            yield
            return
        wanted: dict[str, Any] = {}
        if tools:
            wanted["toolsListChanged"] = True
        if resources:
            wanted["resourcesListChanged"] = True
        if prompts:
            wanted["promptsListChanged"] = True
        if resource_uris:
            wanted["resourceSubscriptions"] = list(resource_uris)
        acknowledged = asyncio.Event()
        self._acknowledged = acknowledged
        stream = asyncio.ensure_future(
            self.request("subscriptions/listen", {"notifications": wanted}, timeout=1e9)
        )
        try:
            done, _ = await asyncio.wait(
                {stream, asyncio.ensure_future(acknowledged.wait())},
                timeout=self.request_timeout,
                return_when=asyncio.FIRST_COMPLETED,
            )
            if stream in done:
                stream.result()  # the server refused: raise its error
            yield
        finally:
            stream.cancel()
            with contextlib.suppress(asyncio.CancelledError, McpError, SessionClosed):
                await stream

    async def set_level(self, level: str) -> None:
        self.log_level = level
        if not self.stateless:
            await self.request("logging/setLevel", {"level": level})

    # -- incoming ----------------------------------------------------------------------------------

    async def _on_request(self, event: IncomingRequest) -> bytes | None:
        return await self._input.answer_request(event, self.module)

    async def _on_notification(self, event: IncomingNotification) -> None:
        method = event.method
        try:
            params = msgspec.json.decode(event.params) if event.params is not None else {}
        except msgspec.DecodeError as exc:
            log.warning("a %s notification from the server could not be read, skipped (%s)", method, exc)
            return
        if method == "notifications/progress":
            callback = self._progress.get(params.get("progressToken"))
            if callback is not None:
                await callback(params.get("progress", 0), params.get("total"), params.get("message"))
        elif method == "notifications/message":
            if self._on_log is not None:
                await self._on_log(params)
        elif method.endswith("/list_changed"):
            kind = method.split("/")[1]
            if self._cache is not None:
                self._cache = {k: v for k, v in self._cache.items() if not k[0].startswith(kind)}
            if self._on_list_changed is not None:
                await self._on_list_changed(kind)
        elif method == "notifications/subscriptions/acknowledged":
            if self._acknowledged is not None:
                self._acknowledged.set()
        elif method == "notifications/resources/updated":
            if self._on_resource_updated is not None:
                await self._on_resource_updated(params.get("uri", ""))
