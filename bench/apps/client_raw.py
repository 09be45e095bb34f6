"""Client-benchmark driver with no client library: the server benchmark's raw drivers (``servers.py``'s
``StdioDriver``, and ``HttpDriver`` on ``rawhttp``), JSON-RPC frames built by hand. It is the floor of the
client benchmark: what any client library on this interpreter can reach against the same server.

    python bench/apps/client_raw.py --transport stdio --server-cmd "python bench/apps/floor_stdio.py"
    python bench/apps/client_raw.py --transport http --url http://127.0.0.1:PORT/mcp
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import _clientrun
from servers import MODERN, MODERN_META, HttpDriver, StdioDriver


async def run(args: argparse.Namespace, measure: _clientrun.Measure) -> dict[str, Any]:
    modern = args.era == MODERN
    if args.transport == "http":
        async with HttpDriver(urlsplit(args.url).port or 80, args.era) as http:
            await http.initialize()

            async def echo_http(text: str) -> str:
                _, msg = await http.post(http._call("echo", {"text": text}), "echo")
                return str(msg["result"]["content"][0]["text"])

            phases = await measure(echo_http, args.era)
        return {"impl": "raw", "revision": args.era, **phases}
    stdio = StdioDriver(shlex.split(args.server_cmd))
    await stdio.start()
    try:
        if not modern:
            await stdio.initialize()

        async def echo_stdio(text: str) -> str:
            params: dict[str, Any] = {"name": "echo", "arguments": {"text": text}}
            if modern:
                params["_meta"] = MODERN_META
            return str((await stdio.request("tools/call", params))["content"][0]["text"])

        phases = await measure(echo_stdio, args.era)
    finally:
        await stdio.close()
    return {"impl": "raw", "revision": args.era, **phases}


if __name__ == "__main__":
    _clientrun.main(run, __doc__)
