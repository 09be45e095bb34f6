"""The schema-exact server: implement a revision's generated `ServerHandler` protocol directly.

    from mcpbind.generated import v2025_06_18 as mcp

    class Handler:
        async def initialize(self, params: mcp.InitializeRequestParams, ctx: Ctx, /) -> mcp.InitializeResult:
            ...
        async def call_tool(self, params: mcp.CallToolRequestParams, ctx: Ctx, /) -> mcp.CallToolResult: ...

    await HandlerServer(Handler(), "2025-06-18").serve(transport)

Every request of the revision is routed by the method table to the handler method it names; a method
the handler lacks is answered -32601. Nothing leaves unchecked: each result is validated against the
revision's result types before it is sent (msgspec Structs do not validate on construction), and a
handler that returns something the schema forbids gets -32603 instead of a wrong byte on the wire.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import msgspec

from .. import wire
from ..aio import own
from ..aio.interfaces import MessageTransport
from ..aio.peer import Peer
from ..errors import InvalidParams, InvalidRequest, McpError, MethodNotFound, quoted
from ..protocol import revisions
from ..protocol.dispatch import requested_text, requested_version
from ..protocol.endpoint import IncomingNotification, IncomingRequest
from ..protocol.jsonrpc import INTERNAL_ERROR, RequestId, encode_error, encode_result

__all__ = ["HandlerServer", "HandlerContext"]

log = logging.getLogger("mcpbind.lowlevel")


@dataclass
class HandlerContext:
    """What a low-level handler gets with each call: the request id, and a typed stub to the client."""

    request_id: RequestId | None
    client: Any
    """The revision's `ServerStub`: server->client requests and notifications, typed."""


class _Sender:
    def __init__(self, peer: Peer) -> None:
        self.peer = peer

    async def send_request(self, method: Any, params: Any) -> Any:
        return await self.peer.request(method.name, params, wire.decoder(method.result_type).decode)

    async def send_notification(self, method: Any, params: Any) -> None:
        await self.peer.notify(method.name, params)


class HandlerServer:
    def __init__(self, handler: object, revision: str, *, max_concurrency: int = 64) -> None:
        self.handler = handler
        self.revision = revision
        self.spec = revisions.revision(revision)
        self.module: ModuleType = self.spec.module
        self.max_concurrency = max_concurrency

    async def serve(self, transport: MessageTransport) -> None:
        conn = _HandlerConnection(self, transport)
        try:
            await conn.peer.run()
        finally:
            await transport.close()


class _HandlerConnection:
    def __init__(self, server: HandlerServer, transport: MessageTransport) -> None:
        self.server = server
        self.rev = server.spec
        self.peer = Peer(
            transport,
            on_request=self.on_request,
            on_notification=self.on_notification,
            max_concurrency=server.max_concurrency,
            serial=frozenset({"initialize"}),
        )
        self.stub = self.rev.type("ServerStub")(_Sender(self.peer))
        self.initialized = False
        """An `initialize` was answered with a result: the next one is refused (-32600)."""

    def _decode_params(self, spec: Any, raw: msgspec.Raw | None) -> Any:
        if spec.params_type is None or raw is None:
            if spec.params_required:
                raise InvalidParams(f"Invalid params: {spec.name} requires params")
            return None
        try:
            return wire.decoder(spec.params_type).decode(raw)
        except msgspec.ValidationError as exc:
            raise InvalidParams(f"Invalid params: {exc}") from None

    def _check_version(self, raw: msgspec.Raw | None) -> None:
        """A stateless revision's request names its version in `_meta`, judged as the high-level
        server judges it, ahead of anything else wrong with its params: a version that is no text is
        -32022 with its JSON text, as a version the server does not speak, not the decoder's -32602 on
        a string. Asked only where the decoded params do not name the server's version (`on_request`):
        the usual request's version is read by its params' decode, with no peek of its own."""
        if not self.rev.stateless:
            return
        requested = requested_version(raw)
        if requested != self.server.revision:
            if requested is None:
                # The 2026-07-28 spec: a request missing a required `_meta` field is malformed and
                # MUST be rejected with -32602 (Invalid params).
                raise InvalidParams(f"Invalid params: requests must carry `_meta.{revisions.META_VERSION}`")
            raise McpError(
                "Unsupported protocol version",
                code=revisions.UNSUPPORTED_PROTOCOL_VERSION,
                data={"supported": [self.server.revision], "requested": requested_text(requested)},
            )

    async def on_request(self, event: IncomingRequest) -> bytes | None:
        try:
            spec = self.rev.requests.get(event.method)
            if spec is None or "client_to_server" not in spec.directions:
                raise MethodNotFound(f"Method not found: {quoted(event.method)}")
            if event.method == "initialize" and self.initialized:
                # A session is initialized once (as the high-level server rules): another
                # `initialize` must not reach the handler and renegotiate under running requests.
                # `initialize` is serial on the peer, so two cannot pass this check together.
                raise InvalidRequest("Invalid request: the session is initialized already")
            fn = getattr(self.server.handler, spec.handler, None)
            if fn is None:
                if event.method == "ping":
                    return encode_result(event.id, {})
                raise MethodNotFound(f"Method not found: {quoted(event.method)}")
            try:
                params = self._decode_params(spec, event.params)
            except InvalidParams:
                self._check_version(event.params)  # (a version refused first, whatever else is wrong)
                raise
            if self.rev.stateless and _named_version(params) != self.server.revision:
                self._check_version(event.params)  # (the version read from the params as sent: refused)
            result = await own.run(fn(params, HandlerContext(event.id, self.stub)))
            data = wire.encode(result)
            try:
                wire.decoder(spec.result_type).decode(data)
            except msgspec.ValidationError as exc:
                log.error(
                    "%s handler returned what MCP %s forbids: %s", event.method, self.server.revision, exc
                )
                raise McpError("Internal error", code=INTERNAL_ERROR) from None
            if not isinstance(result, spec.result_types):
                names = ", ".join(t.__name__ for t in spec.result_types)
                log.error("%s handler returned %s, not %s", event.method, type(result).__name__, names)
                raise McpError("Internal error", code=INTERNAL_ERROR)
            if event.method == "initialize":
                self.initialized = True
            return b'{"jsonrpc":"2.0","id":' + wire.encode(event.id) + b',"result":' + data + b"}"
        except McpError as exc:
            return encode_error(event.id, exc.code, exc.message, exc.data)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("internal error answering %s", event.method)
            return encode_error(event.id, INTERNAL_ERROR, "Internal error")

    async def on_notification(self, event: IncomingNotification) -> None:
        if event.method == "notifications/cancelled" and event.params is not None:
            try:
                self.peer.cancel_incoming(msgspec.json.decode(event.params)["requestId"])
            except (msgspec.DecodeError, KeyError, TypeError):
                pass
        spec = self.rev.notifications.get(event.method)
        fn = getattr(self.server.handler, f"on_{spec.handler}", None) if spec is not None else None
        if spec is None or fn is None:
            return
        try:
            params = self._decode_params(spec, event.params)
        except McpError:
            log.warning("ignoring %s with invalid params", event.method)
            return
        await own.run(fn(params, HandlerContext(None, self.stub)))


def _named_version(params: Any) -> Any:
    """The protocol version decoded params name in their `_meta` (None where they name none)."""
    meta = getattr(params, "meta", None)
    return meta.get(revisions.META_VERSION) if isinstance(meta, dict) else None
