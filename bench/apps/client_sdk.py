"""Client-benchmark driver for the official SDK's client (``mcp`` 2.3.0; run by ``bench/clients.py`` in
the SDK's environment, ``bench/.venvs/mcp``).

Its public client API: ``mcp.ClientSession`` over ``mcp.client.stdio.stdio_client`` (which spawns the
server) or ``mcp.client.streamable_http.streamable_http_client``. ``--era 2025-11-25`` connects with
``ClientSession.initialize()``, ``--era 2026-07-28`` with ``ClientSession.discover()``. The first
``call_tool`` lists the tools (to validate results against their output schema), during the warm-up.
The options, the timed calls (asyncio tasks: the SDK's anyio runs on the asyncio backend) and the JSON
line are ``_clientrun.py``'s.

    python bench/apps/client_sdk.py --transport stdio --server-cmd "python bench/apps/floor_stdio.py"
    python bench/apps/client_sdk.py --transport http --url http://127.0.0.1:PORT/mcp
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from contextlib import AsyncExitStack
from importlib.metadata import version
from pathlib import Path
from typing import Any

from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _clientrun


async def run(args: argparse.Namespace, measure: _clientrun.Measure) -> dict[str, Any]:
    t0 = time.perf_counter()
    async with AsyncExitStack() as stack:
        if args.transport == "stdio":
            cmd = shlex.split(args.server_cmd)
            server = StdioServerParameters(command=cmd[0], args=cmd[1:])
            read, write = await stack.enter_async_context(stdio_client(server))
        else:
            read, write = await stack.enter_async_context(streamable_http_client(args.url))
        session = await stack.enter_async_context(
            ClientSession(read, write, read_timeout_seconds=args.call_timeout)
        )
        if args.era == "2026-07-28":
            await session.discover()
        else:
            await session.initialize()
        connect_ms = (time.perf_counter() - t0) * 1000

        async def echo(text: str) -> str:
            result = await session.call_tool("echo", {"text": text})
            if result.is_error:
                raise RuntimeError(f"echo answered an error: {result.content}")
            return result.content[0].text  # type: ignore[union-attr]

        phases = await measure(echo, session.protocol_version)
        revision = session.protocol_version
    return {"impl": "sdk", "sdk": version("mcp"), "revision": revision, "connect_ms": connect_ms, **phases}


if __name__ == "__main__":
    _clientrun.main(run, __doc__)
