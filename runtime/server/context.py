"""A handler's `Context`: what it knows of the request it serves, and what it may send while serving it.

What differs between the eras (where the client's capabilities and log level come from, how the client
is asked for input) is the request's `Era`'s to say (`mcpbind.protocol.eras`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType, ModuleType
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar, overload

import msgspec
from msgspec import UNSET

from .. import wire
from ..aio.interfaces import ROUTE
from ..errors import InvalidParams, McpError, quoted
from ..protocol import eras, revisions
from ..protocol.jsonrpc import RequestId, encode_notification
from ..protocol.request_state import CALLER

if TYPE_CHECKING:
    from ..auth.server.principal import Principal
    from ..generated import latest as mcp
    from .registry import Server
    from .session import Connection
    from .shared import SharedState
    from .tasks import TaskGate, TaskInput

__all__ = ["Context", "ElicitOutcome", "NeedInput", "LOG_LEVELS"]

LOG_LEVELS: Final = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")
_NUMBERS: Final = (int, float)
_TOKENS: Final = (str, int, float)
_PROGRESS: Final[dict[revisions.Revision, tuple[Any, bool]]] = {}
"""Each revision's progress params type, and whether it has `message` (2025-03-26 on): looked up once,
not by name on every report."""
T = TypeVar("T")
_NO_ANSWERS: Final[Mapping[str, Any]] = MappingProxyType({})


class ElicitOutcome(msgspec.Struct, Generic[T], frozen=True):
    """The user's answer to an elicitation: `action` is accept, decline or cancel; `content` what the
    user entered when accepted (a dict, or the type the form was made from)."""

    action: str
    content: T | None = None


class NeedInput(Exception):
    """A handler of the envelope era asked for input it does not have yet: the request answers
    InputRequiredResult."""

    def __init__(self, key: str, request: dict[str, Any]) -> None:
        super().__init__(key)
        self.key = key
        self.request = request


def drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


def _sampling_message(message: str | Mapping[str, Any] | msgspec.Struct) -> Any:
    """One message of a sampling request in its JSON form: a text or a content block is the user's."""
    if isinstance(message, str):
        return {"role": "user", "content": {"type": "text", "text": message}}
    plain = wire.to_builtins(message)
    if isinstance(plain, dict) and "role" not in plain and "type" in plain:
        return {"role": "user", "content": plain}
    return plain


