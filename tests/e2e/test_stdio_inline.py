"""A stdio server serves what it reads while its read loop waits with nothing queued in the pipe's
read callback (`Peer._serve_inline`): the usual request is answered there, with no future set and no
task woken for it. Served so, a request sees what it saw in the read loop's own step: the loop's
task as the current one (a tool's `asyncio.timeout`, a CancelledError of the tool's own), the loop's
context (not the pipe transport's), its own copy of it; and anything else read with it, from the first
message the callback cannot serve on, is left to the read loop, in order."""

from __future__ import annotations

import asyncio
import contextvars
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from mcpbind.server import Server
from mcpbind.transports.stdio import StdioServerTransport

SEEN: contextvars.ContextVar[str] = contextvars.ContextVar("seen", default="unset")


def frame(rid: int | None, method: str, params: dict[str, Any] | None = None) -> bytes:
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if rid is not None:
        message["id"] = rid
    if params is not None:
        message["params"] = params
    return json.dumps(message).encode() + b"\n"


def call(rid: int, name: str, arguments: dict[str, Any] | None = None) -> bytes:
    return frame(rid, "tools/call", {"name": name, "arguments": arguments or {}})


INITIALIZE = frame(
    0,
    "initialize",
    {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}},
)


class Wire:
    """Both ends of a server's pipes, in this process; `waits` counts the read loop's waits."""

    def __init__(self, to_server: int, from_server: int) -> None:
        self.to_server, self.from_server = to_server, from_server
        self.got = b""
        self.waits = 0

    async def answers(self, data: bytes, count: int) -> list[dict[str, Any]]:
        """Write `data` in one write, then read `count` answer lines."""
        os.write(self.to_server, data)
        loop = asyncio.get_running_loop()
        while self.got.count(b"\n") < count:
            chunk = await asyncio.wait_for(loop.run_in_executor(None, os.read, self.from_server, 65536), 10)
            assert chunk, "the server closed its output"
            self.got += chunk
        *lines, self.got = self.got.split(b"\n", count)
        return [json.loads(line) for line in lines]


@asynccontextmanager
async def serving(server: Server, before: Callable[[], None] = lambda: None) -> AsyncIterator[Wire]:
    """`server` on a `StdioServerTransport` over real pipes, initialized; `before` runs in the serving
    task after the transport started, before it serves."""
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    transport = StdioServerTransport(os.fdopen(in_r, "rb", buffering=0), os.fdopen(out_w, "wb", buffering=0))
    wire = Wire(in_w, out_r)

    async def serve() -> None:
        await transport.start()
        waiting = transport.wait_buffered

        def counted() -> asyncio.Future[None] | None:
            found = waiting()
            if found is not None:
                wire.waits += 1
            return found

        transport.wait_buffered = counted
        before()
        await server.serve(transport)

    task = asyncio.ensure_future(serve())
    try:
        assert (await wire.answers(INITIALIZE, 1))[0]["id"] == 0
        os.write(in_w, frame(None, "notifications/initialized"))
        yield wire
    finally:
        os.close(in_w)
        await asyncio.wait_for(task, 10)
        os.close(out_r)


def text(answer: dict[str, Any]) -> str:
    return str(answer["result"]["content"][0]["text"])


def run(main: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(main(), 60))


def test_requests_read_while_the_loop_waits_are_answered_without_waking_it() -> None:
    server = Server("inline", "1.0.0")

    @server.tool()
    async def echo(text: str) -> str:
        return text

    async def main() -> None:
        async with serving(server) as wire:
            assert text((await wire.answers(call(1, "echo", {"text": "first"}), 1))[0]) == "first"
            waits = wire.waits
            for rid in range(2, 12):
                (answer,) = await wire.answers(call(rid, "echo", {"text": f"call {rid}"}), 1)
                assert answer["id"] == rid and text(answer) == f"call {rid}"
            burst = b"".join(call(rid, "echo", {"text": f"call {rid}"}) for rid in range(12, 20))
            answers = await wire.answers(burst, 8)
            assert [(a["id"], text(a)) for a in answers] == [(rid, f"call {rid}") for rid in range(12, 20)]
            assert wire.waits == waits  # (the loop never woke: every request was served as read)

    run(main)


