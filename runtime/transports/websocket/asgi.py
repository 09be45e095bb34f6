"""The WebSocket endpoint inside `HttpApp`: an ASGI `websocket` scope on the MCP path, served as MCP.

An ASGI server (uvicorn with `websockets` installed: `mcpbind[ws]`, unless `run_http` serves the
upgrade on its own connection: `uvicorn_protocol`) hands `HttpApp` the upgrade of `/mcp` as a
`websocket` scope; `serve_websocket` checks it as a POST would be checked (Host, Origin, the bearer
token: `HttpSecurity`), then the subprotocol, accepts with `mcp`, and serves the connection with the
shared adapter (`core`). A refused upgrade gets the same HTTP status and JSON body as a refused POST
where the server offers the ASGI denial response, and a plain close (403 from uvicorn) where not.
Keep-alive pings are the ASGI server's (uvicorn's `ws_ping_interval`, `ws_ping_timeout`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...protocol.inbound import Rejection, screen
from ...protocol.request_state import CALLER, PRINCIPAL
from ..http.asgi import Message, Receive, Scope, Send, mounted_path
from ..http.security import authenticate, principal_text, refuse
from .core import SUBPROTOCOL, Binary, WebSocketOptions, refuse_subprotocol, serve_socket

if TYPE_CHECKING:
    from ..http.app import HttpApp

__all__ = ["serve_websocket"]


class _AsgiSocket:
    """An accepted ASGI WebSocket as a `core.Socket`."""

    __slots__ = ("_receive", "_send")

    def __init__(self, receive: Receive, send: Send) -> None:
        self._receive = receive
        self._send = send

    async def receive(self) -> bytes | None:
        message = await self._receive()
        if message["type"] != "websocket.receive":
            return None  # websocket.disconnect
        text: str | None = message.get("text")
        if text is not None:
            return text.encode()
        return Binary(message.get("bytes") or b"")

    async def send(self, data: bytes) -> None:
        await self._send({"type": "websocket.send", "text": data.decode()})

    def send_now(self, data: bytes) -> bool:
        return False  # an ASGI send is a coroutine, whose wait cannot be told in advance

    async def close(self, code: int, reason: str) -> None:
        await self._send({"type": "websocket.close", "code": code, "reason": reason})


def _subprotocols(scope: Scope) -> list[str]:
    offered: list[str] = scope.get("subprotocols") or []
    return offered


async def _deny(scope: Scope, send: Send, rejection: Rejection) -> None:
    if "websocket.http.response" in scope.get("extensions", {}):
        headers = [(b"content-type", b"application/json"), *rejection.headers]
        await send({"type": "websocket.http.response.start", "status": rejection.status, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": rejection.body})
    else:
        await send({"type": "websocket.close", "code": 1008})


async def serve_websocket(app: HttpApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Serve one WebSocket upgrade of the MCP path (the scope is on it) until the connection ends."""
    first: Message = await receive()
    if first["type"] != "websocket.connect":
        return
    if mounted_path(scope).rstrip("/") != app.path.rstrip("/"):
        await _deny(scope, send, Rejection(404, b"Not Found"))
        return
    security = app.security
    raw = scope["headers"]
    headers = dict(raw)
    refusal = screen(headers, raw) or refuse(security, headers) or refuse_subprotocol(_subprotocols(scope))
    token = caller = None
    if refusal is None and security.authenticates:
        refusal = await authenticate(security, scope)
        if refusal is None:
            # The principal holds for the connection: everything it seals is this user's alone.
            token = PRINCIPAL.set(principal_text(scope["mcpbind.principal"]))
            caller = CALLER.set(scope.get("mcpbind.caller"))
    if refusal is not None:
        await _deny(scope, send, refusal)
        return
    try:
        offered = _subprotocols(scope)
        accept: Message = {"type": "websocket.accept"}
        if SUBPROTOCOL in offered:
            accept["subprotocol"] = SUBPROTOCOL
        await send(accept)
        options = app.websocket or WebSocketOptions()
        expires_at = getattr(scope.get("mcpbind.caller"), "expires_at", None)  # the token's, if known
        await serve_socket(app.server, _AsgiSocket(receive, send), options, expires_at)
    finally:
        if token is not None:
            PRINCIPAL.reset(token)
        if caller is not None:
            CALLER.reset(caller)
