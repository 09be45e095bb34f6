"""The WebSocket transport (SEP-1288, a proposal): one JSON-RPC message per text frame, subprotocol `mcp`.

`core` is the server adapter both drivers share and imports no WebSocket library; `asgi` serves the
upgrade inside `HttpApp` (uvicorn); `standalone` (`Server.run_websocket`) and `client`
(`Client.websocket`) need `mcpbind[ws]`, the `websockets` library, and are imported on use.
"""

from .core import SUBPROTOCOL, WebSocketOptions

__all__ = ["SUBPROTOCOL", "WebSocketOptions"]
