"""The stateless route (2026-07-28): `Mcp-Method`/`Mcp-Name`/`Mcp-Param-*` checked against the body, the
one-pass decoders their headers choose, direct answers of tools that need no connection, idle connections."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Collection, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, Final, Literal, Union

import msgspec
from msgspec import UnsetType

from ... import shapes, wire
from ...aio import eager, own
from ...aio.eager import Paused
from ...aio.interfaces import Prepared
from ...errors import McpError
from ...protocol import dispatch, revisions
from ...protocol.endpoint import IncomingRequest
from ...protocol.fields import TEXT, Headers
from ...protocol.headers import (
    BASE64_OPEN,
    Peek,
    PeekMeta,
    PeekParams,
    decode_value,
)
from ...protocol.inbound import Stateless
from ...server.plain import Lane, answer_decided, lane, reads_direct
from .asgi import JSON_TYPE, Receive, Send, busy, disconnected, no_answer, shutting_down
from .binding import new_connection
from .heads import CONTENT_LENGTH
from .sse import stateless_status
from .stateful import exchange

if TYPE_CHECKING:
    from ...protocol.revisions import Revision
    from ...server import Connection, Server
    from ...server.entries import ToolEntry
    from .app import HttpApp
    from .security import HttpSecurity

__all__ = ["MAX_IDLE", "StatelessRoute"]

MAX_IDLE: Final = 64
"""Stateless connections kept for reuse."""
_UNKNOWN: Final[Any] = object()
_NO_ARGUMENTS: Final = PeekParams().arguments
"""`PeekParams.arguments`' default (arguments left unread), passed by position."""