class Context:
    """What a handler knows of the request it serves, and what it may do while serving it."""

    # Slots for what every request sets (one is made per request); `__dict__` for the rest, made only
    # when set: the task members below, or what a handler's author hangs on its context.
    __slots__ = (
        "__dict__",
        "_client_caps",
        "_conn",
        "_rev",
        "answers",
        "era",
        "meta",
        "module",
        "progress_token",
        "request_id",
        "revision",
        "stateless",
    )

    # Class defaults, so that a request that is no task pays nothing for them (`server.tasks` sets them).
    task: TaskInput | None = None
    """Set while the request runs as a task: input is asked for through the task."""
    task_gate: TaskGate | None = None
    """Set for a tool that becomes a task when it calls `become_task`."""
    # Made when a handler first asks for input (most never do): class defaults until then.
    _asked = 0
    _needed: dict[str, dict[str, Any]] | None = None
    _consumed: set[str] | None = None
    _carried: dict[str, Any] | None = None
    _failed_ask: tuple[str, McpError] | None = None
    """The last of the handler's requests to the client that failed (its method, the error)."""

    def __init__(
        self,
        conn: Connection,
        request_id: RequestId,
        revision: str | revisions.Revision,
        meta: dict[str, Any] | None,
        client_capabilities: Any,
        answers: dict[str, Any] | None = None,
    ) -> None:
        self._conn = conn
        self.request_id = request_id
        rev = self._rev = (
            revision if isinstance(revision, revisions.Revision) else revisions.revision(revision)
        )
        self.revision: str = rev.name
        self.module: ModuleType = rev.module
        self.era: eras.Era = eras.ENVELOPE if rev.stateless else eras.SESSION  # (`eras.of`: every request)
        self.stateless = self.era.stateless
        self.meta: dict[str, Any] = meta or {}
        # A dict, or the typed form decoded from `_meta`, made a dict when a handler first asks.
        self._client_caps = client_capabilities
        self.answers: Mapping[str, Any] = answers if answers is not None else _NO_ANSWERS
        """Input the client gave with a retried request (envelope era), by input request key."""
        self.progress_token = self.meta.get("progressToken")

    @property
    def client_capabilities(self) -> dict[str, Any]:
        """What the client offers (sampling, elicitation, roots...), in wire form."""
        caps = self._client_caps
        if type(caps) is not dict:
            caps = self._client_caps = wire.to_builtins(caps) or {}
        assert isinstance(caps, dict)
        return caps

    @property
    def client_info(self) -> dict[str, Any]:
        """Who the client says it is (`name`, `version`...), in wire form: from `initialize` in the
        session era, from the request's `_meta` in 2026-07-28 (empty if it says nothing)."""
        info = self.era.client_info(self._conn.client_info, self.meta)
        if type(info) is not dict:
            info = wire.to_builtins(info)
        assert isinstance(info, dict)
        return info

    @property
    def needed(self) -> dict[str, dict[str, Any]]:
        """Input requests made while the handler ran without an answer (envelope era)."""
        if self._needed is None:
            self._needed = {}
        return self._needed

    @property
    def consumed(self) -> set[str]:
        """Keys of `answers` the handler used."""
        if self._consumed is None:
            self._consumed = set()
        return self._consumed

    @property
    def principal(self) -> Principal | None:
        """Who the caller is, from its verified access token (subject, client id, scopes, claims): set
        over HTTP with a resource server (`mcpbind.auth.server`), in both eras; None without one."""
        return CALLER.get()

    @property
    def carried(self) -> dict[str, Any]:
        """The handler's own state across rounds of input. On 2026-07-28 a handler that asks for
        input (`elicit`, `sample`, `list_roots`) is run again from the start once the client answers;
        what it puts here first (JSON data: an id of work already done, say) is sealed into the
        `requestState` and is here again on the re-run, so that work done before asking need not be
        repeated. In the session era the handler runs once, and this is a plain dict."""
        if self._carried is None:
            self._carried = {}
        return self._carried

    @property
    def has_carried(self) -> bool:
        """`carried` holds something (asking does not make the dict)."""
        return bool(self._carried)

    @property
    def server(self) -> Server:
        return self._conn.server

    @property
    def shared(self) -> SharedState:
        """Values kept between requests, shared by every worker when served over Redis (`server.shared`)."""
        return self._conn.server.shared

    @property
    def lifespan(self) -> Any:
        """What the server's lifespan yielded (`Server(lifespan=...)`); `lifespan_as` checks its type."""
        return self._conn.server.lifespan.state

    def lifespan_as(self, tp: type[T]) -> T:
        """The lifespan's state as a `tp` (TypeError if it is not one): typed access for handlers."""
        return self._conn.server.lifespan.state_as(tp)

    @property
    def connection(self) -> Connection:
        """The connection serving the request."""
        return self._conn

    async def progress(self, progress: float, total: float | None = None, message: str | None = None) -> None:
        """Report progress, if the client asked for it (`progressToken`)."""
        token = self.progress_token
        if token is None:
            return
        rev = self._rev
        found = _PROGRESS.get(rev)
        if found is None:
            params_type = rev.type("ProgressNotificationParams")
            found = _PROGRESS[rev] = (params_type, "message" in params_type.__struct_fields__)
        params_type, has_message = found
        if (
            type(progress) in _NUMBERS
            and (total is None or type(total) in _NUMBERS)
            and (message is None or (type(message) is str and has_message))
            and type(token) in _TOKENS
        ):
            # Every value of exactly its declared type: the params are built as their type, which
            # conversion would give as well, without a second pass to check them.
            body = params_type(progress_token=token, progress=progress)
            if total is not None:
                body.total = total
            if message is not None:
                body.message = message
            # Sent with no coroutine where that needs no wait (`Requester.offer`: an HTTP request's
            # stream with room), as `notify` sends it otherwise.
            peer = self._conn.peer
            data = encode_notification("notifications/progress", body)
            if not peer.offer(data):
                await peer.send(data)
            return
        params = drop_none({"progressToken": token, "progress": progress, "total": total, "message": message})
        await self._conn.notify("notifications/progress", params, self.module)

    async def log(self, level: str, data: Any, logger: str | None = None) -> None:
        """Send a log message to the client, if its level is at or above the one the client chose."""
        if level not in LOG_LEVELS:
            raise ValueError(f"unknown log level {level!r}")
        wanted = self.era.log_level(self._conn.log_level, self.meta)
        if wanted is None or LOG_LEVELS.index(level) < LOG_LEVELS.index(wanted):
            return
        await self._conn.notify(
            "notifications/message", drop_none({"level": level, "data": data, "logger": logger}), self.module
        )

    async def report_progress(
        self, progress: float, total: float | None = None, message: str | None = None
    ) -> None:
        """`progress(...)`, by the name other Python MCP servers give it."""
        await self.progress(progress, total, message)

    # The levels handlers log at most, by name.

    async def debug(self, data: Any, logger: str | None = None) -> None:
        """`log("debug", ...)`."""
        await self.log("debug", data, logger)

    async def info(self, data: Any, logger: str | None = None) -> None:
        """`log("info", ...)`."""
        await self.log("info", data, logger)

    async def warning(self, data: Any, logger: str | None = None) -> None:
        """`log("warning", ...)`."""
        await self.log("warning", data, logger)

    async def error(self, data: Any, logger: str | None = None) -> None:
        """`log("error", ...)`."""
        await self.log("error", data, logger)

    async def read_resource(self, uri: str) -> list[mcp.TextResourceContents | mcp.BlobResourceContents]:
        """Read one of this server's own resources (or a template's), as a client's `resources/read`
        would: its contents, as the newest revision's types. The caller's scopes apply; a URI that
        names nothing raises the revision's not-found error."""
        from ..generated import latest  # (on use: few handlers read a resource)

        result, _ = await self._conn.server.read_resource(uri, self)
        read: mcp.ReadResourceResult = wire.convert(result, latest.ReadResourceResult)
        return list(read.contents)

    # Input from the user or the model: the era says how the client is asked (a server->client
    # request, or an InputRequiredResult and a re-run of the handler with the answers).

    async def _ask(
        self,
        method: str,
        capability: str,
        params: dict[str, Any],
        result: str,
        key: str | None,
        as_task: bool = False,
    ) -> Any:
        if capability not in self.client_capabilities:
            raise self.era.missing_capability(
                f"the client does not support {method} (no `{capability}` capability)", {capability: {}}
            )
        if key is None:
            key = f"{method.split('/')[0]}-{self._asked}"
        self._asked += 1
        result_type = self._rev.type(result)
        if as_task and self.era.asks_inline:
            from .requestor import ask_as_task, check_as_task  # (on use: few handlers ask for a task)

            check_as_task(self, method)  # (the server's own refusal: the call's error, not the tool's)
        try:
            if as_task and self.era.asks_inline:
                return await ask_as_task(self, method, params, result_type)
            if self.task is not None:
                return await self.task.ask(self, method, params, result_type, key)
            if self.era.asks_inline:
                return await self._conn.ask(method, params, result_type, self.module)
        except McpError as exc:
            self._failed_ask = (method, exc)
            raise
        if key in self.answers:
            self.consumed.add(key)
            try:
                return wire.convert(self.answers[key], result_type)
            except msgspec.ValidationError as exc:  # the client's own params: not a fault of ours
                raise InvalidParams(
                    f"Invalid params: inputResponses[{quoted(key)}] is no {result} (asked by {method}): {exc}"
                ) from None
        # Every ask made before the handler stops (several, under asyncio.gather) is collected,
        # so that one InputRequiredResult carries them all.
        self.needed[key] = {"method": method, "params": params}
        raise NeedInput(key, self.needed[key])

    async def become_task(self) -> None:
        """From here on, run as a task: the request answers `CreateTaskResult` and the rest of the tool
        runs on (a tool registered with `defer_task=True`, which may first gather input with the
        request's own round trips). Elsewhere, nothing happens."""
        gate = self.task_gate
        if gate is not None and not gate.started.done():
            gate.started.set_result(None)
            await gate.ready.wait()

    @overload
    async def elicit(
        self,
        message: str,
        schema: type[T],
        *,
        url: str | None = None,
        key: str | None = None,
        as_task: bool = False,
    ) -> ElicitOutcome[T]: ...

    @overload
    async def elicit(
        self,
        message: str,
        schema: dict[str, Any] | None = None,
        *,
        url: str | None = None,
        key: str | None = None,
        as_task: bool = False,
    ) -> ElicitOutcome[dict[str, Any]]: ...

    async def elicit(
        self,
        message: str,
        schema: Any = None,
        *,
        url: str | None = None,
        key: str | None = None,
        as_task: bool = False,
    ) -> ElicitOutcome[Any]:
        """Ask the user; `schema` is the requested (flat) JSON Schema of an object (none: a form of
        no fields, a confirmation), or a type (a dataclass, TypedDict, msgspec Struct or pydantic
        model of flat primitive members) whose form is made from it and whose instance `content`
        then is. With `url`, ask the user to visit it
        instead (URL mode). `key` names the input request (stateless revisions). With `as_task`
        (2025-11-25, a client declaring `tasks.requests.elicitation.create`) the client runs it as a
        task, polled until it ends (`mcpbind.server.requestor`); stateless revisions ignore it."""
        from . import types  # (on use: most handlers never elicit)

        convert = None
        if schema is None:  # a confirmation: accept, decline or cancel, with no field to fill
            schema = {"type": "object", "properties": {}}
        elif not isinstance(schema, dict):
            convert = types.converter(schema)
            schema = types.form_schema(schema)
        params: dict[str, Any] = {"message": message, "requestedSchema": schema}
        if url is not None:
            self._url_mode_offered()
            elicitation_id = key or f"e{self._asked}"
            params = {"mode": "url", "message": message, "url": url, "elicitationId": elicitation_id}
        answer = await self._ask("elicitation/create", "elicitation", params, "ElicitResult", key, as_task)
        # Content comes with an accept alone (the schema: "only present when action is accept"), and
        # is what the form allows (servers SHOULD check it): a handler sees no client's data unchecked.
        content = answer.content if answer.content is not UNSET and answer.action == "accept" else None
        if convert is not None and content is not None:
            try:
                content = convert(content)
            except ValueError as exc:  # msgspec's and pydantic's validation errors both are
                raise self._unfilled(str(exc)) from None
        elif answer.action == "accept" and url is None:
            from .forms import mismatch  # (on use, as `types`)

            why = mismatch(schema, content or {})  # (an accept with no content: its required fields)
            if why is not None:
                raise self._unfilled(why)
            fields = schema.get("properties")
            if content and isinstance(fields, dict):
                # Members the form does not ask for are checked by nothing: left out, as a type's
                # conversion leaves them (a confirmation's content is then empty).
                content = {name: value for name, value in content.items() if name in fields}
        return ElicitOutcome(answer.action, content)

    def _unfilled(self, why: str) -> McpError:
        message = f"the client's answer does not fill the form: {why}"
        # In the envelope era the answer is part of the request's own params (`inputResponses`).
        return McpError(message) if self.era.asks_inline else InvalidParams(f"Invalid params: {message}")

    def _url_mode_offered(self) -> None:
        """URL-mode elicitation exists from 2025-11-25 on, and only for a client that declares it
        (`elicitation.url`; an empty `elicitation` means form mode alone)."""
        if not self._rev.url_elicitation:
            raise McpError(f"URL-mode elicitation is not part of protocol revision {self.revision}")
        elicitation = self.client_capabilities.get("elicitation")
        if not isinstance(elicitation, dict) or "url" not in elicitation:
            raise self.era.missing_capability(
                "the client does not support URL-mode elicitation (no `elicitation.url` capability)",
                {"elicitation": {"url": {}}},
            )

    def close_sse_stream(self, retry_ms: int = 1000) -> None:
        """On Streamable HTTP (stateful sessions with resumable streams), close the connection that
        carries this request's answer after what is queued, telling the client to reconnect in
        `retry_ms` and resume with Last-Event-ID (SSE polling). Elsewhere, nothing happens."""
        channel = ROUTE.get()
        if channel is not None:
            channel.poll(retry_ms)

    async def complete_elicitation(self, elicitation_id: str) -> None:
        """Tell the client that a URL-mode elicitation finished out of band (where the revision has
        `notifications/elicitation/complete`)."""
        await self._conn.notify(
            "notifications/elicitation/complete", {"elicitationId": elicitation_id}, self.module
        )

    async def sample(
        self,
        messages: str | Sequence[str | Mapping[str, Any] | msgspec.Struct],
        max_tokens: int = 512,
        *,
        key: str | None = None,
        as_task: bool = False,
        **options: Any,
    ) -> Any:
        """Ask the client's model; returns the revision's CreateMessageResult. `messages`: the
        conversation, each a `SamplingMessage` (its JSON form or the generated type), a content block
        (`mcpbind.server.content`) or a text, which are the user's; a text alone is one such message.
        `options` are the request's other members by wire name (`systemPrompt`, `tools`,
        `toolChoice`...); `tools` only to a client that declares `sampling.tools`. `as_task` as for
        `elicit`."""
        if "tools" in options or "toolChoice" in options:
            sampling = self.client_capabilities.get("sampling")
            if not isinstance(sampling, dict) or "tools" not in sampling:
                raise self.era.missing_capability(
                    "the client does not support tools in sampling (no `sampling.tools` capability)",
                    {"sampling": {"tools": {}}},
                )
        said = [messages] if isinstance(messages, str) else messages
        params = {"messages": [_sampling_message(m) for m in said], "maxTokens": max_tokens, **options}
        return await self._ask(
            "sampling/createMessage", "sampling", params, "CreateMessageResult", key, as_task
        )

    async def ping(self, *, timeout: float = 30.0) -> None:
        """Ask the client whether it is still there: returns once it answers (an empty result), raises
        `RequestTimeout` if it does not within `timeout` seconds, `McpError` if it answers an error.

        Only where the request's revision has a server-to-client ping (2024-11-05 to 2025-11-25, over a
        session). The 2026-07-28 revision has no ping in either direction, and its server sends the client
        nothing of its own outside a request's `InputRequiredResult` (sampling, roots, elicitation):
        there it raises `McpError` at once, sending nothing."""
        if not self.era.asks_inline or "ping" not in self.module.REQUESTS:
            raise McpError(
                f"protocol revision {self.revision} has no ping: its server asks the client nothing "
                "outside InputRequiredResult"
            )
        spec = self.module.REQUESTS["ping"]
        try:
            await self._conn.ask("ping", {}, spec.result_type, self.module, timeout=timeout)
        except McpError as exc:
            self._failed_ask = ("ping", exc)
            raise

    def failed_ask(self, exc: BaseException) -> str | None:
        """Why the handler failed, if `exc` (out of it) is the failure of one of its own requests to the
        client: the client's error answer to it, or its timeout. Such a failure is the tool's, not the
        call's: a tool that lets it escape answers an `isError` result saying this, as the spec has
        errors in tool execution reported (and as the TypeScript and Python SDK servers do). None for
        any other exception (an `McpError` the handler raises itself stays the call's error), and for
        the revision's URL-elicitation-required error (-32042), which the spec makes the answer of the
        request that needs it, and which the TypeScript server passes on so too."""
        failed = self._failed_ask
        if failed is None or failed[1] is not exc:
            return None
        if failed[1].code == self._rev.errors.get("URL_ELICITATION_REQUIRED"):
            return None
        method, error = failed
        return f"the client's answer to {method} was an error ({error.code}): {error.message}"

    async def list_roots(self, *, key: str | None = None) -> list[Any]:
        """The client's roots (the revision's Root structs)."""
        result = await self._ask("roots/list", "roots", {}, "ListRootsResult", key)
        return list(result.roots)
