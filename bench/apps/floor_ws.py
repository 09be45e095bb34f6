"""The floor, WebSocket: the `websockets` server and msgspec, no framework, on uvloop.

What answering MCP over a WebSocket costs with nothing but the library and the codec: each text frame
is decoded and answered as `floor_stdio.answer` answers it (one decode, one encode, in order, on the
connection's task, no validation); the subprotocol is `mcp`, without per-message compression, as
mcpbind's `run_websocket` serves it.

    python bench/apps/floor_ws.py PORT
"""

from __future__ import annotations

import sys
from pathlib import Path

import uvloop
from websockets.asyncio.server import ServerConnection, serve
from websockets.typing import Subprotocol

sys.path.insert(0, str(Path(__file__).resolve().parent))
from floor_stdio import answer, decode


async def handle(conn: ServerConnection) -> None:
    async for message in conn:
        msg = decode(message)
        if msg.id is not None:
            await conn.send(answer(msg), text=True)


async def main(port: int) -> None:
    async with serve(
        handle, "127.0.0.1", port, subprotocols=[Subprotocol("mcp")], compression=None
    ) as server:
        await server.serve_forever()


if __name__ == "__main__":
    uvloop.run(main(int(sys.argv[1])))
