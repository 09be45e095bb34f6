"""Churn: messy clients against one long-lived HTTP server (tests/servers/churn.py: POSTs and WebSocket
upgrades on `/mcp`, both eras), watching what the SERVER holds from outside (its `/stats` route).

    python -m tests.soak.churn                      # 10,000 cycles, a checkpoint every 1,000
    python -m tests.soak.churn --cycles 200,2000    # the checkpoints, any number
    python -m tests.soak.churn --only resumed --top 10   # one scenario; tracemalloc's largest growths

Each cycle is one scenario, in turn: a session opened and never ended, a POST whose SSE answer is
dropped mid-way, a call that never returns cancelled by `notifications/cancelled`, a cancellation
racing a call's completion, a GET stream opened and dropped, a client that leaves mid-body or
mid-headers, an elicitation never answered, a progress and log flood dropped, an SSE stream resumed
with `Last-Event-ID`, a tool that raises; stateless: a slow call dropped, a `subscriptions/listen`
dropped, an `InputRequiredResult` never retried; a WebSocket dropped with a call in flight. At each
checkpoint every session is ended (as the idle timeout would: what sessions hold grows with how many
are open, up to `max_sessions`), the server settles, and its figures are read. It prints a table and
exits 1 when a scenario did not go as its client expects (the server stopped answering, say), when
tasks, fds or connections are left beyond the start's, or when RSS grew between the first checkpoint
and the last.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ..http_support import BOTH, _die_with_parent, free_port, initialize, modern, modern_headers
from ..stdio_support import PROBE

SERVER = str(__import__("pathlib").Path(PROBE).with_name("churn.py"))
STATEFUL = "2025-11-25"
CONCURRENCY = 8
"""Scenarios run at once."""
STEP = 5.0
"""The bound on any one step of a scenario, in seconds: a server that stops answering fails the run."""


class Wire:
    """One raw HTTP/1.1 connection, for clients that leave at any point."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.sse = b""
        self.events: list[dict[str, Any]] = []
        self.left: int | None = None
        """What is left of a body of a known length (a stream sent whole); None: a chunked one."""

    @classmethod
    async def open(cls, port: int) -> Wire:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), STEP)
        return cls(reader, writer)

    def send(self, method: str, port: int, headers: dict[str, str], body: bytes = b"") -> None:
        lines = [f"{method} /mcp HTTP/1.1", f"host: 127.0.0.1:{port}"]
        if method == "POST":
            lines.append(f"content-length: {len(body)}")
        lines += [f"{k}: {v}" for k, v in headers.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)

    async def head(self) -> tuple[int, dict[str, str]]:
        raw = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), STEP)
        first, *rest = raw.decode().split("\r\n")
        headers = {}
        for line in rest:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        length = headers.get("content-length")
        self.left = None if length is None else int(length)
        return int(first.split()[1]), headers

    async def body(self, headers: dict[str, str]) -> bytes:
        if "content-length" in headers:
            return await asyncio.wait_for(self.reader.readexactly(int(headers["content-length"])), STEP)
        out = b""  # chunked
        while True:
            size = int((await asyncio.wait_for(self.reader.readuntil(b"\r\n"), STEP)).strip(), 16)
            chunk = await asyncio.wait_for(self.reader.readexactly(size + 2), STEP)
            if size == 0:
                return out
            out += chunk[:-2]

    async def event(self) -> dict[str, Any]:
        """The next SSE event with data of a stream, as {"id": ..., "data": ...} (comments and events
        with no data skipped): chunked, or sent whole with its length (a stream complete when its
        answer began)."""
        while not self.events:
            if self.left is not None:
                if self.left == 0:
                    raise EOFError("the stream ended")
                self.sse += await asyncio.wait_for(self.reader.readexactly(self.left), STEP)
                self.left = 0
            else:
                size = int((await asyncio.wait_for(self.reader.readuntil(b"\r\n"), STEP)).strip(), 16)
                if size == 0:
                    raise EOFError("the stream ended")
                self.sse += (await asyncio.wait_for(self.reader.readexactly(size + 2), STEP))[:-2]
            *whole, self.sse = self.sse.split(b"\r\n\r\n")
            for block in whole:
                event: dict[str, Any] = {}
                for line in block.decode().splitlines():
                    if line.startswith("id:"):
                        event["id"] = line[3:].strip()
                    elif line.startswith("data:") and line[5:].strip():
                        event["data"] = json.loads(line[5:])
                if "data" in event:
                    self.events.append(event)
        return self.events.pop(0)

    def drop(self) -> None:
        self.writer.transport.abort()  # no FIN: as a client that crashed


