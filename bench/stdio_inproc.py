"""Instructions per request of a stdio server, in process over real pipes, in fixed bursts.

Between processes, how many requests a server finds waiting per read depends on the timing of the
two processes, and so does its cost per request: under callgrind on a loaded machine that swings more
than any change being measured. Here the driver and the server share one event loop and a pair of
pipes, and the driver writes its requests in bursts of exactly ``--inflight`` lines (one write), then
reads until every answer of the burst is back: each server takes the same bursts every run, and the
instruction counts repeat. The server is mcpbind (a `Server` with the benchmark's ``echo`` tool, served
by `StdioServerTransport` as ``run_stdio`` does) or the floor (``apps/floor_stdio.py``'s ``main``: an
`asyncio.Protocol` answering each read in its callback, the answers in one write; ``floor-streams``:
its earlier asyncio streams loop, ``floor_streams.py``, a ``readline`` and a write and drain per request).

    valgrind --tool=callgrind --callgrind-out-file=/tmp/s.cg python bench/stdio_inproc.py IMPL N \\
        [--inflight 16] [--asyncio] [--big] [--stateless] [--echo may-wait | waits]
    IMPL: mcpbind, floor or floor-streams; --big: calls of the 1 MB `big` tool instead of `echo`;
    --stateless: mcpbind with no session, each call of 2026-07-28 carrying its `_meta`. `--echo
    may-wait`: the `echo` tool has an `await` it never reaches (it runs as a task of its own, done in
    its first step); `waits`: it awaits `asyncio.sleep(0)` (a task that waits one loop turn). Run it
    with two N and divide the difference of the totals by that of N.

Without valgrind it prints µs per request. It uses only public names (`Server`,
`mcpbind.transports.stdio.StdioServerTransport`), so it measures an older checkout too.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent / "apps"))

encode = msgspec.json.Encoder().encode


def _line(rid: int, method: str, params: dict[str, Any]) -> bytes:
    return encode({"jsonrpc": "2.0", "id": rid, "method": method, "params": params}) + b"\n"


INITIALIZE = _line(
    0,
    "initialize",
    {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}},
)
ECHO_CALL = {"name": "echo", "arguments": {"text": "hello from the benchmark driver"}}
INITIALIZED = encode({"jsonrpc": "2.0", "method": "notifications/initialized"}) + b"\n"
STATELESS_META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientInfo": {"name": "bench", "version": "0"},
    "io.modelcontextprotocol/clientCapabilities": {},
}


def burst(size: int, big: bool = False, stateless: bool = False) -> bytes:
    """`size` echo calls, or calls of `big` (1 MB of text); ids 1..size: each burst is answered in full
    before the next is sent. Stateless: each with the `_meta` of a call outside a session."""
    call: dict[str, Any] = {"name": "big", "arguments": {}} if big else ECHO_CALL
    if stateless:
        call = {**call, "_meta": STATELESS_META}
    return b"".join(_line(i, "tools/call", call) for i in range(1, size + 1))


async def _may_wait(text: str) -> str:
    """Say `text` back (waiting first only for no text)."""
    if not text:
        await asyncio.sleep(0)
    return text


async def _waits(text: str) -> str:
    """Say `text` back, one loop turn later."""
    await asyncio.sleep(0)
    return text


ECHOES = {"may-wait": _may_wait, "waits": _waits}


async def serve_mcpbind(stdin: Any, stdout: Any, echo_kind: str | None = None) -> None:
    from _toolgen import big, echo

    from mcpbind.server import Server
    from mcpbind.transports.stdio import StdioServerTransport

    server = Server("bench-mcpbind", "1.0.0")
    server.tool(name="echo")(echo if echo_kind is None else ECHOES[echo_kind])
    server.tool()(big)
    transport = StdioServerTransport(stdin, stdout)
    await transport.start()
    await server.serve(transport)


async def serve_floor(stdin: Any, stdout: Any, streams: bool = False) -> None:
    sys.stdin, sys.stdout = stdin, stdout  # the floor serves sys.stdin/out, as a process
    if streams:
        from floor_streams import main_streams

        await main_streams()
    else:
        import floor_stdio

        await floor_stdio.main()


class Driver:
    """Writes bursts to the server's stdin and counts the answer lines on its stdout."""

    def __init__(self, loop: asyncio.AbstractEventLoop, to_server: int, from_server: int) -> None:
        self.to_server, self.from_server = to_server, from_server
        self.loop = loop
        self.lines = 0
        self.wanted = 0
        self.done: asyncio.Future[None] | None = None
        os.set_blocking(from_server, False)
        loop.add_reader(from_server, self._readable)

    def _readable(self) -> None:
        self.lines += os.read(self.from_server, 1 << 20).count(b"\n")
        if self.done is not None and self.lines >= self.wanted and not self.done.done():
            self.done.set_result(None)

    async def send(self, data: bytes, answers: int) -> None:
        self.wanted = self.lines + answers
        self.done = self.loop.create_future()
        os.write(self.to_server, data)
        if answers:
            await self.done


async def main(
    impl: str, n: int, inflight: int, big: bool, stateless: bool = False, echo_kind: str | None = None
) -> None:
    loop = asyncio.get_running_loop()
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    stdin, stdout = os.fdopen(in_r, "rb", buffering=0), os.fdopen(out_w, "wb", buffering=0)
    if impl not in ("mcpbind", "floor", "floor-streams"):
        raise SystemExit(f"IMPL: mcpbind, floor or floor-streams, not {impl!r}")
    serving = (
        serve_mcpbind(stdin, stdout, echo_kind)
        if impl == "mcpbind"
        else serve_floor(stdin, stdout, streams=impl == "floor-streams")
    )
    server = loop.create_task(serving)
    driver = Driver(loop, in_w, out_r)
    if not stateless:
        await driver.send(INITIALIZE, 1)
        await driver.send(INITIALIZED, 0)
    data = burst(inflight, big, stateless)
    for _ in range((20 if big else 200) // inflight):  # warm-up
        await driver.send(data, inflight)
    started = time.perf_counter()
    for _ in range(n // inflight):
        await driver.send(data, inflight)
    elapsed = time.perf_counter() - started
    os.close(in_w)
    await asyncio.wait_for(server, 30)
    print(f"{impl}: {elapsed / (n // inflight * inflight) * 1e6:.1f} µs per request", file=sys.stderr)


if __name__ == "__main__":
    args = sys.argv[1:]
    inflight = int(args[args.index("--inflight") + 1]) if "--inflight" in args else 16
    echo_kind = args[args.index("--echo") + 1] if "--echo" in args else None
    run = main(args[0], int(args[1]), inflight, "--big" in args, "--stateless" in args, echo_kind)
    if "--asyncio" in args:
        asyncio.run(run)
    else:
        import uvloop

        uvloop.run(run)
