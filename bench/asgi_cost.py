"""Instructions per request of the HTTP server path, in process: an ASGI app driven with N requests.

The wall clock of a loaded machine swings 2-3x; instructions do not. This drives an ASGI app (mcpbind's
`HttpApp` with the benchmark server's tools, or the bare floor, ``apps/floor_asgi.py``) in one process,
with no sockets and no HTTP parser: the scope, ``receive`` and ``send`` uvicorn would give it. Run it
twice under callgrind with a small and a large N and divide the difference by the difference of N:
what is left is the app's cost per request (startup, imports and the session's handshake cancel out).

    valgrind --tool=callgrind --callgrind-out-file=/tmp/a.cg python bench/asgi_cost.py LEG N [--gc-off] \
        [--echo-waits]
    LEG: 2026-json (stateless tools/call), 2025-json (a session's tools/call, JSON answers),
         2025-sse (a session's echo_progress: one progress notification, an SSE answer),
         2026-sse (a stateless call of echo_progress: the same, on the stateless wire),
         floor and floor-2025 (the bare ASGI app: one decode, one encode), null (no work: the
         harness's own cost), 2025-init (an `initialize` each, from one client: past its cap of
         sessions, each ends its longest-idle one)
    --echo-waits: the `echo` tool awaits `asyncio.sleep(0)` first (a tool that waits one loop turn: its
    call carried on by a task)

Each floor leg is sent the requests of the JSON leg of its era, so that a floor and a leg do equal work
(the app decodes the body; the harness builds the scope's headers): `floor` gets what `2026-json` gets,
the 2026-07-28 call whose `_meta` names the protocol version, client and capabilities, with the three
routing headers (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`); `floor-2025` gets what `2025-json`
gets, a session opened by `initialize` (the floor answers it with a session id of its own, which it
does not check afterwards), then the 2025-11-25 call without `_meta`, with that era's two headers
(`Mcp-Session-Id`, `MCP-Protocol-Version`). The floor reads none of the headers: that is the floor.

It only imports ``mcpbind.server`` and ``mcpbind.transports``' public entry (`Server.http_app`), so the
same script measures an older checkout of mcpbind too. Without valgrind it prints µs per request.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import time
from pathlib import Path
from typing import Any

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent / "apps"))

MODERN, LEGACY = "2026-07-28", "2025-11-25"
META = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientInfo": {"name": "bench", "version": "0"},
    "io.modelcontextprotocol/clientCapabilities": {},
}
encode = msgspec.json.Encoder().encode
STATELESS_HEADERS = [
    (b"mcp-protocol-version", MODERN.encode()),
    (b"mcp-method", b"tools/call"),
    (b"mcp-name", b"echo"),
]
"""The routing headers of a stateless call of `echo`."""
STATELESS_SSE_HEADERS = [*STATELESS_HEADERS[:2], (b"mcp-name", b"echo_progress")]
"""The routing headers of a stateless call of `echo_progress`."""
INITIALIZE: dict[str, Any] = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {"protocolVersion": LEGACY, "capabilities": {}, "clientInfo": {"name": "b", "version": "0"}},
}


async def _waits(text: str) -> str:
    """Say `text` back, one loop turn later."""
    await asyncio.sleep(0)
    return text


def mcpbind_app(json_response: bool, waits: bool = False) -> Any:
    from _toolgen import echo

    from mcpbind.server import Context, Server

    globals()["Context"] = Context  # the tool's annotation is read from this module's globals
    server = Server("bench-mcpbind", "1.0.0")
    server.tool(name="echo")(_waits if waits else echo)

    @server.tool()
    async def echo_progress(text: str, ctx: Context) -> str:
        """Report progress once, then say `text` back."""
        await ctx.progress(1, 1)
        return text

    return server.http_app(json_response=json_response)


class Driver:
    """What uvicorn hands an ASGI app per request, and the answer it collects."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.base = [
            (b"host", b"127.0.0.1:8000"),
            (b"content-type", b"application/json"),
            (b"accept", b"application/json, text/event-stream"),
        ]
        self.extra: list[tuple[bytes, bytes]] = []
        self.next_id = 0

    async def post(
        self, frame: dict[str, Any], headers: list[tuple[bytes, bytes]]
    ) -> tuple[int, dict[bytes, bytes], bytes]:
        body = encode(frame)
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "server": ("127.0.0.1", 8000),
            "client": ("127.0.0.1", 50000),
            "scheme": "http",
            "method": "POST",
            "root_path": "",
            "path": "/mcp",
            "raw_path": b"/mcp",
            "query_string": b"",
            "headers": [*self.base, *headers, (b"content-length", str(len(body)).encode())],
            "state": {},
        }
        done = asyncio.get_running_loop().create_future()
        sent = [False]

        async def receive() -> dict[str, Any]:
            if not sent[0]:
                sent[0] = True
                return {"type": "http.request", "body": body, "more_body": False}
            await done  # as uvicorn: a disconnect only once the response is over
            return {"type": "http.disconnect"}

        status = 0
        head: dict[bytes, bytes] = {}
        chunks: list[bytes] = []

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                head.update(message.get("headers", ()))
            else:
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False) and not done.done():
                    done.set_result(None)

        await self.app(scope, receive, send)
        if not done.done():
            done.set_result(None)
        return status, head, b"".join(chunks)

    def call(self, tool: str, era: str) -> dict[str, Any]:
        self.next_id += 1
        params: dict[str, Any] = {"name": tool, "arguments": {"text": "hello from the benchmark driver"}}
        if era == MODERN:
            params["_meta"] = dict(META)
        if tool == "echo_progress":
            params.setdefault("_meta", {})["progressToken"] = self.next_id
        return {"jsonrpc": "2.0", "id": self.next_id, "method": "tools/call", "params": params}