def test_a_request_served_inline_runs_as_in_the_loops_step() -> None:
    """Its current task is the read loop's (a tool's `asyncio.timeout` works; a CancelledError the
    tool raises while nothing cancels it is its failure, answered), its context the loop's as the
    loop last waited (a variable set in the serving task after the transport started), in a copy of
    its own (what a tool sets is not seen by the next request)."""
    server = Server("inline", "1.0.0")

    @server.tool()
    async def timed() -> str:
        async with asyncio.timeout(5):
            await asyncio.sleep(0)
        return "in time"

    @server.tool()
    async def current() -> str:
        return "a task" if asyncio.current_task() is not None else "no task"

    @server.tool()
    async def own_cancel() -> str:
        raise asyncio.CancelledError

    @server.tool()
    async def seen() -> str:
        found = SEEN.get()
        SEEN.set("set by a tool")
        return found

    @server.tool()
    async def keeps() -> str:
        SEEN.set("kept")
        await asyncio.sleep(0)  # (carried on in the context its first step ran in)
        return SEEN.get()

    async def main() -> None:
        async with serving(server, lambda: SEEN.set("the loop's")) as wire:
            await wire.answers(call(1, "current"), 1)  # (the loop waits from here on)
            waits = wire.waits
            assert text((await wire.answers(call(2, "current"), 1))[0]) == "a task"
            assert text((await wire.answers(call(3, "timed"), 1))[0]) == "in time"
            (failed,) = await wire.answers(call(4, "own_cancel"), 1)
            assert failed["id"] == 4 and failed["result"]["isError"] is True
            assert text((await wire.answers(call(5, "seen"), 1))[0]) == "the loop's"
            assert text((await wire.answers(call(6, "seen"), 1))[0]) == "the loop's"
            assert text((await wire.answers(call(7, "keeps"), 1))[0]) == "kept"
            assert text((await wire.answers(call(8, "seen"), 1))[0]) == "the loop's"
            assert wire.waits == waits

    run(main)


def test_what_cannot_be_served_inline_is_left_to_the_loop_in_order() -> None:
    """A burst of a request, a notification and two requests: the first is answered as read, the
    rest by the woken loop, in order; a request whose id is still running is refused there."""
    server = Server("inline", "1.0.0")
    release = asyncio.Event()

    @server.tool()
    async def echo(text: str) -> str:
        return text

    @server.tool()
    async def slow() -> str:
        await release.wait()
        return "slow"

    async def main() -> None:
        async with serving(server) as wire:
            await wire.answers(call(1, "echo", {"text": "x"}), 1)
            waits = wire.waits
            os.write(wire.to_server, call(2, "slow"))  # (waits: a task of its own, id 2 in use)
            burst = (
                call(3, "echo", {"text": "three"})
                + frame(None, "notifications/roots/list_changed")
                + call(2, "echo", {"text": "reused"})
                + call(4, "echo", {"text": "four"})
            )
            three, reused, four = await wire.answers(burst, 3)
            assert (three["id"], text(three)) == (3, "three")
            assert reused["id"] == 2 and reused["error"]["code"] == -32600
            assert (four["id"], text(four)) == (4, "four")
            assert wire.waits == waits + 1  # (woken once, for the notification and what followed)
            release.set()
            (slow_answer,) = await wire.answers(b"", 1)
            assert (slow_answer["id"], text(slow_answer)) == (2, "slow")

    run(main)


def test_a_lone_line_answers_as_in_a_burst_whatever_its_call_does() -> None:
    """A read of one line (the usual read at one in flight): a plain tool that answers, waits, fails,
    or a line the one-pass read leaves (a reused id while its call waits, another method) is answered
    as the same line in a burst is."""
    server = Server("inline", "1.0.0")
    release = asyncio.Event()

    @server.tool()
    async def echo(text: str) -> str:
        return text

    @server.tool()
    async def later(text: str) -> str:
        await release.wait()
        return text

    @server.tool()
    async def broken() -> str:
        raise ValueError("no")

    async def main() -> None:
        async with serving(server) as wire:
            os.write(wire.to_server, call(1, "later", {"text": "late"}))
            (answer,) = await wire.answers(call(1, "echo", {"text": "same id"}), 1)
            assert answer["id"] == 1 and answer["error"]["code"] == -32600  # (id in use)
            (answer,) = await wire.answers(call(2, "broken"), 1)
            assert answer["id"] == 2 and answer["result"]["isError"] is True
            (answer,) = await wire.answers(frame(3, "ping", {}), 1)
            assert answer == {"jsonrpc": "2.0", "id": 3, "result": {}}
            release.set()
            (answer,) = await wire.answers(b"", 1)
            assert answer["id"] == 1 and text(answer) == "late"
            (answer,) = await wire.answers(call(4, "echo", {"text": "after"}), 1)
            assert answer["id"] == 4 and text(answer) == "after"

    run(main)
