"""Client churn: one long-lived `Client.http` against tests/servers/churn.py making many calls, with
timeouts, cancellations, progress, tool errors, its session ended by the server (404, a new session)
and the server restarted on the same port, watching what the CLIENT holds: its process's RSS and
fds, its asyncio tasks, its table of pending requests and progress callbacks, and ResourceWarnings.

    python -m tests.soak.client_churn                        # 1,000 and 10,000 calls, both eras
    python -m tests.soak.client_churn --calls 200,2000 --mode 2026-07-28

Every 500 calls the server ends the client's sessions (`/stats?expire`), every 2,500 it is killed and
started again on the same port. Exits 1 when a call ended otherwise than its kind should (answered,
cancelled, timed out at its own short timeout, a tool error), when anything the client holds is left
once idle, when RSS grew between the first checkpoint and the last, or on a ResourceWarning.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from typing import Any, cast

from mcpbind.client import Client
from mcpbind.client.options import Mode
from mcpbind.errors import McpError, RequestTimeout

from ..http_support import _die_with_parent, free_port
from .churn import SERVER, Wire

WINDOW = 8


def figures(client: Client) -> dict[str, int]:
    gc.collect()
    with open("/proc/self/status") as status:
        rss = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    transport: Any = client.transport
    return {
        "tasks": len(asyncio.all_tasks()),
        "fds": len(os.listdir("/proc/self/fd")),
        "rss_kb": rss,
        "pending": client.peer.endpoint.pending,
        "progress": len(client._progress),
        "inflight": len(transport._inflight),
        "transport_tasks": len(transport._tasks),
        "withdrawn": len(transport._withdrawn),
    }


class Server:
    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = tempfile.TemporaryFile()  # (open while the server may run)

    async def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, SERVER, "--http", str(self.port)],
            stderr=self.log,  # (a file: the `crash` tool's tracebacks would fill a pipe)
            preexec_fn=_die_with_parent,  # (none outlives a run that is killed)
        )
        for _ in range(1200):  # (30 s: a loaded machine starts a process slowly)
            if self.process.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"the server exited: {self.log.read()[-2000:]!r}")
            try:
                wire = await Wire.open(self.port)
                wire.writer.close()
                return
            except OSError:
                await asyncio.sleep(0.025)
        raise RuntimeError("the server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None

    async def expire(self) -> None:
        wire = await Wire.open(self.port)
        wire.writer.write(f"GET /stats?expire HTTP/1.1\r\nhost: 127.0.0.1:{self.port}\r\n\r\n".encode())
        _, head = await wire.head()
        json.loads(await wire.body(head))
        wire.writer.close()


async def one(client: Client, i: int, outcomes: dict[str, int]) -> None:
    kind = i % 10
    try:
        if kind < 4:
            result = await client.call_tool("echo", {"text": f"c{i}"}, timeout=10)
            assert not result.is_error
            outcome = "answered"
        elif kind == 4:
            await client.call_tool("slow", {"seconds": 0.3}, timeout=0.02)
            outcome = "answered late"
        elif kind == 5:
            call = asyncio.ensure_future(client.call_tool("hang", {}, timeout=10))
            await asyncio.sleep(0.01)
            call.cancel()
            try:
                await call
            except asyncio.CancelledError:
                pass
            outcome = "cancelled"
        elif kind == 6:
            seen: list[float] = []

            async def progress(done: float, total: float | None, message: str | None) -> None:
                seen.append(done)

            await client.call_tool("chatter", {"count": 20}, progress=progress, timeout=10)
            outcome = "progressed"
        elif kind == 7:
            result = await client.call_tool("crash", {}, timeout=10)
            outcome = "tool error" if result.is_error else "crash answered"
        elif kind == 8:
            await client.call_tool("hang", {}, timeout=0.02)
            outcome = "answered hang"
        else:
            await client.list_tools()
            outcome = "listed"
    except TimeoutError:
        outcome = "timed out"
    except RequestTimeout as exc:
        outcome = f"timed out ({exc.message.rsplit(' ', 2)[-2]} s)"
    except McpError as exc:
        outcome = f"McpError {exc.code}: {str(exc)[:60]}"
    except Exception as exc:
        outcome = f"{type(exc).__name__}: {str(exc)[:60]}"
    outcomes[outcome] = outcomes.get(outcome, 0) + 1


async def run(
    mode: str, checkpoints: list[int], outcomes: dict[str, int]
) -> list[tuple[int, dict[str, int]]]:
    """Calls up to each checkpoint; there, once the streams of cancelled calls have had their grace,
    the client's figures (the first row: after one call)."""
    server = Server()
    await server.start()
    rows: list[tuple[int, dict[str, int]]] = []
    try:
        async with Client.http(
            f"http://127.0.0.1:{server.port}/mcp", mode=mode, request_timeout=10
        ) as client:
            await client.call_tool("echo", {"text": "warm"})
            base = figures(client)
            rows.append((0, base))
            done = 0
            started = time.monotonic()
            for target in checkpoints:
                while done < target:
                    batch = range(done, min(target, done + WINDOW))
                    await asyncio.gather(*(one(client, i, outcomes) for i in batch))
                    done = batch[-1] + 1
                    if done % 500 < WINDOW:
                        await server.expire()  # the next call: 404, a new session
                    if done % 2500 < WINDOW:
                        server.stop()
                        down: dict[str, int] = {}
                        await one(client, 0, down)  # refused: nothing listens
                        assert "answered" not in down, down
                        await server.start()
                await asyncio.sleep(6)  # the cancel grace (5 s) of the streams cancelled last
                rows.append((target, figures(client)))
                print(mode, target, f"{time.monotonic() - started:.0f}s", json.dumps(rows[-1][1]), flush=True)
        gc.collect()
        await asyncio.sleep(0.1)
        print(mode, "closed: tasks", len(asyncio.all_tasks()), "fds", len(os.listdir("/proc/self/fd")))
    finally:
        server.stop()
        server.log.close()
    for outcome, count in sorted(outcomes.items()):
        print(f"  {count:6d} {outcome}")
    return rows