async def lifespan(app: Any) -> None:
    messages = [{"type": "lifespan.startup"}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else await asyncio.get_running_loop().create_future()

    async def send(message: dict[str, Any]) -> None:
        if message["type"] != "lifespan.startup.complete":
            raise RuntimeError(f"lifespan: {message}")
        raise _Started

    try:
        await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)
    except _Started:
        pass


class _Started(Exception):
    pass


_NULL_ANSWER = b'{"jsonrpc":"2.0","id":1,"result":{"text":"hello from the benchmark driver"}}'


async def null_app(scope: Any, receive: Any, send: Any) -> None:
    """No work at all: one receive, two sends. What the harness itself costs, to subtract."""
    await receive()
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
    )
    await send({"type": "http.response.body", "body": _NULL_ANSWER})


async def prepare(leg: str) -> tuple[Driver, str, str, list[tuple[bytes, bytes]]]:
    """LEG's app, started and driven: (its driver, the tool it calls, the era of its calls, the headers
    of each call: a session's, opened and initialized here, for a session leg)."""
    if leg == "null":
        app: Any = null_app
    elif leg.startswith("floor"):
        from floor_asgi import app
    else:
        app = mcpbind_app(json_response=leg.endswith("json"), waits="--echo-waits" in sys.argv)
        await lifespan(app)
    d = Driver(app)
    era = MODERN if leg.startswith("2026") or leg in ("floor", "null") else LEGACY
    tool = "echo_progress" if leg.endswith("sse") else "echo"
    headers: list[tuple[bytes, bytes]] = []
    if leg in ("2026-json", "floor"):  # (the floor sent what the 2026 leg is)
        headers = STATELESS_HEADERS
    elif leg == "2026-sse":
        headers = STATELESS_SSE_HEADERS
    elif leg != "null":  # a session, the floor-2025 leg's too (the 2025 leg's requests)
        _, head, _ = await d.post(INITIALIZE, [])
        sid = head[b"mcp-session-id"]
        headers = [(b"mcp-session-id", sid), (b"mcp-protocol-version", LEGACY.encode())]
        await d.post({"jsonrpc": "2.0", "method": "notifications/initialized"}, headers)
    return d, tool, era, headers


async def main(leg: str, n: int) -> None:
    d, tool, era, headers = await prepare(leg)
    if leg == "2025-init":
        await _initializes(d, INITIALIZE, n)
        return
    t0 = time.perf_counter()
    for _ in range(n):
        status, head, body = await d.post(d.call(tool, era), headers)
        if status != 200 or body.find(b"hello from the benchmark driver") < 0:
            raise RuntimeError(f"{status} {head} {body[:300]!r}")
    dt = time.perf_counter() - t0
    print(f"{leg} n={n} {dt / n * 1e6:.1f} us/request; last {head.get(b'content-type')!r} {len(body)} bytes")


async def _initializes(d: Driver, init: dict[str, Any], n: int) -> None:
    """`n` sessions opened by one client, none ended: what an initialize costs (a turn of the loop
    after each, for what it leaves to a task)."""
    t0 = time.perf_counter()
    for _ in range(n):
        status, head, body = await d.post(init, [])
        if status != 200 or b"mcp-session-id" not in head:
            raise RuntimeError(f"{status} {head} {body[:300]!r}")
        await asyncio.sleep(0)
    dt = time.perf_counter() - t0
    print(f"2025-init n={n} {dt / n * 1e6:.1f} us/initialize")


def on_uvloop(run: Any) -> None:
    """`asyncio.run(run)`, on uvloop where it is installed (as the servers measured run)."""
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(run)


if __name__ == "__main__":
    if "--gc-off" in sys.argv:  # what the cyclic collector's passes cost, by difference
        gc.disable()
    on_uvloop(main(sys.argv[1], int(sys.argv[2])))
