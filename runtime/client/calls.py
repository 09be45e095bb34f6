"""The client's conveniences: tools, resources, prompts, completions, listings (cached), subscriptions.

Each is one request (or a few: pages, the input rounds of a stateless revision) built from plain
arguments; `Client` supplies the requests themselves (`request`) and the negotiated revision.

Every result is typed as the newest revision's generated type (`mcpbind.generated.latest`), whatever
revision was negotiated: an older revision's result is decoded and checked by its own revision's types
first, then re-read into the newest one's (`prepared`, as the answer is decoded). Each member of an older
result has a place in the newer type (a unit test checks this per type), except those the newest
revision dropped (see README).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from abc import abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from itertools import count
from typing import TYPE_CHECKING, Any, Final

from msgspec import UNSET

from .. import wire
from ..errors import McpError, SessionClosed, quoted
from ..protocol import revisions
from ..protocol.headers import InvalidHeaderAnnotation, param_headers
from ..protocol.jsonrpc import INTERNAL_ERROR
from ..protocol.request_state import params_digest
from .inbound import InputCallbacks
from .negotiate import Negotiation
from .outputs import OutputSchemas

if TYPE_CHECKING:
    from ..generated import latest as mcp

__all__ = ["MAX_INPUT_REQUESTS", "MAX_LISTED", "Calls", "Progress", "UnexpectedResult", "next_page"]

_MAX_ROUNDS: Final = 16
MAX_INPUT_REQUESTS: Final = 64
"""The most input requests (elicitation, sampling, roots) one InputRequiredResult may carry: each is a
call of the user's callback, and one large result could otherwise hold ~100,000 of them. A result
asking more fails the call before any callback is called."""
MAX_LISTED: Final = 100_000
"""The most items a listing of every page (`list_tools`, ...) gathers: a server whose pages never end
(a new cursor each time) must not fill the client's memory. Past it, the listing fails."""

log = logging.getLogger("mcpbind.client")


def next_page(method: str, cursor: str, seen: set[int], gathered: int) -> str:
    """`cursor`, the next page of a listing of every page that has `gathered` items so far and has
    followed the cursors `seen` (their hashes: a cursor may be large; a collision ends a listing);
    McpError if the pages loop or the items pass `MAX_LISTED`."""
    if hash(cursor) in seen:
        raise McpError(f"{method}: the server's pages loop (a cursor came again)", code=INTERNAL_ERROR)
    if gathered >= MAX_LISTED:
        raise McpError(f"{method}: more than {MAX_LISTED} items", code=INTERNAL_ERROR)
    seen.add(hash(cursor))
    return cursor


Progress = Callable[[float, float | None, str | None], Awaitable[None]]
"""A progress callback: progress so far, the total if known, a message."""


class UnexpectedResult(McpError):
    """The server answered with a kind of result this call does not take (a task where no task was
    asked for, an extension's): the result is kept whole, as sent, in `result`."""

    def __init__(self, method: str, result: wire.Unknown) -> None:
        kind = result.get("resultType")
        # (The server's value quoted and clipped: a megabyte of it is not carried in the message.)
        super().__init__(f"{method}: the server answered with a {quoted(kind)} result", code=INTERNAL_ERROR)
        self.result = result


def _final(result: Any) -> bool:
    """Whether `result` is the answer itself: neither a request for input nor of an unknown kind."""
    kind = type(result)
    return kind is not wire.Unknown and kind.__name__ != "InputRequiredResult"


def _newest(result: Any, method: str) -> Any:
    """`result`, read as the newest revision's type (`prepared`), unless of a kind its revision lacks."""
    if type(result) is wire.Unknown:
        raise UnexpectedResult(method, result)
    return result