class StatelessRoute:
    """Serves the stateless requests of one app; keeps its decoders, header paths and idle connections.
    It is the `inbound.ServerView` the classifier asks about the server."""

    def __init__(self, server: Server, security: HttpSecurity, closing: set[asyncio.Future[Any]]) -> None:
        self.server = server
        self.security = security
        self.closing = closing
        self.running = 0
        """Stateless requests being answered (bounded by `max_stateless_requests`)."""
        # What the classifier asks per request, bound once: the server's own accessors, no layer between.
        self.answers_directly: Callable[..., bool] = server.answers_directly
        """A `tools/call` with these (lean) params can be answered with no connection (`dispatch.Gate`)."""
        self.missing_feature: Callable[[str], str] = server.missing_feature
        """The feature a method needs that the server does not offer (`dispatch.Gate`)."""
        self.missing_features: Mapping[str, str] = server.missing_features
        """Its answers so far, by method: the server's own mapping (`dispatch.Gate`)."""
        self.param_paths: Callable[[Any], Mapping[str, tuple[str, ...]]] = server.param_paths
        """The argument paths the `Mcp-Param-*` headers of a call of a tool mirror (its `x-mcp-header`s)."""
        self.typed: dict[tuple[str, str, bool], Callable[[bytes], Any] | None] = {}
        """One-pass decoders by (revision, method, lean); None where there is none."""
        self.lean_calls: dict[str, tuple[Callable[[bytes], Any], PeekMeta]] = {}
        """The lean decoder of a `tools/call` answered directly, by revision, with the `PeekMeta` of
        that revision (what routing reads of a call's `_meta`, the same for every call)."""
        self.tool_entry = server.tool_entry
        """The registration of a tool by name (the registry's own `dict.get`)."""
        self.session_decoders: dict[str, tuple[Callable[[bytes], Any], Revision] | None] = {}
        """One-pass decoders of a session revision's requests, with that revision (`decide_session`);
        None for the stateless versions the server speaks (those alone: a version the client made up is
        not kept)."""
        self.session_calls: dict[str, tuple[Callable[[bytes], Any], Lane] | None] = {}
        """The one-pass decoder of a session revision's `tools/call` (its params read as its `Lane`
        reads them: arguments left as JSON for the tool's own reader), with that lane, by version
        (`session_call`); None for the stateless versions the server speaks (those alone, as in
        `session_decoders`)."""
        self.sent_session_calls: dict[bytes, tuple[Callable[[bytes], Any], Lane]] = {}
        """`session_calls`' decoders by the `MCP-Protocol-Version` header's bytes as sent, where those
        are the version itself (so one entry at most per revision the server speaks): `stateful.early`'s
        look-up, with no decoding of the header's value."""
        self.idle: list[Connection] = []
        """Connections left with nothing running, kept for reuse."""
        self.direct_revisions: dict[str, Revision] = {}
        """The revision of each version a call was answered directly in, found once."""
        self.lanes: dict[str, tuple[Revision, Lane]] = {}
        """What `at_once` needs of each version it answered a call in (`_lane`), found once."""

    def decode_whole(self, body: bytes, version: str, headers: Headers) -> Peek | None:
        """A stateless request, decoded in one pass into the params type its headers name (the headers
        must agree with the body there anyway). None when they do not, or when the message is not a
        well-formed request of that method and revision: the general route then names what is wrong.
        A call of a tool answered directly is decoded lean (`Peek.lean`): it never reads `_meta`.
        Raises msgspec.DecodeError when the body is not JSON (or not UTF-8): a parse error."""
        raw = headers.get(b"mcp-method")
        if raw is None:
            return None
        method = "tools/call" if raw == b"tools/call" else TEXT[raw]  # (the usual one: no lookup)
        if method == "tools/call":
            raw = headers.get(b"mcp-name")
            if raw is not None:
                sent = TEXT[raw]
                # (`decode_value`'s case alone calls it: a plain name is its own text)
                name = decode_value(sent) if sent.startswith(BASE64_OPEN) else sent
                tool = self.tool_entry(name) if name is not None else None
                # `Server.plain_tool`, inlined (the registry's own `dict.get` and two tests, no frame).
                if tool is not None and tool.plain and self.server.middleware_chain is None:
                    # A call of a tool answered directly: decoded lean (its `_meta` into its declared
                    # members alone), by the decoder `at_once` uses (`_lean_decoder`).
                    decode = self._lean_decoder(version, tool)
                    if decode is None:
                        return None
                    try:
                        message = decode(body)
                    except (msgspec.ValidationError, RecursionError):
                        return None  # the general route reads it again, and says what is wrong with it
                    params = message.params
                    if getattr(params.meta, "protocol_version", None) != version:
                        return None  # the version must be in `_meta` too: the general route says so
                    # Its name required, no uri: by position, with no attribute looked for in vain
                    # (0.8k instructions less than by keyword); its `PeekMeta` the version's, made once.
                    routed = self.lean_calls[version][1]
                    peeked = PeekParams(params.name, None, _NO_ARGUMENTS, None, None, routed)
                    return Peek(method, message.id, peeked, params, True, tool)
        decode = self.typed.get((version, method, False), _UNKNOWN)
        if decode is _UNKNOWN:
            decode = self._whole_decoder(version, method, False)
        if decode is None:
            return None
        try:
            message = decode(body)
        except msgspec.ValidationError:
            return None  # the general route reads it again, and says what is wrong with it
        except RecursionError:
            return None
        params = message.params
        meta = getattr(params, "meta", None)
        body_version = (
            meta.get(revisions.META_VERSION)
            if isinstance(meta, dict)
            else getattr(meta, "protocol_version", None)
        )
        if body_version != version:
            return None  # the version must be in `_meta` too: the general route says so
        name = getattr(params, "name", None)
        uri = getattr(params, "uri", None)
        peeked = PeekParams(
            name=None if name is msgspec.UNSET else name,
            uri=None if uri is msgspec.UNSET else uri,
            meta=PeekMeta(version),
        )
        return Peek(method, message.id, peeked, params)

    def at_once(
        self, headers: Headers, body: bytes, send: Send, receive: Receive
    ) -> bytes | Coroutine[Any, Any, None] | None:
        """The usual stateless request answered in one step, ahead of the classifier: a `tools/call` of
        a tool answered directly (`Server.plain_tool`, in one step: `ToolEntry.one_step`) that mirrors
        no argument in a header, decoded in one pass as `decode_whole` decodes it, checked as
        `inbound.post` checks such a call (its `_meta` version and its name the headers', no request
        state or input responses to check: `dispatch.answerable_directly`), and run as
        `answer_decided` runs it. Its answer, or, if the tool waits, the coroutine that carries it on
        (`carry`). None, with nothing run, for anything else: the classifier's way (`inbound.post`)
        serves it as before, reading the body again (only a call this refuses after decoding it is
        read twice: one whose body says other than its headers, or that carries state to check)."""
        raw = headers.get(b"mcp-name")
        if raw is None or headers.get(b"mcp-method") != b"tools/call" or body[:1] != b"{":
            return None
        tool = self.tool_entry(TEXT[raw])
        server = self.server
        # (`ToolEntry.at_once` is `one_step`, no `Mcp-Param-*` paths, found by its first call on the
        # classifier's way, and a name no encoded header value begins with; `Server.plain_calls`: no
        # middleware, task runner or required scopes. One test each, kept as they change.)
        if (
            tool is None
            or not tool.at_once
            or not server.plain_calls
            or self.running >= self.security.max_stateless_requests
        ):
            return None
        raw = headers.get(b"mcp-protocol-version")
        if raw is None:
            return None
        version = TEXT[raw]
        found = self.lanes.get(version)
        if found is None:
            found = self._lane(version)
            if found is None:
                return None  # a version the server does not speak, or no stateless one
        decoders = tool.call_decoders
        decode = None if decoders is None else decoders.get(version)
        if decode is None:
            decode = self._lean_decoder(version, tool)
            assert decode is not None  # (a version of a lane: one the server speaks, stateless)
        try:
            message = decode(body)
        except (msgspec.DecodeError, RecursionError):  # (a ValidationError is a DecodeError)
            return None
        params = message.params
        # (Its members read as attributes: a lane is made only for params that have them, `_lane`.)
        if (
            params.meta.protocol_version != version
            or params.name != tool.name
            or params.request_state  # (UNSET is falsy)
            or params.input_responses
        ):
            return None
        done = answer_decided(server, found[0], message.id, params, tool, found[1])
        if isinstance(done, Paused):
            return self.carry(message.id, done, send, receive)
        return done

    def _lane(self, version: str) -> tuple[Revision, Lane] | None:
        """What `at_once` needs of `version` (kept in `lanes`): its revision and the server's `Lane`
        of it; None for a version the server does not speak, that is not stateless, or whose lean
        call params lack a member `at_once` reads (`_meta`'s protocol version, request state, input
        responses: those of 2026-07-28)."""
        if version not in self.server.revisions or not revisions.is_modern(version):
            return None
        revision = revisions.revision(version)
        read = msgspec.structs.fields(wire.members_only(revision.requests["tools/call"].params_type))
        members = {f.name: f.type for f in read}
        meta = members.get("meta")
        if (
            not {"name", "request_state", "input_responses"} <= members.keys()
            or not (isinstance(meta, type) and issubclass(meta, msgspec.Struct))
            or "protocol_version" not in meta.__struct_fields__
        ):
            return None
        found = self.lanes[version] = (revision, lane(self.server, revision))
        return found

    def direct(
        self, route: Stateless, send: Send, receive: Receive
    ) -> bytes | Coroutine[Any, Any, None] | None:
        """A call the classifier says is answered directly (`route.direct`), answered in one step as
        `at_once` answers it: its answer, or the coroutine that carries on its tool; None, with nothing
        run, when it cannot be (`post` serves it)."""
        if self.running >= self.security.max_stateless_requests:
            return None  # (`post` says so: 503)
        peek = route.peek
        revision = self.direct_revisions.get(route.version) or self.direct_revision(route.version)
        done = answer_decided(self.server, revision, peek.id, peek.typed, peek.tool)
        if isinstance(done, Paused):
            return self.carry(peek.id, done, send, receive)
        return done

    def _lean_decoder(self, version: str, tool: ToolEntry) -> Callable[[bytes], Any] | None:
        """The one-pass decoder of a call of `tool` answered directly: lean (its `_meta` read into its
        declared members alone), found with one lookup by the version's text; None for a version the
        server does not speak (or that is not stateless)."""
        lean = self.lean_calls.get(version)
        if lean is None:
            decode = self._whole_decoder(version, "tools/call", True)
            if decode is None:
                return None
            lean = self.lean_calls[version] = (decode, PeekMeta(version))
        # A tool called in one step that mirrors no argument in a header (its paths found by the first
        # call's check): its arguments read straight into its own Struct, which `answer_decided` would
        # convert them into (1.1k instructions less than a dict, then converted). Its decoders are kept
        # only for such a tool.
        found = tool.call_decoders
        if found is not None:
            return found.get(version) or self._call_decoder(version, tool)
        if tool.one_step and tool.param_paths is not None and not tool.param_paths and reads_direct(tool):
            return self._call_decoder(version, tool)  # (its arguments read as converting them reads them)
        return lean[0]

    def _whole_decoder(self, version: str, method: str, lean: bool) -> Callable[[bytes], Any] | None:
        if version not in self.server.revisions or not revisions.is_modern(version):
            return None  # nothing is kept for values outside the schema: headers are the client's
        spec = revisions.revision(version).requests.get(method)
        if spec is None:
            return None
        decode = None
        if spec.params_type is not None:
            params = wire.members_only(spec.params_type) if lean else spec.params_type
            decode = _envelope_decoder(method, params, params)
        self.typed[(version, method, lean)] = decode
        return decode

    def _call_decoder(self, version: str, tool: ToolEntry) -> Callable[[bytes], Any]:
        """The lean decoder of a call of `tool` in `version` (one the server speaks), its arguments
        read into the tool's `Signature.arguments`: kept on the tool's registration, which a new
        registration replaces."""
        lean = wire.members_only(revisions.revision(version).requests["tools/call"].params_type)
        params = msgspec.defstruct(
            lean.__name__,
            [("arguments", tool.signature.arguments | UnsetType, msgspec.UNSET)],
            bases=(lean,),
            kw_only=True,
            module=lean.__module__,
        )
        decode = _envelope_decoder("tools/call", params, lean)
        if tool.call_decoders is None:
            tool.call_decoders = {}
        tool.call_decoders[version] = decode
        return decode

    def decide_session(self, body: bytes, version: str) -> tuple[Any, str, dispatch.Dispatch] | None:
        """A session's request read in one pass with its envelope, into the params type of its method
        in the session revision `version` (one union of whole requests, tagged by method), and decided
        by the core (`dispatch.decide`) as its connection would. None, with nothing kept, for anything
        else (another revision, a method outside the union, a message that is not a well-formed
        request, a decision that is an error): the general route reads the body again and says what
        is wrong with it, as before."""
        found = self.session_decoders.get(version, _UNKNOWN)
        if found is _UNKNOWN:
            found = self._session_decoder(version)
        if found is None:
            return None
        decode, revision = found
        try:
            message = decode(body)
        except (msgspec.DecodeError, RecursionError, ValueError, TypeError):
            return None  # (DecodeError includes ValidationError)
        params = message.params
        if params is msgspec.UNSET:
            params = None
        method = message.__struct_config__.tag  # (the union's tag: its method)
        try:
            decided = dispatch.decide(method, None, params, revision, self)
        except McpError:
            return None
        return message.id, method, decided

    def _session_decoder(self, version: str) -> tuple[Callable[[bytes], Any], Revision] | None:
        found: tuple[Callable[[bytes], Any], Revision] | None = None
        if version in self.server.revisions and not revisions.is_modern(version):
            rev = revisions.revision(version)
            members = tuple(
                msgspec.defstruct(
                    "WholeSessionRequest",
                    [
                        ("jsonrpc", Literal["2.0"]),
                        ("id", str | int),  # (as `jsonrpc.valid_id`, as `decode_whole`)
                        # Params may be absent where the method does not require them (null is not absent).
                        ("params", spec.params_type)
                        if spec.params_required
                        else ("params", spec.params_type | UnsetType, msgspec.UNSET),
                    ],
                    tag_field="method",
                    tag=method,
                )
                for method, spec in rev.served.items()
                if spec.params_type is not None and method != "initialize"
            )
            if members:
                whole: Any = Union[members]  # noqa: UP007 (a union of a tuple of types made here)
                # msgspec's strict decoder alone, not `wire.decoder`: where it fails (an open union's
                # unknown member, say) the general route reads the params, liberally where they allow.
                found = msgspec.json.Decoder(whole, dec_hook=shapes.dec_hook).decode, rev
        if version in self.server.revisions:  # (not a value the client made up: those are not kept)
            self.session_decoders[version] = found
        return found

    def session_call(self, version: str) -> tuple[Callable[[bytes], Any], Lane] | None:
        """The decoder of a whole `tools/call` of the session revision `version` names and that
        revision's `Lane` (kept in `session_calls`, made by a session's first call: `stateful.early`);
        None for a version the server does not speak, or a stateless one. Its params are the
        revision's own type, `_meta` and all (a call of a tool that takes a Context goes on with
        them, decoded once: `stateful._exchanged`), but for `arguments`, left as JSON (`Lane.unread`'s),
        which the tool's own reader reads (`plain.arguments_reader`)."""
        found = None
        if version in self.server.revisions:  # (not a value the client made up: those are not kept)
            if not revisions.is_modern(version):
                call = lane(self.server, revisions.revision(version))
                params = call.spec.params_type
                unread = msgspec.defstruct(
                    params.__name__,
                    [("arguments", msgspec.Raw | UnsetType, msgspec.UNSET)],
                    bases=(params,),
                    kw_only=True,
                    module=params.__module__,
                )
                found = _envelope_decoder("tools/call", unread, params), call
                # Whether the server offers tools, known from here (`early` reads it, kept until the
                # registrations change: then a call of the general route's finds it again).
                self.missing_feature("tools/call")
            self.session_calls[version] = found
        return found

    def direct_revision(self, version: str) -> Revision:
        """The revision of a version a call is answered directly in (kept in `direct_revisions`)."""
        revision = self.direct_revisions.get(version)
        if revision is None:
            revision = self.direct_revisions[version] = revisions.revision(version)
        return revision

    async def carry(self, rid: Any, paused: Paused, send: Send, receive: Receive) -> None:
        """The call `HttpApp` ran up to its first wait (`answer_decided`), carried on by a task."""
        self.running += 1
        try:
            task = eager.carry(paused, paused.finish)
            answer = await self._waited(rid, task, send, receive)
            if answer is not None:
                await _send_answer(send, answer)
        finally:
            self.running -= 1

    async def post(self, app: HttpApp, route: Stateless, send: Send, receive: Receive) -> None:
        """Serve one message on the stateless wire, classified (`inbound.Stateless`): answered
        directly when the route says it can be, else on a connection of its own. A request already
        parsed (or decoded in one pass) goes to the handler as it is, instead of being parsed again."""
        peek = route.peek
        if peek.id is not None and self.running >= self.security.max_stateless_requests:
            await busy(send, peek.id, "too many requests are being answered")
            return
        if route.direct:
            # Answered with no connection, by the core's rule (`dispatch.answerable_directly`): most
            # calls finish in their first step and are answered at once, with no peer, stream or task.
            assert peek.id is not None
            revision = self.direct_revisions.get(route.version) or self.direct_revision(route.version)
            self.running += 1
            try:
                # A plain tool's call, run as stdio runs it (`server.plain`): its answer, or `Paused`
                # (carried on by a task); None, with nothing run: `call_direct` answers it.
                answer: bytes | None
                done = answer_decided(self.server, revision, peek.id, peek.typed, peek.tool)
                if type(done) is bytes:
                    answer = done
                else:
                    if done is None:
                        answer = await self._direct(peek.id, peek.typed, route.version, send, receive)
                    else:
                        assert type(done) is Paused
                        task = eager.carry(done, done.finish)
                        answer = await self._waited(peek.id, task, send, receive)
                    if answer is None:
                        return  # the client left, or the call was cancelled (said by `_waited`)
                await _send_answer(send, answer)
            finally:
                self.running -= 1
            return
        event = prepared = None
        if peek.typed is not None:
            assert peek.method is not None  # (the classifier refuses responses)
            event = IncomingRequest(peek.id, peek.method, None)
            prepared = Prepared(route.version, peek.typed)
        elif route.request is not None:
            request = route.request
            event = IncomingRequest(request.id, request.method, request.params)
            prepared = None if route.revision is None else Prepared(route.revision)
        # Each stateless request is a world of its own: ids of different clients never meet. A
        # connection left with nothing running or awaited is as good as new, and is used again.
        conn = self.idle.pop() if self.idle else new_connection(self.server, None)
        self.running += 1
        try:
            await exchange(app, conn, None, route.body, peek, send, receive, event, prepared)
        finally:
            self.running -= 1
            if conn.is_idle() and len(self.idle) < MAX_IDLE:
                self.idle.append(conn)
            else:
                self.server.detach(conn)

    async def _direct(
        self, rid: Any, params: Any, version: str, send: Send, receive: Receive
    ) -> bytes | None:
        """`Server.call_direct`'s answer (None: nothing more to send, as `_waited`): its first step
        run here, in a copy of the context as a task's would be; a call that waits, by a task."""
        call = self.server.call_direct(rid, params, version)
        context = contextvars.copy_context()
        try:
            waiting_on = context.run(call.send, None)
        except StopIteration as done:
            answer: bytes = done.value
            return answer
        return await self._waited(rid, eager.carried(call, waiting_on, _through, context), send, receive)

    async def _waited(
        self, rid: Any, task: asyncio.Task[bytes | None], send: Send, receive: Receive
    ) -> bytes | None:
        """The answer of a direct call that waits, run as a task: cancelled if the client leaves, as
        on the general route. None when there is nothing more to send (the client left, or the call
        was cancelled before it answered, which is said here)."""
        left = asyncio.ensure_future(disconnected(receive))
        try:
            done, _ = await asyncio.wait((task, left), return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            # The ASGI server stops and cancels the requests still in flight: answered with the
            # error that says so, the call cancelled below (`stateful.stopped` says why it ends here).
            return shutting_down(rid)
        finally:
            left.cancel()
            if not task.done():
                own.cancel(task)  # the client left, or this POST was cancelled: so is the request
                self.closing.add(task)  # kept until its cancellation has run
                task.add_done_callback(self.closing.discard)
        if task not in done:
            return None  # the client left: nobody to answer
        if task.cancelled():
            await no_answer(send)  # cancelled before it answered: no answer will come
            return None
        return task.result()

    @property
    def revisions(self) -> Collection[str]:
        return self.server.revisions


def _envelope_decoder(method: str, params: Any, hooked: Any) -> Callable[[bytes], Any]:
    """The one-pass decoder of a whole request of `method` whose params are `params` (decode hook:
    `hooked`'s, the generated type they are read as)."""
    envelope = msgspec.defstruct(
        "WholeRequest",
        [
            ("jsonrpc", Literal["2.0"]),
            ("id", str | int),  # (as `jsonrpc.valid_id`: a float id is refused on the general route)
            ("method", Literal[method]),
            ("params", params),
        ],
    )
    # msgspec's strict decoder alone (as `decide_session`'s), with no layer of `wire.decoder`'s around
    # it: a body it refuses (one an open union's tolerant reading might take) goes the general route,
    # which reads it again. Its hook is the params' (the envelope's other members are msgspec's own).
    return msgspec.json.Decoder(envelope, dec_hook=shapes.hook_for(hooked)).decode


async def _send_answer(send: Send, answer: bytes) -> None:
    """A direct call's answer, as JSON with the status it carries (`respond`, inlined)."""
    head = [CONTENT_LENGTH[len(answer)], JSON_TYPE]
    await send({"type": "http.response.start", "status": stateless_status(answer, 200), "headers": head})
    await send({"type": "http.response.body", "body": answer})


async def _through(rest: Awaitable[bytes]) -> bytes:
    """A direct call that waits, carried on by its task to its answer."""
    return await rest
