"""The notification bus between workers reads whatever is published on its Redis channel: a message it
cannot act on (unreadable, or of a shape no worker sends) is skipped, and the worker goes on taking the
bus's messages. A real redis-server and the worker's app in this process (tests/conftest.py's
`redis_server`); the hostile messages are published with redis-py, as anything with access to Redis could."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import msgspec
import pytest

pytest.importorskip("redis")

import redis.asyncio as aioredis

from mcpbind.server import Server
from mcpbind.transports.http.redis import RedisConnection, redis_app

from ..http_support import open_session, serve_in_process
from ..redis_support import RedisServer


def change(kind: str, value: str, rid: Any = None, data: bytes = b"", origin: str = "elsewhere") -> bytes:
    """A bus message as another worker publishes it (a msgpack array: kind, value, rid, data, origin)."""
    return msgspec.msgpack.encode([kind, value, rid, data, origin])


def test_hostile_bus_messages_are_skipped_and_the_bus_goes_on(redis_server: RedisServer) -> None:
    url = f"redis://127.0.0.1:{redis_server.port}/11"
    server = Server("bus-hostile")

    @server.tool()
    def echo(text: str) -> str:
        return text

    connection = RedisConnection(url, prefix="bus-hostile:")
    app = redis_app(server, connection)
    channel = app.bus.channel

    async def main(address: str) -> None:
        async with httpx.AsyncClient(timeout=30) as http:
            session = await open_session(http, address, "2025-11-25")  # a session this worker holds
            publisher = aioredis.Redis.from_url(url)
            try:
                for message in (
                    b"\xff\x00 no msgpack",
                    msgspec.msgpack.encode({"kind": 1}),
                    change("stream-held", session.id, rid="q", data=b"\xff\xfe"),  # no UTF-8 stream name
                    change("task-input", "t", data=b"[1"),
                    change("answer", session.id, rid=1, data=b"\xff"),
                    change("notice", session.id, data=b'{"jsonrpc":"2.0","method":1}'),
                    change("list", "\x00"),
                    change("resource", "\ud7ff" * 10),
                    change("get-opened", session.id),
                ):
                    await publisher.publish(channel, message)
                # What another worker sends after them is still taken: a tool it withdrew, by name.
                await publisher.publish(channel, change("remove", "tools:echo"))
                for _ in range(500):  # bounded: 10 s
                    if not server.registered("tools", "echo"):
                        break
                    await asyncio.sleep(0.02)
                assert not server.registered("tools", "echo"), "the bus stopped taking messages"
            finally:
                await publisher.aclose()

    with serve_in_process(app) as address:
        asyncio.run(asyncio.wait_for(main(address), 60))