class Churn:
    def __init__(self, port: int) -> None:
        self.port = port
        self.rid = 0
        self.only: tuple[str, ...] = ()
        """The scenarios to run (all of them: empty)."""

    def next_id(self) -> int:
        self.rid += 1
        return self.rid

    async def exchange(
        self, headers: dict[str, str], message: dict[str, Any]
    ) -> tuple[int, dict[str, str], bytes]:
        wire = await Wire.open(self.port)
        try:
            wire.send(
                "POST",
                self.port,
                {"content-type": "application/json", **headers},
                json.dumps(message).encode(),
            )
            status, head = await wire.head()
            return status, head, await wire.body(head)
        finally:
            wire.writer.close()

    async def open_session(self, elicits: bool = False) -> str:
        capabilities: dict[str, Any] = {"elicitation": {}} if elicits else {}
        init = initialize(STATEFUL, rid=0, capabilities=capabilities)
        status, head, _ = await self.exchange({"accept": BOTH}, init)
        assert status == 200, status
        sid = head["mcp-session-id"]
        note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        status, _, _ = await self.exchange(self.session_headers(sid), note)
        assert status == 202, status
        return sid

    def session_headers(self, sid: str) -> dict[str, str]:
        return {"accept": BOTH, "mcp-session-id": sid, "mcp-protocol-version": STATEFUL}

    async def session_call(self, sid: str, name: str, arguments: dict[str, Any]) -> tuple[Wire, int]:
        """A call in the session, its head read: the wire (an SSE stream or JSON) and the call's id."""
        rid = self.next_id()
        message = {
            "jsonrpc": "2.0",
            "id": rid,
            "method": "tools/call",
            "params": {"name": name, "arguments": arguments},
        }
        wire = await Wire.open(self.port)
        wire.send(
            "POST",
            self.port,
            {"content-type": "application/json", **self.session_headers(sid)},
            json.dumps(message).encode(),
        )
        return wire, rid

    async def cancel(self, sid: str, rid: int) -> None:
        note = {
            "jsonrpc": "2.0",
            "method": "notifications/cancelled",
            "params": {"requestId": rid, "reason": "churn"},
        }
        status, _, _ = await self.exchange(self.session_headers(sid), note)
        assert status == 202, status

    # -- the scenarios -------------------------------------------------------------------------------

    async def abandoned_session(self, sid: str) -> None:
        await self.open_session()  # never DELETEd: the idle timeout ends it

    async def sse_dropped(self, sid: str) -> None:
        wire, _ = await self.session_call(sid, "slow", {"seconds": 0.05})
        await wire.head()
        wire.drop()

    async def hang_cancelled(self, sid: str) -> None:
        wire, rid = await self.session_call(sid, "hang", {})
        await asyncio.sleep(0.02)
        await self.cancel(sid, rid)
        wire.drop()

    async def cancel_races(self, sid: str) -> None:
        wire, rid = await self.session_call(sid, "echo", {"text": "race"})
        await self.cancel(sid, rid)
        _status, head = await wire.head()
        await wire.body(head)
        wire.writer.close()

    async def get_dropped(self, sid: str) -> None:
        wire = await Wire.open(self.port)
        wire.send("GET", self.port, {**self.session_headers(sid), "accept": "text/event-stream"})
        _status, _ = await wire.head()
        wire.drop()

    async def mid_body(self, sid: str) -> None:
        wire = await Wire.open(self.port)
        body = json.dumps({"jsonrpc": "2.0", "id": self.next_id(), "method": "tools/list"}).encode()
        head = {"content-type": "application/json", **self.session_headers(sid)}
        lines = ["POST /mcp HTTP/1.1", f"host: 127.0.0.1:{self.port}", f"content-length: {len(body) + 50}"]
        lines += [f"{k}: {v}" for k, v in head.items()]
        wire.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body[:10])
        await wire.writer.drain()
        await asyncio.sleep(0.01)
        wire.drop()

    async def mid_headers(self, sid: str) -> None:
        wire = await Wire.open(self.port)
        wire.writer.write(f"POST /mcp HTTP/1.1\r\nhost: 127.0.0.1:{self.port}\r\ncontent-ty".encode())
        await wire.writer.drain()
        wire.drop()

    async def elicit_unanswered(self, sid: str) -> None:
        elicits = await self.open_session(elicits=True)
        wire, _ = await self.session_call(elicits, "ask", {})
        await wire.head()
        event = await wire.event()
        assert event["data"]["method"] == "elicitation/create", event
        wire.drop()  # never answered; the session left to expire

    async def flood_dropped(self, sid: str) -> None:
        wire, _ = await self.session_call(sid, "chatter", {"count": 200})
        await wire.head()
        await wire.event()
        wire.drop()

    async def resumed(self, sid: str) -> None:
        wire, rid = await self.session_call(sid, "chatter", {"count": 3, "pause": 0.01})
        await wire.head()
        first = await wire.event()
        wire.drop()
        headers = {**self.session_headers(sid), "accept": "text/event-stream", "last-event-id": first["id"]}
        for _ in range(50):
            again = await Wire.open(self.port)
            again.send("GET", self.port, headers)
            status, head = await again.head()
            if status != 409:  # (the server has not yet seen the first reader go: as a client, again)
                break
            await again.body(head)
            again.writer.close()
            await asyncio.sleep(0.02)
        assert status == 200, status
        while True:
            event = await again.event()
            if event.get("data", {}).get("id") == rid:
                break
        again.writer.close()

    async def raises(self, sid: str) -> None:
        wire, _ = await self.session_call(sid, "crash", {})
        _status, head = await wire.head()
        await wire.body(head)
        wire.writer.close()

    async def stateless_post(self, method: str, params: dict[str, Any]) -> Wire:
        """A stateless request POSTed on a wire of its own (its answer not read)."""
        message = modern(self.next_id(), method, params)
        wire = await Wire.open(self.port)
        headers = {**modern_headers(message), "content-type": "application/json"}
        wire.send("POST", self.port, headers, json.dumps(message).encode())
        return wire

    async def stateless_dropped(self, sid: str) -> None:
        wire = await self.stateless_post("tools/call", {"name": "slow", "arguments": {"seconds": 0.05}})
        await asyncio.sleep(0.01)
        wire.drop()

    async def listen_dropped(self, sid: str) -> None:
        notifications = {"resourceSubscriptions": ["memo://hello"]}
        wire = await self.stateless_post("subscriptions/listen", {"notifications": notifications})
        await wire.head()
        wire.drop()

    async def input_never_retried(self, sid: str) -> None:
        message = modern(self.next_id(), "tools/call", {"name": "ask", "arguments": {}})
        message["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"] = {"elicitation": {}}
        _status, _, body = await self.exchange({**modern_headers(message)}, message)
        assert b"input_required" in body or b"inputRequests" in body, body[:300]

    async def websocket_dropped(self, sid: str) -> None:
        from websockets.asyncio.client import connect
        from websockets.typing import Subprotocol

        async with connect(
            f"ws://127.0.0.1:{self.port}/mcp", subprotocols=[Subprotocol("mcp")], open_timeout=STEP
        ) as ws:
            await ws.send(json.dumps(modern(1, "tools/call", {"name": "hang", "arguments": {}})))
            await ws.send(json.dumps(modern(2, "tools/call", {"name": "echo", "arguments": {"text": "x"}})))
            await asyncio.wait_for(ws.recv(), STEP)
            ws.transport.abort()

    SCENARIOS = (
        "abandoned_session",
        "sse_dropped",
        "hang_cancelled",
        "cancel_races",
        "get_dropped",
        "mid_body",
        "mid_headers",
        "elicit_unanswered",
        "flood_dropped",
        "resumed",
        "raises",
        "stateless_dropped",
        "listen_dropped",
        "input_never_retried",
        "websocket_dropped",
    )

    async def stats(self, query: str = "") -> dict[str, Any]:
        wire = await Wire.open(self.port)
        try:
            wire.writer.write(f"GET /stats{query} HTTP/1.1\r\nhost: 127.0.0.1:{self.port}\r\n\r\n".encode())
            _, head = await wire.head()
            return dict(json.loads(await wire.body(head)))
        finally:
            wire.writer.close()

    async def alive(self) -> None:
        """The server still answers a plain call in a session of its own."""
        sid = await self.open_session()
        wire, _rid = await self.session_call(sid, "echo", {"text": "alive"})
        _, head = await wire.head()
        assert b"alive" in await wire.body(head)
        wire.writer.close()


