"""The same client over Streamable HTTP, in either era (`mode=`), against a server already running."""

import asyncio
import sys

from mcpbind.client import Client

URL = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000/mcp"


async def main() -> None:
    for mode in ("2025-11-25", "2026-07-28"):  # a session, then stateless requests
        async with Client.http(URL, mode=mode) as client:
            result = await client.call_tool("add", {"a": 2, "b": 3})
            print(client.revision, result.structured_content)


asyncio.run(main())
