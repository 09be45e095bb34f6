"""Client-benchmark driver with aiohttp and nothing else: the same POSTs through a general-purpose HTTP
client with no MCP library around it (JSON-RPC frames built by hand, answers decoded with msgspec).
It is the reference for what such a client costs on its own: what any MCP client built on aiohttp can
reach at best (mcpbind's client was, before it had its own HTTP/1.1 client). HTTP only.

    python bench/apps/client_aiohttp.py --transport http --url http://127.0.0.1:PORT/mcp
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import aiohttp
import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import _clientrun
from servers import MODERN, MODERN_META

_ACCEPT = "application/json, text/event-stream"


async def run(args: argparse.Namespace, measure: _clientrun.Measure) -> dict[str, Any]:
    if args.transport != "http":
        raise SystemExit("client_aiohttp.py drives HTTP only")
    modern = args.era == MODERN
    headers = {"accept": _ACCEPT, "content-type": "application/json", "mcp-protocol-version": args.era}
    ids = iter(range(1, 1 << 62))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256)) as http:

        async def post(frame: dict[str, Any], extra: dict[str, str] | None = None) -> Any:
            async with http.post(
                args.url, data=msgspec.json.encode(frame), headers={**headers, **(extra or {})}
            ) as r:
                if "mcp-session-id" in r.headers:
                    headers["mcp-session-id"] = r.headers["mcp-session-id"]
                body = await r.read()
            return msgspec.json.decode(body) if body else None

        if not modern:
            init = {
                "protocolVersion": args.era,
                "capabilities": {},
                "clientInfo": {"name": "aiohttp", "version": "0"},
            }
            await post({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": init})
            await post({"jsonrpc": "2.0", "method": "notifications/initialized"})
        call_headers = {"mcp-method": "tools/call", "mcp-name": "echo"} if modern else None

        async def echo(text: str) -> str:
            params: dict[str, Any] = {"name": "echo", "arguments": {"text": text}}
            if modern:
                params["_meta"] = MODERN_META
            frame = {"jsonrpc": "2.0", "id": next(ids), "method": "tools/call", "params": params}
            answer = await post(frame, call_headers)
            return str(answer["result"]["content"][0]["text"])

        phases = await measure(echo, args.era)
    return {"impl": "aiohttp", "revision": args.era, **phases}


if __name__ == "__main__":
    _clientrun.main(run, __doc__)
