"""tests/servers/full.py with a tool that takes no `Context` and waits (`nap`): a call the server runs
with no Context that is carried on by a task instead of answered inline (the end-to-end request path
test drives it over stdio).

`python tests/servers/request_path.py`
"""

from __future__ import annotations

import asyncio

from full import server  # type: ignore[import-not-found]  # the folder of this script is on sys.path


@server.tool()
async def nap(seconds: float, text: str) -> str:
    """Wait `seconds`, then say `text` back in capitals."""
    await asyncio.sleep(seconds)
    return text.upper()


if __name__ == "__main__":
    asyncio.run(server.serve_stdio())
