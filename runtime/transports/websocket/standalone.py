"""The MCP endpoint on the `websockets` server alone, where no ASGI server is wanted (`mcpbind[ws]`).

    server.run_websocket(host="127.0.0.1", port=8000)     # ws://127.0.0.1:8000/mcp

The upgrade request is checked as a POST to `HttpApp` is (`HttpSecurity`: Host, Origin, the bearer
token) and must be for the MCP path; the subprotocol is `mcp`. Each connection is then served by the
adapter both drivers share (`core`); the library answers pings, sends its own every
`ping_interval` and enforces `max_message` (closing with 1009).
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from websockets.asyncio.server import Server as WsServer
from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from ...protocol.inbound import Rejection
from ...protocol.request_state import PRINCIPAL
from ..http.security import HttpSecurity, authenticate, principal_text, refuse
from .core import SUBPROTOCOL, WebSocketOptions, refuse_subprotocol, serve_socket

if TYPE_CHECKING:
    from ...server import Server

__all__ = ["start", "serve_forever"]

_REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}


class _WsSocket:
    """A `websockets` server connection as a `core.Socket`."""

    __slots__ = ("_conn",)

    def __init__(self, conn: ServerConnection) -> None:
        self._conn = conn

    async def receive(self) -> str | bytes | None:
        try:
            return await self._conn.recv()
        except ConnectionClosed:
            return None

    async def send(self, data: bytes) -> None:
        await self._conn.send(data, text=True)

    async def close(self, code: int, reason: str) -> None:
        await self._conn.close(code, reason)


def _response(rejection: Rejection) -> Response:
    headers = Headers([("Content-Type", "application/json"), ("Connection", "close")])
    for name, value in rejection.headers:
        headers[name.decode("latin-1")] = value.decode("latin-1")
    headers["Content-Length"] = str(len(rejection.body))
    reason = _REASONS.get(rejection.status, "Refused")
    return Response(rejection.status, reason, headers, rejection.body)


def _select(conn: ServerConnection, offered: Sequence[Subprotocol]) -> Subprotocol | None:
    return Subprotocol(SUBPROTOCOL) if SUBPROTOCOL in offered else None


async def start(
    server: Server,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    path: str = "/mcp",
    security: HttpSecurity | None = None,
    options: WebSocketOptions | None = None,
    **websockets_options: Any,
) -> WsServer:
    """Listen on `host:port` and serve `ws://host:port{path}` (port 0: any free port, see
    `.sockets`); close the returned server to stop. `websockets_options` go to `websockets.serve`."""
    security = security or HttpSecurity()
    options = options or WebSocketOptions()
    # Who each upgrade authenticated as, until its handler takes it (gone with a connection that dies first).
    principals: weakref.WeakKeyDictionary[ServerConnection, Any] = weakref.WeakKeyDictionary()

    async def check(conn: ServerConnection, request: Request) -> Response | None:
        if request.path.split("?", 1)[0].rstrip("/") != path.rstrip("/"):
            return _response(Rejection(404, b"Not Found"))
        # The same checks as a POST to `HttpApp`, on the same header values.
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in request.headers.raw_items()]
        headers = {k: v.decode("latin-1").strip(" \t") for k, v in raw}
        offered = [
            p.strip() for value in request.headers.get_all("Sec-WebSocket-Protocol") for p in value.split(",")
        ]
        refusal = refuse(security, headers) or refuse_subprotocol(offered)
        if refusal is None and security.verify_token is not None:
            scope: dict[str, Any] = {"headers": raw, "mcpbind.headers": headers}
            refusal = await authenticate(security, scope)
            if refusal is None:
                principals[conn] = scope["mcpbind.principal"]
        return None if refusal is None else _response(refusal)

    async def handle(conn: ServerConnection) -> None:
        principal = principals.pop(conn, None)
        token = None if principal is None else PRINCIPAL.set(principal_text(principal))
        try:
            await serve_socket(server, _WsSocket(conn), options)
        finally:
            if token is not None:
                PRINCIPAL.reset(token)

    websockets_options.setdefault("compression", None)  # no per-message deflate: CPU and memory per peer
    return await serve(
        handle,
        host,
        port,
        # `mcp` when offered; a client that offers no subprotocol is served too (`check` refused
        # one that offers others only).
        select_subprotocol=_select,
        process_request=check,
        max_size=options.max_message,
        ping_interval=options.ping_interval,
        ping_timeout=options.ping_timeout,
        close_timeout=options.close_timeout,
        **websockets_options,
    )


async def serve_forever(server: Server, host: str = "127.0.0.1", port: int = 8000, **kwargs: Any) -> None:
    """`start`, then serve until cancelled."""
    ws_server = await start(server, host, port, **kwargs)
    try:
        await ws_server.serve_forever()
    finally:
        ws_server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws_server.wait_closed(), 5)