async def run(churn: Churn, cycles: int, done: list[int], failures: dict[str, int]) -> None:
    sid = await churn.open_session()
    names = churn.only or Churn.SCENARIOS
    scenarios: list[Callable[[str], Awaitable[None]]] = [getattr(churn, name) for name in names]

    async def worker() -> None:
        while done[0] < cycles:
            i = done[0]
            done[0] += 1
            scenario = scenarios[i % len(scenarios)]
            try:
                await scenario(sid)
            except Exception as exc:
                key = f"{scenario.__name__}: {type(exc).__name__} {exc}"[:100]
                failures[key] = failures.get(key, 0) + 1

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))


async def settle(churn: Churn) -> dict[str, Any]:
    await asyncio.sleep(1.0)
    figures = await churn.stats()
    for _ in range(40):
        await asyncio.sleep(0.25)
        again = await churn.stats()
        if again["tasks"] >= figures["tasks"] and again["closing"] == 0:
            return again
        figures = again
    return figures


RSS_MARGIN = 0.05
RSS_SLACK_KB = 3 * 1024
"""The last checkpoint's RSS may exceed the first's by 5% plus 3 MiB (allocator noise)."""


@dataclass
class Report:
    base: dict[str, Any]
    """The server's figures once settled before the churn."""
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    """(cycles done, the figures once settled with every session ended) at each checkpoint."""
    failures: dict[str, int] = field(default_factory=dict)
    """Scenarios that did not go as a client of that kind expects, by what went wrong."""

    def problems(self) -> list[str]:
        out = [f"{count}x {key}" for key, count in sorted(self.failures.items())]
        first, last = self.rows[0][1], self.rows[-1][1]
        if last["rss_kb"] > first["rss_kb"] * (1 + RSS_MARGIN) + RSS_SLACK_KB:
            at = (
                f"{first['rss_kb']} kB at {self.rows[0][0]} cycles, {last['rss_kb']} kB at {self.rows[-1][0]}"
            )
            out.append(f"RSS grew: {at}")
        for what in ("tasks", "fds", "connections"):
            if last[what] > self.base[what]:
                out.append(f"{what}: {self.base[what]} before, {last[what]} after")
        for what in ("sessions", "closing", "body_reads", "stateless_running"):
            if last[what]:
                out.append(f"{what}: {last[what]} left")
        return out


