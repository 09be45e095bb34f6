"""Client-benchmark driver for mcpbind's ``Client`` (run by ``bench/clients.py`` in mcpbind's environment).

``Client.stdio`` (which spawns the server) or ``Client.http``, pinned to ``--era`` (2025-11-25
initializes, 2026-07-28 sends ``server/discover``); the options, the timed calls and the JSON line are
``_clientrun.py``'s.

    python bench/apps/client_mcpbind.py --transport stdio --server-cmd "python bench/apps/floor_stdio.py"
    python bench/apps/client_mcpbind.py --transport http --url http://127.0.0.1:PORT/mcp
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from mcpbind.client import Client

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _clientrun


async def run(args: argparse.Namespace, measure: _clientrun.Measure) -> dict[str, Any]:
    if args.transport == "stdio":
        cmd = shlex.split(args.server_cmd)
        client = Client.stdio(cmd[0], cmd[1:], mode=args.era, request_timeout=args.call_timeout)
    else:
        client = Client.http(args.url, mode=args.era, request_timeout=args.call_timeout)

    async def echo(text: str) -> str:
        result = await client.call_tool("echo", {"text": text})
        if result.is_error is True:
            raise RuntimeError(f"echo answered an error: {result.content}")
        return result.content[0].text

    t0 = time.perf_counter()
    async with client:
        connect_ms = (time.perf_counter() - t0) * 1000
        phases = await measure(echo, client.revision)
    return {"impl": "mcpbind", "revision": client.revision, "connect_ms": connect_ms, **phases}


if __name__ == "__main__":
    _clientrun.main(run, __doc__)
