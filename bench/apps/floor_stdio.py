"""The floor, stdio: plain asyncio + msgspec JSON-RPC over the pipes, no framework.

It serves both benchmarks. For the server benchmark (``bench/servers.py``) it is the no-framework
reference: what answering over a pipe costs with nothing but the codec. For the client benchmark
(``bench/clients.py``) it is the near-free peer: the server does next to nothing, so what is left is
the client.

It answers the least a client needs to connect and call one ``echo`` tool: ``initialize`` (2025-11-25
and older), ``server/discover`` (2026-07-28), ``tools/list`` (one ``echo`` tool, no output schema),
``tools/call`` (echoes ``arguments.text`` as one text block; ``big`` and ``blob`` answer the 1 MB and
``size`` bytes of text of ``_toolgen.py``, so the 1 MB row and the payload curve have a floor that sends the
same bytes) and ``ping``; other requests get "method
not found", notifications are dropped. A request carrying the 2026-07-28 ``_meta`` protocol version
gets that era's ``resultType`` (and ``cacheScope``/``ttlMs`` on ``tools/list`` and ``server/discover``,
which the 2026-07-28 schema requires). One decode and one encode per message, in order, on one task,
no validation. ``floor_asgi.py`` (the HTTP floor) and ``floor_ws.py`` import ``answer`` from here.

It reads and writes as cheaply as a pipe allows (``floor_lines.py``: an ``asyncio.Protocol``, each
read's requests answered in its callback, their answers in one write; a module, so that this script,
compiled at every start, stays as short as before).

``--streams`` serves with that earlier loop instead (``floor_streams.py``: asyncio streams, one
``StreamReader.readline`` and one write and drain per request), kept to measure what it cost.

    python bench/apps/floor_stdio.py [--uvloop] [--streams]
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _toolgen import MEGABYTE, blob_text
from floor_lines import serve

MODERN = "2026-07-28"
STATEFUL = ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")
META_VERSION = "io.modelcontextprotocol/protocolVersion"
SERVER_INFO = {"name": "floor", "version": "0"}
ECHO_TOOL = {
    "name": "echo",
    "description": "Say `text` back.",
    "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
}


class Params(msgspec.Struct):
    protocolVersion: str | None = None
    name: str | None = None
    arguments: dict[str, Any] | None = None
    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")


class Frame(msgspec.Struct):
    method: str | None = None
    id: int | str | None = None
    params: Params | None = None


decode = msgspec.json.Decoder(Frame).decode
encode = msgspec.json.Encoder().encode


def answer(msg: Frame) -> bytes:
    """The encoded response to the request ``msg`` (one that has an id)."""
    params = msg.params
    modern = params is not None and params.meta is not None and META_VERSION in params.meta
    method = msg.method
    result: dict[str, Any]
    if method == "tools/call" and params is not None:
        arguments = params.arguments or {}
        if params.name == "big":
            text = MEGABYTE
        elif params.name == "blob":
            text = blob_text(arguments["size"])
        else:
            text = arguments.get("text", "")
        result = {"content": [{"type": "text", "text": text}], "isError": False}
    elif method == "tools/list":
        result = {"tools": [ECHO_TOOL]}
        if modern:  # required in 2026-07-28 (the SDK checks)
            result["cacheScope"], result["ttlMs"] = "public", 0
    elif method == "ping":
        result = {}
    elif method == "initialize":
        asked = params.protocolVersion if params is not None else None
        result = {
            "protocolVersion": asked if asked in STATEFUL else STATEFUL[0],
            "capabilities": {"tools": {}},
            "serverInfo": SERVER_INFO,
        }
    elif method == "server/discover":
        result = {
            "supportedVersions": [MODERN],
            "capabilities": {"tools": {}},
            "_meta": {"io.modelcontextprotocol/serverInfo": SERVER_INFO},
            "cacheScope": "public",
            "ttlMs": 0,
        }
        modern = True
    else:
        error = {"code": -32601, "message": f"Method not found: {method}"}
        return encode({"jsonrpc": "2.0", "id": msg.id, "error": error})
    if modern:
        result["resultType"] = "complete"
    return encode({"jsonrpc": "2.0", "id": msg.id, "result": result})


async def main() -> None:
    """Serve stdin/stdout until the end of stdin (or an error: raised)."""
    await serve(decode, answer)


if __name__ == "__main__":
    run = main
    if "--streams" in sys.argv[1:]:  # (its own module: this script, compiled at each start, stays short)
        from floor_streams import main_streams as run
    if "--uvloop" in sys.argv[1:]:  # the same floor on the loop mcpbind's run_stdio uses
        import uvloop

        uvloop.run(run())
    else:
        asyncio.run(run())