EXPECTED = {
    "answered",
    "cancelled",
    "listed",
    "progressed",
    "tool error",
    "timed out (0.02 s)",
}
"""What each kind of call ends in (a call with a timeout of 0.02 s of a tool slower than that)."""


def problems(rows: list[tuple[int, dict[str, int]]], outcomes: dict[str, int]) -> list[str]:
    out = [f"{count}x {outcome}" for outcome, count in sorted(outcomes.items()) if outcome not in EXPECTED]
    first, last = rows[1][1], rows[-1][1]  # (after one call, the pool has one connection: not a base)
    if last["rss_kb"] > first["rss_kb"] * 1.05 + 3 * 1024:
        out.append(
            f"RSS grew: {first['rss_kb']} kB at {rows[1][0]} calls, {last['rss_kb']} kB at {rows[-1][0]}"
        )
    for what in ("tasks", "fds"):
        if last[what] > first[what]:
            out.append(f"{what}: {first[what]} at {rows[1][0]} calls, {last[what]} at {rows[-1][0]}")
    for what in ("pending", "progress", "inflight", "transport_tasks", "withdrawn"):
        if last[what]:
            out.append(f"{what}: {last[what]} left")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", default="1000,10000")
    parser.add_argument("--mode", default="2025-11-25,2026-07-28")
    args = parser.parse_args()
    warnings.simplefilter("always", ResourceWarning)
    caught: list[str] = []

    def show(message: Warning | str, *rest: Any, **named: Any) -> None:
        caught.append(str(message))

    warnings.showwarning = show
    found: list[str] = []
    for mode in cast(list[Mode], args.mode.split(",")):
        outcomes: dict[str, int] = {}
        rows = asyncio.run(run(mode, [int(c) for c in args.calls.split(",")], outcomes))
        found += [f"{mode}: {problem}" for problem in problems(rows, outcomes)]
    gc.collect()
    found += [f"ResourceWarning: {message}" for message in caught]
    print("verdict:", "; ".join(found) or "flat")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
