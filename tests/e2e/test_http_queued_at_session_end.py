"""A request queued behind a session's busy handlers, when the session ends (DELETE), is told.

The running handler is cancelled and its POST ends; a request still queued (past `max_concurrency`)
never started, and its POST must end too rather than wait for its client to give up. Real uvicorn on
127.0.0.1, bounded waits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from mcpbind.server import Server

from ..http_support import call, open_session, serve_in_process

REVISION = "2025-11-25"
TIMEOUT = 10.0


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    server = Server("queued", "1.0.0", max_concurrency=1, max_queued=4)

    @server.tool()
    async def wait() -> str:
        """Wait (until cancelled)."""
        await asyncio.sleep(3600)
        return "never"

    with serve_in_process(server.http_app()) as base:
        yield base


def test_a_queued_requests_post_ends_when_its_session_is_deleted(url: str) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(timeout=TIMEOUT) as http:
            s = await open_session(http, url, REVISION)
            running = asyncio.create_task(http.post(url, json=call(2, "wait"), headers=s.headers()))
            await asyncio.sleep(0.3)  # the one slot taken
            queued = asyncio.create_task(http.post(url, json=call(3, "wait"), headers=s.headers()))
            await asyncio.sleep(0.3)  # queued behind it
            assert not queued.done()
            deleted = await http.delete(url, headers=s.headers())
            assert deleted.status_code in (200, 204), deleted
            # Both POSTs end promptly (neither waits for its client's own timeout).
            done, pending = await asyncio.wait({running, queued}, timeout=5)
            for task in pending:
                task.cancel()
            assert not pending, "a POST still waits after its session ended"
            for task in done:
                response = task.result()
                assert response.status_code == 200, response

    asyncio.run(asyncio.wait_for(main(), 4 * TIMEOUT))
