"""A request of the HTTP client's sent in two steps with no coroutine of the transport's
(`StreamableHttpTransport.start_request`, then `finish_request` once the future it hands back is done,
as `Requester.request` does) ends as the same request sent by `write_request`: the same message read
or the same error, for every kind of answer; a cancelled wait is raised again and its connection given
up; a read timeout fails the request as it did; a connection lost before a byte of answer came has the
request sent again on a new one, and one lost with its answer begun fails it.

Against a scripted HTTP/1.1 server on 127.0.0.1 (in process): each request is answered by the next
step of the script (canned bytes written, silence, or the connection closed after some bytes).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
import pytest

from mcpbind.transports.http.client import StreamableHttpTransport

from .test_http_post_idle import CASES, RESULT, json_answer, run

SILENT = b"silent"
"""A step that answers nothing (the connection stays open)."""
CLOSE = b"close"
"""A step that closes the connection (after the bytes before it, in the same step)."""


class Script:
    def __init__(self) -> None:
        self.steps: list[list[bytes]] = []
        self.seen: list[int] = []
        self.connections = 0


@asynccontextmanager
async def scripted() -> AsyncIterator[tuple[str, Script]]:
    script = Script()

    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        index = script.connections
        script.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                body = await reader.readexactly(length)
                script.seen.append(index)
                rid = str(msgspec.json.decode(body)["id"]).encode()
                for n, part in enumerate(script.steps.pop(0)):
                    if part == CLOSE:
                        return
                    if part == SILENT:
                        await asyncio.sleep(3600)
                    if n:
                        await asyncio.sleep(0.1)
                    writer.write(part.replace(b"#", rid))
                    await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(on_connection, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/mcp", script
    finally:
        server.close()
        await server.wait_closed()


def ping_bytes(rid: int) -> bytes:
    return b'{"jsonrpc":"2.0","id":%d,"method":"ping"}' % rid


async def send_started(transport: StreamableHttpTransport, rid: int, timeout: float = 10.0) -> bool:
    """A ping sent as `Requester.request` sends it; whether it took the two steps (else: `write_request`)."""
    data = ping_bytes(rid)
    started = transport.start_request(data, rid, "ping", None, timeout)
    if started is None:
        await transport.write_request(data, rid, "ping", None, timeout)
        return False
    try:
        await started[0]
    except BaseException as exc:
        rest = transport.finish_request(started, exc)
    else:
        rest = transport.finish_request(started, None)
    if rest is not None:
        await rest
    return True


async def send_written(transport: StreamableHttpTransport, rid: int, timeout: float = 10.0) -> bool:
    await transport.write_request(ping_bytes(rid), rid, "ping", None, timeout)
    return False


@asynccontextmanager
async def warm(url: str, script: Script) -> AsyncIterator[StreamableHttpTransport]:
    """A transport with one kept-alive connection (a first ping answered on it)."""
    transport = StreamableHttpTransport(url, get_stream=False, max_message=256)
    await transport.start()
    transport.protocol_version = "2025-11-25"
    try:
        script.steps.append([json_answer(RESULT)])
        await send_written(transport, 1)
        assert await asyncio.wait_for(transport.read(), 10) == RESULT.replace(b"#", b"1")
        yield transport
    finally:
        await transport.close()


async def outcome(case: str, started: bool) -> tuple[Any, list[int]]:
    async with scripted() as (url, script), warm(url, script) as transport:
        script.steps.extend(CASES[case])
        took = await (send_started if started else send_written)(transport, 7)
        assert took is started  # (the two steps taken on the kept-alive connection)
        message = await asyncio.wait_for(transport.read(), 10)
        found = msgspec.json.decode(message) if message is not None else None
        script.steps.append([json_answer(RESULT)])
        await send_started(transport, 8)
        rest = [await asyncio.wait_for(transport.read(), 10)]
        while rest[-1] != RESULT.replace(b"#", b"8"):
            assert len(rest) < 5, rest
            rest.append(await asyncio.wait_for(transport.read(), 10))
        return (found, rest), script.seen


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_request_sent_in_two_steps_ends_as_one_written(case: str) -> None:
    async def main() -> None:
        assert await outcome(case, started=True) == await outcome(case, started=False)

    run(main())


def test_no_idle_connection_means_nothing_sent() -> None:
    async def main() -> None:
        async with scripted() as (url, script):
            transport = StreamableHttpTransport(url, get_stream=False)
            await transport.start()
            transport.protocol_version = "2025-11-25"
            try:
                assert transport.start_request(ping_bytes(1), 1, "ping", None, 10.0) is None
                assert script.seen == []
            finally:
                await transport.close()

    run(main())


def test_a_cancelled_wait_is_raised_again_and_its_connection_given_up() -> None:
    async def main() -> None:
        async with scripted() as (url, script), warm(url, script) as transport:
            script.steps.append([SILENT])
            task = asyncio.create_task(send_started(transport, 7))
            while len(script.seen) < 2:
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            # The connection is not kept (its answer may still come): the next request goes on a
            # new one, and is answered.
            script.steps.append([json_answer(RESULT)])
            assert await send_started(transport, 8) is False
            assert await asyncio.wait_for(transport.read(), 10) == RESULT.replace(b"#", b"8")
            assert script.seen == [0, 0, 1]
            assert transport.unread == 0

    run(main())


def test_a_read_timeout_fails_the_request_as_it_did() -> None:
    async def main(started: bool) -> Any:
        async with scripted() as (url, script), warm(url, script) as transport:
            script.steps.append([SILENT])
            assert await (send_started if started else send_written)(transport, 7, 0.3) is started
            return msgspec.json.decode(await asyncio.wait_for(transport.read(), 10))

    found = run(main(True))
    assert found["id"] == 7 and "error" in found
    assert found == run(main(False))


@pytest.mark.parametrize("begun", [False, True], ids=["no-byte", "answer-begun"])
def test_a_connection_lost_between_start_and_finish(begun: bool) -> None:
    """Lost before a byte of the answer: sent again on a new connection, answered there. Lost with
    its answer begun: the request fails, as written it does."""

    async def main(started: bool) -> tuple[Any, list[int]]:
        async with scripted() as (url, script), warm(url, script) as transport:
            # (the partial answer, then the close: in one step)
            script.steps.append([json_answer(RESULT)[:20], CLOSE] if begun else [CLOSE])
            script.steps.append([json_answer(RESULT)])
            assert await (send_started if started else send_written)(transport, 7) is started
            found = msgspec.json.decode(await asyncio.wait_for(transport.read(), 10))
            return found, list(script.seen)

    two, written = run(main(True)), run(main(False))
    assert two == written
    found, seen = two
    if begun:
        assert found["id"] == 7 and "error" in found and seen == [0, 0]
    else:
        assert found == {"jsonrpc": "2.0", "id": 7, "result": {"ok": 1}} and seen == [0, 0, 1]
