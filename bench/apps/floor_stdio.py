"""The stdio floor: plain asyncio + msgspec JSON-RPC over the pipe, no framework.

Reads a line, decodes it with msgspec, writes a result frame: ``initialize`` gets a minimal answer,
``tools/call`` echoes ``arguments.text`` as one text block, notifications are dropped. Requests are
answered in order on one task (the echo is trivial), so this is the cost of the pipe plus the codec.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import msgspec


class Params(msgspec.Struct):
    protocolVersion: str | None = None
    name: str | None = None
    arguments: dict[str, Any] | None = None


class Frame(msgspec.Struct):
    method: str | None = None
    id: int | str | None = None
    params: Params | None = None


decode = msgspec.json.Decoder(Frame).decode
encode = msgspec.json.Encoder().encode


async def main() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 24)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, sys.stdout)
    writer = asyncio.StreamWriter(transport, protocol, reader, loop)
    while line := await reader.readline():
        msg = decode(line)
        if msg.id is None:
            continue
        if msg.method == "tools/call" and msg.params is not None:
            text = (msg.params.arguments or {}).get("text", "")
            result: dict[str, Any] = {"content": [{"type": "text", "text": text}], "isError": False}
        elif msg.method == "initialize":
            result = {
                "protocolVersion": (msg.params.protocolVersion if msg.params else None) or "2025-11-25",
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "floor", "version": "0"},
            }
        else:
            result = {}
        writer.write(encode({"jsonrpc": "2.0", "id": msg.id, "result": result}) + b"\n")
        await writer.drain()


asyncio.run(main())
