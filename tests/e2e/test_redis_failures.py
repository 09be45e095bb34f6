"""Redis failing under a scaled-out server: unreachable at start (a clear error, no server), lost mid-run
(requests that need it fail at once with a clear error, nothing hangs, the rest is served), and back
(service resumes, sessions kept by Redis included; a task that ended meanwhile is recorded as it ended)."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from mcpbind.client import Client
from mcpbind.errors import McpError
from mcpbind.transports.http.client import StreamableHttpTransport

from ..http_support import call, free_port, messages_of, modern, modern_headers, open_session, serve
from ..redis_support import RedisServer

SCALED = str(Path(__file__).resolve().parents[1] / "servers" / "scaled.py")
TASKS = str(Path(__file__).resolve().parents[1] / "servers" / "tasks.py")


def test_a_redis_that_cannot_be_reached_at_start_is_a_clear_error() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    for workers in ("1", "2"):
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, SCALED, "--http", str(free_port()), "--redis", url, "--workers", workers],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode != 0
        assert f"Redis at {url} is unavailable" in done.stderr, done.stderr
        assert time.monotonic() - started < 30


def test_requests_fail_clearly_while_redis_is_lost_and_succeed_when_it_is_back() -> None:
    store = RedisServer(persist=True)
    store.start()
    try:
        with serve(SCALED, "--redis", store.url) as url:
            asyncio.run(asyncio.wait_for(_lost_and_back(url, store), 120))
    finally:
        store.close()


async def _lost_and_back(url: str, store: RedisServer) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        session = await open_session(http, url, "2025-11-25")
        echo = call(2, "echo", {"text": "before"})
        assert (await http.post(url, json=echo, headers=session.headers())).status_code == 200
        store.stop()
        for _ in range(3):  # every request that needs Redis fails at once, with the reason; none hangs
            started = time.monotonic()
            response = await http.post(url, json=echo, headers=session.headers())
            assert response.status_code == 503, response.text
            assert "Redis at" in response.json()["error"]["message"]
            assert time.monotonic() - started < 10
        opened = await http.post(
            url,
            json={
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-11-25",
                    "capabilities": {},
                    "clientInfo": {"name": "t", "version": "0"},
                },
            },
            headers={"accept": "application/json, text/event-stream"},
        )
        assert opened.status_code == 503 and "mcp-session-id" not in opened.headers
        # The stateless revision touches no store: it is served all along.
        modern_call = modern(3, "tools/call", {"name": "echo", "arguments": {"text": "stateless"}})
        answered = await http.post(url, json=modern_call, headers=modern_headers(modern_call))
        assert messages_of(answered)[-1]["result"]["content"][0]["text"] == "stateless"
        store.start()
        # Back: the session Redis kept is served again (the client's pool reconnects by itself).
        deadline = time.monotonic() + 20
        while True:
            response = await http.post(
                url, json=call(4, "echo", {"text": "after"}), headers=session.headers()
            )
            if response.status_code == 200:
                break
            assert response.status_code == 503 and time.monotonic() < deadline, response.text
            await asyncio.sleep(0.2)
        assert messages_of(response)[-1]["result"]["content"][0]["text"] == "after"
        assert (await open_session(http, url, "2025-06-18")).id


@pytest.mark.parametrize("revision", ["2025-11-25", "2026-07-28"])
def test_a_task_that_ends_while_redis_is_lost_is_recorded_when_it_is_back(revision: str) -> None:
    """The end of a task whose code finished while Redis was away was lost: the store's failure ended
    the runner, and the record stayed `working` until its TTL (an hour), polled in vain, with
    `tasks/result` waiting as long. The end is stored once Redis is back, and the result is there.
    Meanwhile a poll fails with the reason, in either era."""
    store = RedisServer(persist=True)
    store.start()
    try:
        with serve(TASKS, "--redis", store.url) as url:

            async def main() -> None:
                async with Client(StreamableHttpTransport(url), mode=revision) as client:
                    handle = await client.start_tool_task("slow", {"seconds": 1.0, "text": "kept"})
                    store.stop()
                    await asyncio.sleep(2.0)  # the code ends meanwhile
                    with pytest.raises(McpError, match=r"Service unavailable: Redis at .* is unavailable"):
                        await handle.status()  # (2026-07-28 answered "Internal error", and logged it)
                    store.start()
                    deadline = time.monotonic() + 20
                    while True:
                        with contextlib.suppress(McpError):
                            if (await handle.status()).status == "completed":
                                break
                        assert time.monotonic() < deadline, "the task's end was never stored"
                        await asyncio.sleep(0.2)
                    assert (await handle.result(timeout=10)).content[0].text == "kept"

            asyncio.run(asyncio.wait_for(main(), 120))
    finally:
        store.close()