async def soak(
    checkpoints: list[int], *, idle: float = 3600.0, top: int = 0, only: tuple[str, ...] = (), log: Any = None
) -> Report:
    """Run the scenarios against a new server up to each checkpoint; there, end every session (as the
    idle timeout would), let the server settle and read its figures."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, SERVER, "--http", str(port), "--idle", str(idle)],
        stdout=subprocess.DEVNULL,
        stderr=log if log is not None else subprocess.DEVNULL,
        preexec_fn=_die_with_parent,  # (none outlives a run that is killed)
    )
    churn = Churn(port)
    churn.only = only
    try:
        for _ in range(400):
            try:
                await churn.stats()
                break
            except OSError:
                await asyncio.sleep(0.05)
        await churn.alive()
        report = Report(await settle(churn))
        if top:
            await churn.stats("?trace=1")
        started = time.monotonic()
        done = [0]
        for cycles in checkpoints:
            await run(churn, cycles, done, report.failures)
            await churn.alive()
            await churn.stats("?expire")  # every session ended, as the idle timeout would
            figures = await settle(churn)
            report.rows.append((cycles, figures))
            print(
                cycles, f"{time.monotonic() - started:.0f}s", json.dumps(figures), file=sys.stderr, flush=True
            )
        if top:
            for line in (await churn.stats(f"?top={top}"))["top"]:
                print(line)
        return report
    finally:
        process.terminate()
        process.wait(15)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cycles", default=",".join(str(n * 1000) for n in range(1, 11)))
    parser.add_argument("--idle", type=float, default=3600.0)
    parser.add_argument("--top", type=int, default=0, help="tracemalloc: the N largest growths")
    parser.add_argument("--only", default="", help="comma-separated scenario names (all: empty)")
    args = parser.parse_args()
    only = tuple(name for name in args.only.split(",") if name)
    report = asyncio.run(
        soak(
            [int(c) for c in args.cycles.split(",")], idle=args.idle, top=args.top, only=only, log=sys.stderr
        )
    )
    print("| cycles | RSS kB | fds | tasks | sessions | kept events | connections |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for cycles, f in [(0, report.base), *report.rows]:
        figures = (f["rss_kb"], f["fds"], f["tasks"], f["sessions"], f["events"], f["connections"])
        print(f"| {cycles} | " + " | ".join(f"{n:,}" for n in figures) + " |")
    problems = report.problems()
    print("verdict:", "; ".join(problems) or "flat")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
