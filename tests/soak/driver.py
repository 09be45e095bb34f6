"""Soak: many calls against one long-lived server per era, watching the SERVER process for growth.

    nox -s soak                  # python -m tests.soak.driver: 50,000 calls per HTTP era, twice that on stdio
    nox -s soak -- --calls N     # N per HTTP era, 2N per stdio era (the long run: --calls 100000 and more)

Eras: stdio in a 2025-11-25 session and stateless 2026-07-28 over stdio; HTTP in a 2025-11-25 session
and stateless 2026-07-28 HTTP. Each era starts tests/servers/probe.py, warms it up, then keeps `window`
calls in flight (a mix of tool calls, lists, reads, tool errors and protocol errors) and samples, about
40 times, the server's RSS and open fds (/proc/<pid>/status and /proc/<pid>/fd) and its asyncio tasks
(the `stats` tool). It asserts that growth is flat: the median RSS of the last quarter of the samples
within a small margin of the first quarter's, and tasks and fds back to their baseline once idle.
Prints one table row per era; exits 1 if any era grew.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bench.rawhttp import Connection, delete, header, post

from ..http_support import BOTH, MODERN, free_port, initialize, modern, modern_headers, sse_messages
from ..stdio_support import PROBE

STATEFUL = "2025-11-25"
WINDOW = 16
"""Calls in flight at once (below any per-connection concurrency limit: this measures growth, not limits)."""
SAMPLES = 40
RSS_MARGIN = 0.05
RSS_SLACK_KB = 3 * 1024
"""Last-quarter median RSS may exceed the first quarter's by 5% plus 3 MiB (allocator noise)."""


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def mix(i: int) -> tuple[str, dict[str, Any]]:
    """The i-th call: mostly echo, with the other kinds of traffic a server sees."""
    kind = i % 20
    if kind < 10:
        return "tools/call", {"name": "echo", "arguments": {"text": f"soak {i}"}}
    if kind < 12:
        return "tools/call", {"name": "add", "arguments": {"a": i, "b": 1}}
    if kind < 14:
        return "tools/list", {}
    if kind < 16:
        return "resources/read", {"uri": f"memo://items/{i}"}
    if kind < 17:
        return "prompts/get", {"name": "greet", "arguments": {"name": "soak"}}
    if kind < 18:
        return "tools/call", {"name": "fail", "arguments": {"message": "expected"}}  # a tool error
    if kind < 19:
        return "tools/call", {"name": "no-such-tool", "arguments": {}}  # -32602
    return "no/such/method", {}  # -32601


