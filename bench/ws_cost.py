"""Instructions per call of mcpbind's WebSocket server, in process: no sockets.

`uvicorn_cost.py`'s method for the WebSocket connection (`transports.websocket.standalone.Connection`,
what `run_websocket` serves each TCP connection with, and `run_http` each upgrade): the upgrade request
and then each client frame (masked, as a client's are) are fed to the connection's `data_received`
over a transport that only collects what is written (each in a callback of the loop, as a socket's
reads come), one call at a time, as the server benchmark's
WebSocket rows drive it (one connection, a 2025-11-25 session, `echo`). No socket, no timer: the count
repeats. Run it twice under callgrind with a small and a large N and divide:

    valgrind --tool=callgrind --callgrind-out-file=/tmp/w.cg python bench/ws_cost.py N [--modern] [--burst K]

`--modern`: no session, each call of 2026-07-28 carrying its `_meta`. `--burst K`: the calls come K
at a time, in one read (as with K in flight, each answered before the next K are sent). Without
valgrind it prints µs per call and the writes to the transport per call (each a `send` system call
on a real socket).

`--bytecodes` (or `--calls`): after 200 calls to warm up, the N calls under `sys.settrace` (each
bytecode executed) or `sys.setprofile` (each Python frame entered or resumed, each C function
called), counted by function (`client_calls.report`), the driver's own frames (its framing and its
wait for the answer) with them: compare checkouts with each other.
"""

from __future__ import annotations

import asyncio
import base64
import struct
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent / "apps"))

from asgi_cost import INITIALIZE, LEGACY, MODERN, Driver, encode, on_uvloop
from client_calls import Key, profiler, report, tracer
from rawws import client_frame as frame
from uvicorn_cost import Collecting

UPGRADE = (
    b"GET /mcp HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: " + base64.b64encode(b"0123456789abcdef") + b"\r\n"
    b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mcp\r\n\r\n"
)


async def answered(transport: Collecting) -> bytes:
    """The payload of the next whole text frame written, taken off the transport."""
    while True:
        buf = transport.written
        if len(buf) >= 2:
            length, at = buf[1] & 0x7F, 2
            if length == 126:
                length, at = struct.unpack_from("!H", buf, 2)[0], 4
            elif length == 127:
                length, at = struct.unpack_from("!Q", buf, 2)[0], 10
            if len(buf) >= at + length:
                payload = bytes(buf[at : at + length])
                del buf[: at + length]
                return payload
        transport.wrote.clear()
        await transport.wrote.wait()


async def connected(modern: bool) -> tuple[Any, Collecting]:
    from asgi_cost import mcpbind_app

    from mcpbind.transports.http import HttpSecurity
    from mcpbind.transports.websocket.core import WebSocketOptions
    from mcpbind.transports.websocket.standalone import Connection, Endpoint

    app = mcpbind_app(json_response=True)
    endpoint = Endpoint(app.server, "/mcp", HttpSecurity(), WebSocketOptions(ping_interval=None))
    protocol = Connection(endpoint)
    transport = Collecting()
    protocol.connection_made(transport)
    protocol.data_received(UPGRADE)
    while b"\r\n\r\n" not in transport.written:
        transport.wrote.clear()
        await transport.wrote.wait()
    head, _, rest = bytes(transport.written).partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 101"):
        raise RuntimeError(head.decode("latin-1"))
    transport.written[:] = rest
    if not modern:
        protocol.data_received(frame(encode(INITIALIZE)))
        await answered(transport)
        protocol.data_received(frame(encode({"jsonrpc": "2.0", "method": "notifications/initialized"})))
    return protocol, transport


async def main(n: int, modern: bool, burst: int, counts: Counter[Key] | None, bytecodes: bool) -> None:
    protocol, transport = await connected(modern)
    d = Driver(None)
    era = MODERN if modern else LEGACY
    loop = asyncio.get_running_loop()

    async def load(n: int) -> None:
        for _ in range(n // burst):
            loop.call_soon(
                protocol.data_received, b"".join(frame(encode(d.call("echo", era))) for _ in range(burst))
            )
            for _ in range(burst):
                answer = await answered(transport)
                if answer.find(b"hello from the benchmark driver") < 0:
                    raise RuntimeError(answer[:300])

    if counts is not None:
        await load(200)
        sys.settrace(tracer(counts)) if bytecodes else sys.setprofile(profiler(counts))
    t0 = time.perf_counter()
    writes = transport.writes
    try:
        await load(n)
    finally:
        sys.settrace(None)
        sys.setprofile(None)
    dt = time.perf_counter() - t0
    writes = (transport.writes - writes) / n
    print(f"ws {era} n={n} {dt / n * 1e6:.1f} us/call, {writes:.2f} transport writes/call")
    protocol.connection_lost(None)  # (the client gone: the connection's task ends)
    if protocol.task is not None:
        await protocol.task


if __name__ == "__main__":
    burst = int(sys.argv[sys.argv.index("--burst") + 1]) if "--burst" in sys.argv else 1
    bytecodes = "--bytecodes" in sys.argv
    counts: Counter[Key] | None = Counter() if bytecodes or "--calls" in sys.argv else None
    n, modern = int(sys.argv[1]), "--modern" in sys.argv[2:]
    on_uvloop(main(n, modern, burst, counts, bytecodes))
    if counts is not None:
        report(counts, n, f"ws {MODERN if modern else LEGACY}, {burst} per read", "call", bytecodes)
