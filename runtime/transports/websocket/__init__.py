"""The WebSocket transport (SEP-1288, a proposal): one JSON-RPC message per text frame, subprotocol `mcp`.

`core` is the server adapter every driver shares and imports no WebSocket library; `asgi` serves the
upgrade inside `HttpApp` (any ASGI server); `standalone` (`Server.run_websocket`), `uvicorn_protocol`
(`run_http`'s upgrades, on the standalone server's connection) and `client` (`Client.websocket`) need
`mcpbind[ws]`, the `websockets` library, and are imported on use.
"""

from .core import SUBPROTOCOL, WebSocketOptions

__all__ = ["SUBPROTOCOL", "WebSocketOptions"]
