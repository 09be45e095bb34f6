"""The answer to a message that changes a session's state (`notifications/initialized`, `logging/setLevel`,
`resources/subscribe`) goes out only once that state is saved to the session store. It went out first:
a client going on at once on another worker (the TypeScript SDK opens its GET stream as soon as its
`notifications/initialized` is accepted) could read the session there before the save, and that worker
then dropped every list change for the session as sent to one not initialized. Real uvicorn on
loopback; the store's save is held until the test lets it go."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx
import pytest

from mcpbind.server import Server
from mcpbind.transports.http import HttpApp, MemorySessionStore, SessionState

from ..http_support import BOTH, Session, initialize, request, serve_in_process

WAIT = 30.0


class HeldStore(MemorySessionStore):
    """Sessions in memory, whose saves wait for `release` once `hold` is set (from the test's thread)."""

    def __init__(self) -> None:
        super().__init__()
        self.hold = False
        self.entered = threading.Event()
        self.release = threading.Event()

    async def save(self, session_id: str, state: SessionState) -> None:
        if self.hold:
            self.entered.set()
            await asyncio.to_thread(self.release.wait, WAIT)
        await super().save(session_id, state)


@pytest.mark.parametrize(
    "message",
    [
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        request(2, "logging/setLevel", {"level": "debug"}),
    ],
    ids=["initialized", "setLevel"],
)
def test_a_state_change_is_answered_only_once_it_is_saved(message: dict[str, Any]) -> None:
    store = HeldStore()
    app = HttpApp(Server("saved", "1.0.0"), session_store=store)

    async def main(url: str) -> None:
        async with httpx.AsyncClient(timeout=WAIT) as http:
            opened = await http.post(url, json=initialize("2025-11-25"), headers={"accept": BOTH})
            assert opened.status_code == 200
            session = Session(url, opened.headers["mcp-session-id"], "2025-11-25")
            order: list[str] = []

            async def send() -> None:
                answer = await http.post(url, json=message, headers=session.headers())
                assert answer.status_code in (200, 202)
                order.append("answered")

            store.hold = True
            sending = asyncio.ensure_future(send())
            assert await asyncio.to_thread(store.entered.wait, WAIT)
            await asyncio.sleep(0.5)  # an answer sent before the save would arrive meanwhile
            order.append("saved")
            store.release.set()
            await asyncio.wait_for(sending, WAIT)
            assert order == ["saved", "answered"]

    with serve_in_process(app) as url:
        asyncio.run(asyncio.wait_for(main(url), 90))
