"""Instructions per request of an ASGI app under uvicorn's own HTTP protocol, in process: no sockets.

`asgi_cost.py` hands the app a `receive` and a `send` of its own; this one puts uvicorn's httptools
protocol (`HttpToolsProtocol`, the one `run_http` serves with) between the bytes of each request and
the app, over a transport that only collects what is written: one connection, one request at a time.
What uvicorn gives an app (its `RequestResponseCycle`'s `receive` and `send`, the headers as it
parses them) is then what the app gets, with none of a socket's or a timer's instructions, which
vary with the machine's load. Run it twice under callgrind with a small and a large N and divide:

    valgrind --tool=callgrind --callgrind-out-file=/tmp/u.cg python bench/uvicorn_cost.py LEG N
    LEG: 2026-json, 2025-json, floor and floor-2025 (the bare ASGI app, `apps/floor_asgi.py`), 2025-sse
         and 2026-sse (`echo_progress`: one progress notification, then the answer, as SSE)

Each floor leg is sent the requests of the mcpbind legs of its era, byte for byte but for the session
id, so that a floor and a leg do equal work: uvicorn parses each header line with a Python call (about
4k instructions each) and the app decodes the body, work that is not the app's. `floor` gets what
`2026-json` gets: the 2026-07-28 call, whose `_meta` names the protocol version, client and
capabilities, and the three routing headers that era requires (`MCP-Protocol-Version`, `Mcp-Method`,
`Mcp-Name`). `floor-2025` gets what `2025-json` gets: the 2025-11-25 call, without `_meta`, and that
era's two headers (`Mcp-Session-Id`, `MCP-Protocol-Version`): the 2025 protocol has no routing
headers, and a 2026 request no session. The floor does not check the session id it is sent (its own,
`floor-session`, shorter than mcpbind's: httptools reads a header's value in C, the length costs next
to nothing), nor any header: that is the floor.

Without valgrind it prints µs per request, and the writes to the transport per request (each a
`send` system call on a real socket).
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent / "apps"))

from asgi_cost import (
    INITIALIZE,
    LEGACY,
    MODERN,
    STATELESS_HEADERS,
    STATELESS_SSE_HEADERS,
    Driver,
    encode,
    lifespan,
    mcpbind_app,
    on_uvloop,
)


class Collecting(asyncio.Transport):
    """A transport that keeps what is written, for the protocol to answer into."""

    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.wrote = asyncio.Event()
        self.writes = 0

    def write(self, data: Any) -> None:
        self.written += data
        self.writes += 1
        self.wrote.set()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def is_closing(self) -> bool:
        return False

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def close(self) -> None:
        pass


def request_bytes(body: bytes, headers: list[tuple[bytes, bytes]]) -> bytes:
    head = [b"POST /mcp HTTP/1.1", b"host: 127.0.0.1:8000", b"content-type: application/json"]
    head += [b"accept: application/json, text/event-stream", b"content-length: %d" % len(body)]
    head += [k + b": " + v for k, v in headers]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


async def answered(transport: Collecting) -> bytes:
    """The whole answer written for one request (by its Content-Length, or to its last chunk), taken
    off the transport."""
    while True:
        data = bytes(transport.written)
        head, sep, rest = data.partition(b"\r\n\r\n")
        if sep:
            if b"content-length: " not in head.lower():  # chunked: up to the last, empty chunk
                end = rest.find(b"\r\n0\r\n\r\n")
                length = -1 if end < 0 else end + 7
                if rest.startswith(b"0\r\n\r\n"):  # (the last chunk alone: an empty body, the floor's 202)
                    length = 5
            else:
                length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])  # (digits)
            if 0 <= length <= len(rest):
                del transport.written[: len(head) + 4 + length]
                return head + sep + rest[:length]
        transport.wrote.clear()
        await transport.wrote.wait()


async def connected(leg: str) -> tuple[Any, Collecting, Driver, str, list[tuple[bytes, bytes]]]:
    """uvicorn's protocol serving `leg`'s app over a transport that collects what it writes (for
    2025-json, its session opened), with the driver, era and headers of the leg's requests."""
    import uvicorn
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    from uvicorn.server import ServerState

    if leg.startswith("floor"):
        from floor_asgi import app
    else:
        app = mcpbind_app(json_response=not leg.endswith("sse"))
        await lifespan(app)
    config = uvicorn.Config(app, http="httptools", lifespan="off", access_log=False, proxy_headers=False)
    config.load()
    protocol = HttpToolsProtocol(config, ServerState(), {}, asyncio.get_running_loop())
    transport = Collecting()
    protocol.connection_made(transport)
    d = Driver(app)
    era = LEGACY if "2025" in leg else MODERN
    headers: list[tuple[bytes, bytes]] = []
    if leg in ("2026-json", "floor"):
        headers = STATELESS_HEADERS
    elif leg == "2026-sse":
        headers = STATELESS_SSE_HEADERS
    elif era == LEGACY:
        protocol.data_received(request_bytes(encode(INITIALIZE), []))
        answer = await answered(transport)
        at = answer.lower().index(b"mcp-session-id: ") + len(b"mcp-session-id: ")
        sid = answer[at : answer.index(b"\r\n", at)]
        headers = [(b"mcp-session-id", sid), (b"mcp-protocol-version", LEGACY.encode())]
        protocol.data_received(
            request_bytes(encode({"jsonrpc": "2.0", "method": "notifications/initialized"}), headers)
        )
        await answered(transport)
    return protocol, transport, d, era, headers


async def main(leg: str, n: int) -> None:
    protocol, transport, d, era, headers = await connected(leg)
    tool = "echo_progress" if leg.endswith("sse") else "echo"
    t0 = time.perf_counter()
    writes = transport.writes
    for _ in range(n):
        protocol.data_received(request_bytes(encode(d.call(tool, era)), headers))
        answer = await answered(transport)
        if not answer.startswith(b"HTTP/1.1 200") or answer.find(b"hello from the benchmark driver") < 0:
            raise RuntimeError(answer[:300])
    dt = time.perf_counter() - t0
    writes = (transport.writes - writes) / n
    print(f"{leg} n={n} {dt / n * 1e6:.1f} us/request, {writes:.2f} transport writes/request")


if __name__ == "__main__":
    on_uvloop(main(sys.argv[1], int(sys.argv[2])))