class Calls(Negotiation):
    """The conveniences of `Client`, over its `request`."""

    _input: InputCallbacks
    _progress: dict[Any, Progress]
    _tokens: count[int]
    _cache: dict[tuple[str, str], tuple[float, Any]] | None
    """Listings whose result carried a positive `ttlMs`, as the newest revision's types, until expiry."""
    _acknowledged: asyncio.Event | None
    _outputs: OutputSchemas | None = None
    """The output schemas the last `list_tools` gave (None before it): `call_tool` checks against them."""

    @abstractmethod
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
    ) -> Awaitable[Any]: ...

    _session_epoch: int

    @abstractmethod
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
    ) -> Any: ...

    async def _with_input(
        self,
        method: str,
        params: dict[str, Any],
        latest: str,
        *,
        meta: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> Any:
        """A request that may answer InputRequiredResult: fulfil its input requests and retry. The
        result is the newest revision's type `latest`."""
        result = await self._call(method, params, meta, timeout, None, latest)
        if _final(result):
            return result
        return await self._rounds(method, params, latest, result, meta, timeout)

    async def _rounds(
        self,
        method: str,
        params: dict[str, Any],
        latest: str,
        result: Any,
        meta: Mapping[str, Any] | None,
        timeout: float | None,
    ) -> Any:
        """`_with_input` from its first `result` on, when that is no final result of the kind asked
        for (apart so that the usual call, answered at once, is one coroutine less)."""
        for _ in range(_MAX_ROUNDS):
            if type(result).__name__ != "InputRequiredResult":
                return _newest(result, method)
            retry = {k: v for k, v in params.items() if k not in ("inputResponses", "requestState")}
            if result.input_requests is not UNSET:
                if len(result.input_requests) > MAX_INPUT_REQUESTS:
                    raise McpError(
                        f"{method}: the server asked for {len(result.input_requests)} inputs at once,"
                        f" more than the {MAX_INPUT_REQUESTS} a round may ask",
                        code=INTERNAL_ERROR,
                    )
                retry["inputResponses"] = {
                    key: await self._input.fulfil(wire.to_builtins(req))
                    for key, req in result.input_requests.items()
                }
            if result.request_state is not UNSET:
                retry["requestState"] = result.request_state
            result = await self._call(method, retry, meta, timeout, None, latest)
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
        progress: Progress | None = None,
        timeout: float | None = None,
    ) -> mcp.CallToolResult:
        """Call a tool; a tool failure is a result with `is_error` set, not an exception."""
        params: dict[str, Any] = {"name": name}
        if arguments is not None:
            params["arguments"] = dict(arguments)
        meta: dict[str, Any] | None = None
        token = None
        if progress is not None:
            token = f"p{next(self._tokens)}"
            self._progress[token] = progress
            meta = {"progressToken": token}
        try:
            try:
                # `_with_input`, inline: most calls are answered at once. Sent with no coroutine of
                # the client's around it (`renew=False`): an error may say that the server ended the
                # session it went in, which `_sent_again` decides as `_call`'s own renewal would.
                epoch, revision, latest_call = self._session_epoch, self.revision, "CallToolResult"
                try:
                    result = await self._call("tools/call", params, meta, timeout, None, latest_call, False)
                except McpError as exc:
                    result = await self._sent_again(
                        exc, epoch, revision, "tools/call", params, meta, timeout, latest_call
                    )
                kind = type(result)  # (`_final`, inline)
                if kind is wire.Unknown or kind.__name__ == "InputRequiredResult":
                    result = await self._rounds("tools/call", params, "CallToolResult", result, meta, timeout)
            except McpError as exc:
                if exc.code != revisions.HEADER_MISMATCH:
                    raise
                # The tool's header annotations may have changed: list the tools again, then retry once.
                if self._cache is not None:
                    self._cache = {k: v for k, v in self._cache.items() if k[0] != "tools/list"}
                await self.list_tools()
                result = await self._with_input(
                    "tools/call", params, "CallToolResult", meta=meta, timeout=timeout
                )
        finally:
            if token is not None:
                self._progress.pop(token, None)
        latest: mcp.CallToolResult = result
        if self._outputs:
            self._outputs.check(name, latest)
        return latest

    async def _cached(self, method: str, params: dict[str, Any], kind: str) -> Any:
        key = (method, params_digest(params))
        if self._cache is not None:
            hit = self._cache.get(key)
            if hit is not None and hit[0] > time.monotonic():
                return hit[1]
        result = _newest(await self._call(method, params, None, None, None, kind), method)
        ttl = getattr(result, "ttl_ms", UNSET)
        if self._cache is not None and ttl is not UNSET and isinstance(ttl, (int, float)) and ttl > 0:
            self._cache[key] = (time.monotonic() + ttl / 1000.0, result)
        return result

    async def _list(self, method: str, key: str, kind: str) -> list[Any]:
        items: list[Any] = []
        cursor: str | None = None
        seen: set[int] = set()
        for _ in range(10_000):
            params = {"cursor": cursor} if cursor else {}
            result = await self._cached(method, params, kind)
            items.extend(getattr(result, key))
            nxt = getattr(result, "next_cursor", UNSET)
            if nxt is UNSET or not nxt:
                return items
            cursor = next_page(method, nxt, seen, len(items))
        raise McpError(f"{method}: too many pages", code=INTERNAL_ERROR)

    async def list_tools(self) -> list[mcp.Tool]:
        """Every tool (all pages). Over HTTP, a tool whose `x-mcp-header` annotations break the rules is
        left out (the spec says so), and the others' annotations shape the headers of their calls."""
        tools: list[mcp.Tool] = await self._list("tools/list", "tools", "ListToolsResult")
        self._outputs = OutputSchemas(tools)
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

    async def list_resources(self) -> list[mcp.Resource]:
        """Every resource (all pages)."""
        return await self._list("resources/list", "resources", "ListResourcesResult")

    async def list_resource_templates(self) -> list[mcp.ResourceTemplate]:
        """Every resource template (all pages)."""
        return await self._list(
            "resources/templates/list", "resource_templates", "ListResourceTemplatesResult"
        )

    async def list_prompts(self) -> list[mcp.Prompt]:
        """Every prompt (all pages)."""
        return await self._list("prompts/list", "prompts", "ListPromptsResult")

    async def read_resource(self, uri: str) -> mcp.ReadResourceResult:
        if self.stateless:
            result = await self._with_input("resources/read", {"uri": uri}, "ReadResourceResult")
        else:
            result = _newest(
                await self._call("resources/read", {"uri": uri}, None, None, None, "ReadResourceResult"),
                "resources/read",
            )
        latest: mcp.ReadResourceResult = result
        return latest

    async def get_prompt(self, name: str, arguments: Mapping[str, str] | None = None) -> mcp.GetPromptResult:
        params: dict[str, Any] = {"name": name}
        if arguments is not None:
            params["arguments"] = dict(arguments)
        latest: mcp.GetPromptResult = await self._with_input("prompts/get", params, "GetPromptResult")
        return latest

    async def complete(
        self,
        ref: mcp.PromptReference | mcp.ResourceTemplateReference | Mapping[str, str],
        argument: Mapping[str, str],
        context: Mapping[str, str] | None = None,
    ) -> mcp.CompleteResult:
        """Completions for `argument` (`{"name": ..., "value": ...}`) of a prompt or resource template
        (`ref`: a reference, or its JSON form); `context`: the values of arguments already chosen."""
        params: dict[str, Any] = {"ref": wire.to_builtins(ref), "argument": dict(argument)}
        if context is not None:
            params["context"] = {"arguments": dict(context)}
        result = await self._call("completion/complete", params, None, None, None, "CompleteResult")
        latest: mcp.CompleteResult = _newest(result, "completion/complete")
        return latest

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