@dataclass
class Era:
    name: str
    calls: int
    samples: list[tuple[int, int, int]] = field(default_factory=list)
    """(calls done, RSS kB, fds) during the load."""
    baseline: dict[str, int] = field(default_factory=dict)
    after: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    errors: int = 0

    def rss_quarters(self) -> tuple[float, float]:
        rss = [r for _, r, _ in self.samples]
        quarter = max(1, len(rss) // 4)
        return statistics.median(rss[:quarter]), statistics.median(rss[-quarter:])

    def problems(self) -> list[str]:
        out = []
        first, last = self.rss_quarters()
        if last > first * (1 + RSS_MARGIN) + RSS_SLACK_KB:
            out.append(f"RSS grew: median {first:.0f} kB in the first quarter, {last:.0f} kB in the last")
        for what in ("tasks", "fds"):
            if self.after[what] > self.baseline[what]:
                out.append(f"{what} {self.baseline[what]} -> {self.after[what]}")
        return out


Call = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


async def load(era: Era, pid: int, call: Call) -> None:
    """Warm up, take the idle baseline, run the calls `WINDOW` at a time while sampling, and read the
    idle figures again once the server has settled."""

    async def stats() -> dict[str, int]:
        answer = await call("tools/call", {"name": "stats", "arguments": {}})
        figures = dict(answer["result"]["structuredContent"])
        return {"tasks": figures["tasks"], "fds": fds(pid), "rss_kb": rss_kb(pid)}

    for i in range(min(2000, era.calls // 5)):  # warm-up: caches fill, the allocator finds its size
        await call(*mix(i))
    era.baseline = await stats()
    every = max(1, era.calls // SAMPLES)
    done = 0
    next_index = 0
    started = time.perf_counter()

    async def worker() -> None:
        nonlocal done, next_index
        while next_index < era.calls:
            i = next_index
            next_index += 1
            answer = await call(*mix(i))
            if "error" in answer:
                era.errors += 1
            done += 1
            if done % every == 0:
                era.samples.append((done, rss_kb(pid), fds(pid)))

    await asyncio.gather(*(worker() for _ in range(WINDOW)))
    era.seconds = time.perf_counter() - started
    for _ in range(50):  # settled: handlers finished, connections closed
        era.after = await stats()
        if era.after["tasks"] <= era.baseline["tasks"] and era.after["fds"] <= era.baseline["fds"]:
            break
        await asyncio.sleep(0.1)


# -- stdio ---------------------------------------------------------------------------------------------


async def stdio_era(era: Era, revision: str) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        PROBE,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        limit=1 << 24,
    )
    assert process.stdin is not None and process.stdout is not None
    stdin, stdout = process.stdin, process.stdout
    waiting: dict[Any, asyncio.Future[dict[str, Any]]] = {}
    next_id = 0

    async def reader() -> None:
        while line := await stdout.readline():
            message = json.loads(line)
            future = waiting.pop(message.get("id"), None) if "method" not in message else None
            if future is not None:
                future.set_result(message)

    async def call(method: str, params: dict[str, Any]) -> dict[str, Any]:
        nonlocal next_id
        next_id += 1
        if revision == MODERN:
            message = modern(next_id, method, params)
        else:
            message = {"jsonrpc": "2.0", "id": next_id, "method": method, "params": params}
        future = waiting[next_id] = asyncio.get_running_loop().create_future()
        stdin.write(json.dumps(message).encode() + b"\n")
        await stdin.drain()
        return await asyncio.wait_for(future, 30)

    reading = asyncio.ensure_future(reader())
    try:
        if revision != MODERN:
            init = initialize(revision, rid=0)
            future = waiting[0] = asyncio.get_running_loop().create_future()
            stdin.write(json.dumps(init).encode() + b"\n")
            await future
            stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
        await load(era, process.pid, call)
    finally:
        stdin.close()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()
        reading.cancel()


# -- HTTP ----------------------------------------------------------------------------------------------


async def http_era(era: Era, revision: str) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, PROBE, "--http", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    host = f"127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                probe = await Connection("127.0.0.1", port).open()
                probe.close()
                break
            except OSError:
                await asyncio.sleep(0.05)
        pool = [await Connection("127.0.0.1", port).open() for _ in range(WINDOW + 1)]
        free = list(pool)
        session: dict[str, str] = {}
        if revision != MODERN:
            status, headers, body = await pool[0].request(
                post(
                    "/mcp",
                    host,
                    {"accept": BOTH, "content-type": "application/json"},
                    json.dumps(initialize(revision)).encode(),
                )
            )
            assert status == 200, body
            session = {
                "mcp-session-id": header(headers, "mcp-session-id") or "",
                "mcp-protocol-version": revision,
            }
            note = b'{"jsonrpc":"2.0","method":"notifications/initialized"}'
            status, _, _ = await pool[0].request(
                post("/mcp", host, {**session, "accept": BOTH, "content-type": "application/json"}, note)
            )
            assert status == 202, status
        next_id = 0

        async def call(method: str, params: dict[str, Any]) -> dict[str, Any]:
            nonlocal next_id
            next_id += 1
            rid = next_id
            if revision == MODERN:
                message = modern(rid, method, params)
                headers = modern_headers(message)
            else:
                message = {"jsonrpc": "2.0", "id": rid, "method": method, "params": params}
                headers = {**session, "accept": BOTH}
            headers["content-type"] = "application/json"
            connection = free.pop()
            try:
                status, response_headers, body = await connection.request(
                    post("/mcp", host, headers, json.dumps(message).encode())
                )
            finally:
                free.append(connection)
            kind = header(response_headers, "content-type") or ""
            if kind.startswith("text/event-stream"):
                (answer,) = [m for m in sse_messages(body.decode()) if m.get("id") == rid]
                return answer
            assert kind.startswith("application/json"), (status, body[:200])
            return dict(json.loads(body))

        await load(era, process.pid, call)
        if session:
            last = await Connection("127.0.0.1", port).open()  # the pool's may have idled out
            status, _, _ = await last.request(delete("/mcp", host, session))
            assert status in (200, 204), status
            last.close()
        for connection in pool:
            connection.close()
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


# -- main ----------------------------------------------------------------------------------------------


def table(eras: list[Era]) -> str:
    rows = [
        "| era | calls | calls/s | RSS kB (1st -> last quarter median) | tasks (idle before -> after) "
        "| fds (idle before -> after) | errors answered | verdict |",
        "|---|---:|---:|---|---|---|---:|---|",
    ]
    for era in eras:
        first, last = era.rss_quarters()
        problems = era.problems()
        rows.append(
            f"| {era.name} | {era.calls} | {era.calls / era.seconds:,.0f} | {first:,.0f} -> {last:,.0f} | "
            f"{era.baseline['tasks']} -> {era.after['tasks']} | "
            f"{era.baseline['fds']} -> {era.after['fds']} | {era.errors} | "
            f"{'; '.join(problems) or 'flat'} |"
        )
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--calls", type=int, default=50_000, help="calls per HTTP era; stdio eras make twice as many"
    )
    parser.add_argument("--only", default="", help="comma-separated era names (stdio-session, ...)")
    args = parser.parse_args()
    eras = {
        "stdio-session": (stdio_era, STATEFUL, 2 * args.calls),
        "stdio-stateless": (stdio_era, MODERN, 2 * args.calls),
        "http-session": (http_era, STATEFUL, args.calls),
        "http-stateless": (http_era, MODERN, args.calls),
    }
    chosen = [name for name in eras if not args.only or name in args.only.split(",")]
    done: list[Era] = []
    for name in chosen:
        run, revision, calls = eras[name]
        era = Era(name, calls)
        asyncio.run(run(era, revision))
        done.append(era)
        print(f"{name}: {calls} calls in {era.seconds:.1f} s", file=sys.stderr, flush=True)
    print(table(done))
    return 1 if any(era.problems() for era in done) else 0


if __name__ == "__main__":
    sys.exit(main())
