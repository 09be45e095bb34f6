"""The MCP client's user API: connect, call tools, read resources, get prompts, list (cached), listen.

    async with Client.stdio("python", ["server.py"]) as client:
        result = await client.call_tool("add", {"a": 1, "b": 2})

How the era and revision are chosen (`mode`) is in `negotiate`; requests for input from the server
(sampling, elicitation, roots) reach the same callbacks in both eras (`inbound`). With `run_tasks`
(the default) a 2025-11-25 server may ask for sampling and elicitation as tasks, which the client runs
and the server polls (`task_receiver.ClientTasks`); `start_tool_task` runs a tool as a task (`tasks`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import weakref
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, Unpack

import msgspec

from .. import __version__, wire
from ..aio import own
from ..aio.interfaces import WRITE_WAIT, defines
from ..errors import McpError, MethodNotFound
from ..methods import NotificationMethod, RequestMethod
from ..protocol import revisions
from ..protocol.endpoint import IncomingNotification, IncomingRequest, ResultDecoder
from ..protocol.jsonrpc import INVALID_REQUEST, METHOD_NOT_FOUND, RequestId
from ..transports.plain import PlainTransport
from .calls import Calls, Progress
from .endpoint import ClientEndpoint
from .inbound import InputCallbacks
from .options import ChangeCallback, ClientOptions, InputCallback, LogCallback, Mode, RootsCallback
from .peer import ClientPeer
from .prepared import PREPARED, MetaMemo, Prepared, loosen, prepare
from .stubs import TypedStubs
from .task_receiver import ClientTasks
from .tasks import TaskEvents, TaskHandle, TaskInfo, TaskOptions, list_tasks, start_tool_task
from .tasks import handle as task_handle
from .transport import AnswerTransport, ClientTransport, TakesAnswers

if TYPE_CHECKING:
    from ..server.registry import Server
    from ..transports.http.auth import HttpAuth

__all__ = ["Client"]

log = logging.getLogger("mcpbind.client")

_REFUSED = (INVALID_REQUEST, METHOD_NOT_FOUND)
"""The codes of a request the HTTP transport saw refused (400, 404) rather than answered."""


class Client(Calls, TypedStubs):
    """A connection to one MCP server; see the module's docstring, and `negotiate` for `mode`."""

    def __init__(
        self,
        transport: ClientTransport,
        *,
        mode: Mode = "auto",
        name: str = "mcpbind",
        version: str = __version__,
        sampling: InputCallback | None = None,
        sampling_tools: bool = False,
        elicitation: InputCallback | None = None,
        roots: RootsCallback | None = None,
        on_log: LogCallback | None = None,
        on_list_changed: ChangeCallback | None = None,
        on_resource_updated: ChangeCallback | None = None,
        log_level: str | None = None,
        request_timeout: float | None = 60.0,
        probe_timeout: float = 10.0,
        cache: bool = True,
        run_tasks: bool = True,
    ) -> None:
        if mode not in ("auto", "legacy", "draft") and mode not in revisions.KNOWN:
            raise ValueError(
                f"mode must be 'auto', 'legacy', 'draft' or a revision in {revisions.ALL}, not {mode!r}"
            )
        self.transport = transport
        self.mode = revisions.resolve(mode) if mode == "draft" else mode
        self.info = {"name": name, "version": version}
        # `sampling_tools`: `sampling` takes requests that carry tools (it declares `sampling.tools`).
        self._input = InputCallbacks(
            sampling, elicitation, roots, sampling_tools, ClientTasks() if run_tasks else None
        )
        self._on_log = on_log
        self._on_list_changed = on_list_changed
        self._on_resource_updated = on_resource_updated
        self.log_level = log_level
        self.logs_wanted = "debug" if on_log is not None else None
        self.request_timeout = request_timeout
        self.probe_timeout = probe_timeout
        """Seconds "auto" waits for the answer to its `server/discover` probe before it falls back to
        `initialize` (10, as the official SDK waits: a server started by `npx` or `uvx` may take
        seconds to answer anything; one that answers the probe late is still reached in its era)."""
        self.peer = self._new_peer()
        self._sessionless = False
        self.revision = ""
        self.module = None
        self.server_info = {}
        self.server_capabilities = {}
        self.instructions = None
        self.supported_versions = []
        self._reader: asyncio.Task[None] | None = None
        self._progress: dict[Any, Progress] = {}
        self._tokens = itertools.count(1)
        self._cache: dict[tuple[str, str], tuple[float, Any]] | None = {} if cache else None
        self._meta_memo = MetaMemo()
        # (`_send_cancel` made once: handed to every request. Like the peer's callbacks, it holds the
        # client weakly: a client dropped unclosed is freed at once, not by the cycle collector.)
        self._on_cancel: Callable[[RequestId], Awaitable[None]] = _weakly(self._send_cancel)
        self._acknowledged: asyncio.Event | None = None
        self._session_epoch = 0
        """Sessions started again since the first (the server ended the one before: a 404)."""
        self._renewal: asyncio.Future[None] | None = None
        """The `initialize` of a new session under way, which calls refused meanwhile wait for."""
        self.task_events = TaskEvents()
        """Status notifications of the tasks this client watches (`TaskHandle.statuses`)."""

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
        **options: Unpack[ClientOptions],
    ) -> Client:
        """A client of a server run as a subprocess. `stderr`: None or "inherit" (the server's stderr
        is ours), "capture" (kept: see `StdioClientTransport.stderr_text`) or "devnull" (dropped).
        `max_line`: the longest line read from the server, 16 MiB by default (None); a longer one
        fails the request it answers."""
        from ..transports.stdio import DEFAULT_MAX_LINE
        from ..transports.stdio_client import StdioClientTransport

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
        auth: HttpAuth | Callable[[], Awaitable[str | None]] | None = None,
        max_message: int | None = None,
        max_header_bytes: int | None = None,
        max_headers: int | None = None,
        cancel_grace: float | None = None,
        max_reconnect_delay: float | None = None,
        **options: Unpack[ClientOptions],
    ) -> Client:
        """A client of a Streamable HTTP endpoint. `auth` authorizes its requests: a callable returning
        a bearer token (or None), or an `HttpAuth` such as mcpbind.auth.client's `OAuthClientProvider`,
        which runs the OAuth flows on a 401/403 and sends the request again.

        Limits (None: the default): `max_message`, the largest JSON answer or SSE event read, 16 MiB
        (a larger one fails its request); `max_header_bytes` and `max_headers`, the largest response
        head, 64 KiB of header names and values and 256 header lines; `cancel_grace`, how long the
        stream of a session request that was cancelled (or timed out) is still read, for what the server
        sends about the call, before it is closed (at once when its answer comes), 5 seconds;
        `max_reconnect_delay`, the longest a stream's reconnection waits whatever the server's SSE
        `retry` says, 30 seconds."""
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
        if cancel_grace is not None:
            transport.cancel_grace = cancel_grace
        if max_reconnect_delay is not None:
            transport.max_reconnect_delay = max_reconnect_delay
        return cls(transport, **options)

    @classmethod
    def memory(cls, server: Server, **options: Unpack[ClientOptions]) -> Client:
        """A client of `server` in this process (no subprocess, no socket; the server's lifespan runs
        while connected): for tests. `options` as for `Client` (`mode=` picks the era)."""
        from ..transports.memory import MemoryClientTransport

        return cls(MemoryClientTransport(server), **options)

    @classmethod
    def websocket(
        cls,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        auth: Callable[[], Awaitable[str | None]] | None = None,
        max_message: int | None = None,
        close_timeout: float | None = None,
        **options: Unpack[ClientOptions],
    ) -> Client:
        """A client of a WebSocket endpoint (`ws://host:port/mcp`; SEP-1288, a proposal): `auth`
        returns a bearer token for the upgrade request, or None. `max_message`: the largest message
        read, 16 MiB by default (None). `close_timeout`: how long closing waits for the server's side
        of the close handshake before the connection is dropped, 10 seconds by default (None); the
        requests in flight fail as the close starts, not after it. No reconnection: see
        `mcpbind.transports.websocket.client`."""
        from ..transports.websocket.client import DEFAULT_MAX_MESSAGE, WebSocketClientTransport

        extra = {} if close_timeout is None else {"close_timeout": close_timeout}
        transport = WebSocketClientTransport(
            url, headers=headers, auth=auth, max_message=max_message or DEFAULT_MAX_MESSAGE, **extra
        )
        return cls(transport, **options)

    def _new_peer(self) -> ClientPeer:
        peer = ClientPeer(
            self.transport,
            on_request=_weakly(self._on_request),
            on_notification=_weakly(self._on_notification),
        )
        peer.endpoint = ClientEndpoint()
        return peer

    def _start_peer(self) -> None:
        """Read the transport's messages into the peer (from their reading task, where it allows)."""
        self._sessionless = isinstance(self.transport, PlainTransport)
        """The transport has no session the server could end (stdio, HTTP+SSE)."""
        self.peer.started()
        self.transport.deliver_to(self.peer.feed)
        if isinstance(self.transport, TakesAnswers) and defines(self.transport, "take_with"):
            self.transport.take_with(self.peer.take)
        # (Of the transport's own class: a wrapper that hands on what it lacks would be passed by.)
        if isinstance(self.transport, AnswerTransport) and defines(self.transport, "answer_to"):
            self.transport.answer_to(self.peer)
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
    def stub(self) -> Any:
        """The negotiated revision's generated `ClientStub`, sending through this client (untyped:
        whichever revision was negotiated; `stub_for(revision)` is the typed one)."""
        assert self.module is not None, "not connected"
        return self.module.ClientStub(self)

    def capabilities(self) -> dict[str, Any]:
        """The capabilities this client declares: those of the callbacks it was given."""
        return self._input.capabilities()

    # -- the Sender interface of the typed stubs ---------------------------------------------------

    async def send_request(self, method: RequestMethod[Any, Any], params: Any) -> Any:
        if self.stateless:
            params = self._filled(params)
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

    async def request(
        self,
        method: str,
        params: Mapping[str, Any] | None = None,
        *,
        meta: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        result_type: Any = None,
    ) -> Any:
        """Send `method` with JSON-form `params` (converted to the negotiated revision's types); returns
        the result decoded as `result_type` (default: the method's). Raises McpError for an error answer."""
        return await self._call(method, params, meta, timeout, result_type)

    def _call(
        self,
        method: str,
        params: Mapping[str, Any] | None,
        meta: Mapping[str, Any] | None,
        timeout: float | None,
        result_type: Any = None,
        latest: str | None = None,
        renew: bool = True,
        revision: str | None = None,
    ) -> Awaitable[Any]:
        """`request`, to be awaited; with `latest`, the result (unless of a kind the revision lacks) is
        the newest revision's type of that name (see `prepared`). Where no session can be lost, the
        awaitable is the peer's request itself: no coroutine of the client's own around each call;
        nor where one can be but the caller hands an McpError the request raises to `_sent_again`
        itself (`renew=False`). `revision`: made for that revision (default: the one in force)."""
        assert self.module is not None, "not connected"
        if revision is None:
            revision = self.revision
        try:  # (`prepare`, its cache looked up inline: every request)
            prepared = PREPARED[(revision, method, result_type, latest)]
        except (KeyError, TypeError):  # (not made yet, or a result type that cannot be a key)
            prepared = prepare(revision, method, result_type, latest)
        if prepared is None:
            raise MethodNotFound(f"{method} does not exist in MCP {revision}")
        spec = prepared.spec
        body: Any = None
        stateless = prepared.stateless
        if (
            stateless
            and (loose := prepared.loose) is not None
            and not meta
            and type(params) is dict
            and "_meta" not in params
        ):
            # The usual stateless request of a method sent before: the params as given, with no
            # copy, into the type whose `_meta` is set afterwards to the bytes every request
            # carries (as `_stateless_params` does). What that type refuses takes the general way.
            key = (revision, self.log_level, self._input.changes, self.info)
            meta_type: type = prepared.meta_type  # type: ignore[assignment]  # (`loose`: one is there)
            hit = self._meta_memo.entries.get(meta_type)
            if hit is not None and hit[0] == key:
                encoded = hit[2]
            else:
                encoded = self._meta_memo.encoded(key, meta_type, self._meta)[1]
            try:
                body = msgspec.convert(params, loose)
                body.meta = encoded  # (`loosen` makes it so: the `_meta` member is `meta`)
            except msgspec.ValidationError:
                body = self._stateless_params(prepared, params, (revision, method, result_type, latest))
        elif stateless and not meta and prepared.meta_type is not None:
            body = self._stateless_params(prepared, params, (revision, method, result_type, latest))
        elif (
            not stateless
            and not meta
            and type(params) is dict
            and params
            and prepared.params_struct is not None
        ):
            # The usual request of a stateful revision: its params as given, with no copy.
            try:  # (`prepared.convert`, its first step inline: msgspec's, with no hook)
                body = msgspec.convert(params, prepared.params_struct)
            except msgspec.ValidationError:
                body = prepared.convert(params)  # what needs the hook, or the error
        elif spec.params_type is not None:
            # (a stateful revision's request carries no `_meta` but the caller's)
            full_meta = self._meta(meta) if meta or stateless else None
            if params or full_meta or spec.params_required:
                data = params if type(params) is dict else dict(params or {})
                if full_meta:
                    data = dict(data)  # (the caller's own dict stays as it is)
                    given = data.get("_meta")
                    data["_meta"] = {**full_meta, **given} if given else full_meta
                struct = prepared.params_struct
                if struct is None:
                    body = prepared.convert(data)
                else:
                    try:  # (`prepared.convert`, its first step inline: msgspec's, with no hook)
                        body = msgspec.convert(data, struct)
                    except msgspec.ValidationError:
                        body = prepared.convert(data)  # what needs the hook, or the error
        limit = timeout or self.request_timeout
        sent = self.peer.request(method, body, prepared.decode, limit, self._on_cancel)
        if stateless or self._sessionless or not renew:
            return sent
        return self._in_session(method, sent, body, prepared.decode, limit)

    def _stateless_params(
        self, prepared: Prepared, params: Mapping[str, Any] | None, key: tuple[Any, ...]
    ) -> Any:
        """The params of a stateless request (`prepared`, of the cache's `key`) that carries no `_meta`
        of the caller's but perhaps one in `params`: with the `_meta` every request carries,
        converted once while it stays the same (and the one in `params` added)."""
        data: Any = dict(params) if params else {}
        given = data.get("_meta")
        if given:
            data["_meta"] = {**self._meta(), **given}
            return prepared.convert(data)
        # Made again only when what it is made of changed (the client's info may change in place:
        # the memo compares it with a copy of what it was).
        made = (self.revision, self.log_level, self._input.changes, self.info)
        assert prepared.meta_type is not None
        data["_meta"], encoded = self._meta_memo.encoded(made, prepared.meta_type, self._meta)
        try:  # (`prepared.convert`, its first step inline)
            body = msgspec.convert(data, prepared.params_struct)
        except msgspec.ValidationError:
            body = prepared.convert(data)
        # Checked as converted, sent as the bytes encoded with it: not encoded again per call.
        setattr(body, prepared.meta_attr, encoded)
        if prepared.loose is None:
            loosen(key)  # (sent a few times, the method's requests take the way above)
        return body

    async def _in_session(
        self, method: str, sent: Awaitable[Any], body: Any, decode: ResultDecoder, limit: float | None
    ) -> Any:
        """A request `sent` on a transport whose session the server may end: if it has, start a new
        one (the spec says the client MUST) and send the request again."""
        epoch = self._session_epoch
        try:
            return await sent
        except McpError as exc:
            if method == "initialize" or not self._session_ended(exc, epoch):
                raise
        await self._renew(epoch)
        return await self._request(method, body, decode, limit)

    def _session_ended(self, exc: McpError, epoch: int) -> bool:
        """Whether `exc`, failing a request sent in the session of `epoch`, says that the session
        ended: then a new one is started and the request sent again in it."""
        if self.transport.take_session_lost():
            return True
        # Not this call's 404: it went in a session that another call's 404 found ended (it was
        # refused for it, 404 or 400 with no session), and is sent again in the new one.
        renewed = self._renewal is not None or self._session_epoch != epoch
        return renewed and exc.code in _REFUSED

    async def _sent_again(
        self,
        exc: McpError,
        epoch: int,
        revision: str,
        method: str,
        params: Mapping[str, Any] | None,
        meta: Mapping[str, Any] | None,
        timeout: float | None,
        latest: str | None,
    ) -> Any:
        """`exc` failed a request that `_call(..., renew=False)` sent in the session of `epoch` (of
        `revision`): what `_call`'s own renewal (`_in_session`) makes of it. `exc` stands, unless
        the request went in a session the server may end and did: then a new one is started and
        the same request (the same params for the same revision) sent again in it, once."""
        found = prepare(revision, method, None, latest)
        if (
            found is None
            or found.stateless
            or self._sessionless
            or method == "initialize"
            or not self._session_ended(exc, epoch)
        ):
            raise exc
        await self._renew(epoch)
        return await self._call(method, params, meta, timeout, None, latest, False, revision)

    async def _renew(self, epoch: int) -> None:
        """A new session in place of the one of `epoch`, which the server ended: started once, however
        many calls found it ended (each waits for the one `initialize`)."""
        if self._session_epoch != epoch:
            return  # renewed already
        if self._renewal is not None:
            await asyncio.shield(self._renewal)
            return
        renewal = self._renewal = asyncio.get_running_loop().create_future()
        try:
            await self._initialize(self.revision)
            self._session_epoch += 1
            renewal.set_result(None)
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError):  # (the call that started it was cancelled)
                exc = McpError("the new session's initialize was cancelled", code=INVALID_REQUEST)
            renewal.set_exception(exc)
            renewal.exception()  # (retrieved: the calls waiting on it raise it, if there are any)
            raise
        finally:
            self._renewal = None

    async def notify(self, method: str, params: Mapping[str, Any] | None = None) -> None:
        assert self.module is not None
        spec = self.module.NOTIFICATIONS[method]
        body = wire.convert(dict(params or {}), spec.params_type) if spec.params_type is not None else None
        await self._notify(method, body)

    async def fulfil(self, request: dict[str, Any]) -> Any:
        """Answer one input request (`{"method", "params"}`) with this client's callbacks, in JSON form."""
        return await self._input.fulfil(request)

    # -- tasks (client/tasks.py) -------------------------------------------------------------------

    async def start_tool_task(
        self,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        options: TaskOptions | None = None,
        *,
        timeout: float | None = None,
    ) -> TaskHandle[Any]:
        """Call a tool as a task: a handle to follow it, whose `result()` is the CallToolResult."""
        return await start_tool_task(self, name, arguments, options, timeout=timeout)

    def task(self, task_id: str) -> TaskHandle[Any]:
        """A handle on a tool-call task started earlier (by this client or one before it)."""
        assert self.module is not None, "not connected"
        return task_handle(self, task_id, self.module.CallToolResult)

    async def list_tasks(self) -> list[TaskInfo]:
        """The tasks the server holds for this client (2025-11-25)."""
        return await list_tasks(self)

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
        if type(params) is not dict:  # (`[...]`: the envelope lets params be an array)
            log.warning("a %s notification from the server has params that are no object, skipped", method)
            return
        if method == "notifications/progress":
            token = params.get("progressToken")
            callback = self._progress.get(token) if type(token) is str or type(token) is int else None
            if callback is not None:
                values = progress_values(params)
                if values is None:
                    log.warning(
                        "a progress notification from the server is malformed, skipped: %.200r", params
                    )
                    return
                await own.run(callback(*values))
        elif method == "notifications/message":
            if self._on_log is not None:
                # (The callback is promised a level of the schema's and the data; before the
                # handshake is answered, as the newest revision says.)
                module = self.module or revisions.revision(revisions.LATEST).module
                try:
                    msgspec.convert(params, module.LoggingMessageNotificationParams)
                except msgspec.ValidationError as exc:
                    log.warning("a log notification from the server is malformed, skipped (%s)", exc)
                    return
                await own.run(self._on_log(params))
        elif method.endswith("/list_changed"):
            kind = method.split("/")[1]
            if self._cache is not None:
                self._cache = {k: v for k, v in self._cache.items() if not k[0].startswith(kind)}
            if self._on_list_changed is not None:
                await own.run(self._on_list_changed(kind))
        elif method == "notifications/subscriptions/acknowledged":
            if self._acknowledged is not None:
                self._acknowledged.set()
            self.task_events.acknowledged(params)
        elif method == "notifications/tasks/status" or method == "notifications/tasks":
            self.task_events.publish(params)
        elif method == "notifications/resources/updated":
            uri = params.get("uri")
            if self._on_resource_updated is not None and type(uri) is str:
                await own.run(self._on_resource_updated(uri))
        elif method == "notifications/cancelled":
            # The server withdrew a request of its own (the call it asked for was cancelled): the
            # callback answering it is cancelled, and no answer is sent.
            rid = params.get("requestId") if isinstance(params, dict) else None
            if isinstance(rid, (str, int)) and not isinstance(rid, bool):
                self.peer.cancel_incoming(rid)


_A = TypeVar("_A")
_R = TypeVar("_R")


def _weakly(method: Callable[[_A], Awaitable[_R]]) -> Callable[[_A], Coroutine[Any, Any, _R | None]]:
    """`method`, a coroutine method bound to its object, called on that object while it lives (None
    once it is gone): what holds this does not keep the object alive."""
    ref = weakref.ref(method.__self__)  # type: ignore[attr-defined]
    func = method.__func__  # type: ignore[attr-defined]

    async def call(arg: _A) -> _R | None:
        target = ref()
        if target is None:
            return None
        result: _R = await func(target, arg)
        return result

    return call


def progress_values(params: dict[str, Any]) -> tuple[float, float | None, str | None] | None:
    """`progress`, `total` and `message` of a progress notification, as a `Progress` callback takes
    them; None if the server sent other types (its callback is typed: a hostile server's strings or
    objects never reach it)."""
    progress, total, message = params.get("progress", 0), params.get("total"), params.get("message")
    if not _number(progress) or (total is not None and not _number(total)):
        return None
    if message is not None and type(message) is not str:
        return None
    return progress, total, message


def _number(value: Any) -> bool:
    return type(value) is int or type(value) is float  # (a bool is no number here)
