"""tests/servers/full.py with a tool that takes no `Context` and waits (`nap`): a call the server runs
with no Context that is carried on by a task instead of answered inline (the end-to-end request path
test drives it over stdio). `remember` and `remember_later` set a context variable (at once, or before
a wait) and say what it held before; `hold` waits until it is cancelled, which `released` reports.

`python tests/servers/request_path.py`
"""

from __future__ import annotations

import asyncio
import contextvars

from full import server  # type: ignore[import-not-found]  # the folder of this script is on sys.path


@server.tool()
async def nap(seconds: float, text: str) -> str:
    """Wait `seconds`, then say `text` back in capitals."""
    await asyncio.sleep(seconds)
    return text.upper()


SEEN: contextvars.ContextVar[str] = contextvars.ContextVar("seen", default="unset")
HELD: list[str] = []


@server.tool()
async def remember(text: str) -> str:
    """Set the context variable to `text`; say what it held."""
    before = SEEN.get()
    SEEN.set(text)
    return before


@server.tool()
async def remember_later(text: str) -> str:
    """Set the context variable to `text`, wait, and say what it held."""
    before = SEEN.get()
    SEEN.set(text)
    await asyncio.sleep(0.01)
    return before


@server.tool()
async def hold(name: str) -> str:
    """Wait until cancelled."""
    try:
        await asyncio.Event().wait()
    finally:
        HELD.append(name)
    return name


@server.tool()
async def released(name: str) -> str:
    """Say whether `hold(name)` ended, waiting for it at most 30 s."""
    for _ in range(3000):
        if name in HELD:
            return "released"
        await asyncio.sleep(0.01)
    return "still held"


if __name__ == "__main__":
    asyncio.run(server.serve_stdio())
