#!/usr/bin/env python3
"""Where a stdio client's time goes per call, beyond its instructions: CPU (user and system), system
calls, context switches and loop turns, of the client and of the server it drives, mcpbind's ``Client``
against the raw driver (``servers.StdioDriver``), in one run.

Instructions (``client_cost.py``) miss what the kernel does and how the two processes hand work to each
other: how many answers one read finds, how many writes a burst of requests takes, how often the loop
sleeps and is woken. Those decide CPU per call as much as Python does. Each implementation runs in this
process in turn (alternating, ``--rounds`` times) against the stdio floor server, warms up, then makes
``--n`` calls ``--inflight`` at a time; read from /proc around that phase:

- utime and stime (``/proc/<pid>/stat``) of the client (this process) and of the server, µs per call;
- read and write system calls (``/proc/<pid>/io``: ``syscr``, ``syscw``) per call, both processes;
- voluntary context switches (the process slept) per call, both processes;
- with ``--count``, loop turns (``select`` calls) and ``call_soon`` per call (the loop's methods
  wrapped: their own cost shows in CPU, so CPU figures are taken from runs without ``--count``).

    python bench/client_probe.py [--era 2025-11-25] [--n 20000] [--rounds 3] [--count] [--uvloop]
        [--pin]                 # this process on one CPU, the server on the other, as clients.py runs

Pinned as the client benchmark is (``servers.Pin``), the two processes run side by side, each on a
core of its own, rather than wherever the scheduler puts them: how many answers each read finds, and
so the CPU per call, is then the benchmark's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH / "apps"))
from servers import MODERN, MODERN_META, Pin, StdioDriver  # noqa: E402

from mcpbind.client import Client  # noqa: E402

SERVER = [sys.executable, str(BENCH / "apps" / "floor_stdio.py")]
TICK = os.sysconf("SC_CLK_TCK")


def snapshot(pid: int) -> dict[str, float]:
    """CPU seconds, read/write system calls and voluntary context switches of `pid` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    out = {"user": int(fields[11]) / TICK, "sys": int(fields[12]) / TICK}
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        key, value = line.split(":")
        if key in ("syscr", "syscw"):
            out[key] = int(value)
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("voluntary_ctxt_switches"):
            out["vcsw"] = int(line.split(":")[1])
    return out


class Counts:
    """The running loop's turns and `call_soon`s, counted by wrapping its methods."""

    def __init__(self) -> None:
        self.turns = 0
        self.soon = 0

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        selector = loop._selector  # type: ignore[attr-defined]
        select, call_soon = selector.select, loop.call_soon

        def counted_select(timeout: float | None = None) -> Any:
            self.turns += 1
            return select(timeout)

        def counted_soon(*args: Any, **kwargs: Any) -> Any:
            self.soon += 1
            return call_soon(*args, **kwargs)

        selector.select = counted_select
        loop.call_soon = counted_soon  # type: ignore[method-assign]


async def load(echo: Callable[[str], Awaitable[str]], n: int, inflight: int) -> None:
    counter = iter(range(n))

    async def worker() -> None:
        for i in counter:
            text = f"probe {i}"
            if await echo(text) != text:
                raise RuntimeError("wrong echo")

    await asyncio.gather(*(worker() for _ in range(inflight)))


async def measured(
    echo: Callable[[str], Awaitable[str]], server_pid: int, args: argparse.Namespace, counts: Counts | None
) -> dict[str, float]:
    await load(echo, 500, args.inflight)
    me0, srv0 = snapshot(os.getpid()), snapshot(server_pid)
    turns0, soon0 = (counts.turns, counts.soon) if counts else (0, 0)
    await load(echo, args.n, args.inflight)
    me1, srv1 = snapshot(os.getpid()), snapshot(server_pid)
    n = args.n
    out = {f"client_{k}": (me1[k] - me0[k]) / n for k in me0}
    out |= {f"server_{k}": (srv1[k] - srv0[k]) / n for k in srv0}
    if counts:
        out["turns"] = (counts.turns - turns0) / n
        out["call_soon"] = (counts.soon - soon0) / n
    return out


async def run_mcpbind(args: argparse.Namespace, counts: Counts | None) -> dict[str, float]:
    server = Pin().command(SERVER) if args.pin else SERVER  # (Pin: the server's CPU, then its exec)
    client = Client.stdio(server[0], server[1:], mode=args.era)
    async with client:
        echo_tool = client.call_tool

        async def echo(text: str) -> str:
            result = await echo_tool("echo", {"text": text})
            return result.content[0].text  # type: ignore[no-any-return, union-attr]

        process = client.transport.process  # type: ignore[attr-defined]
        return await measured(echo, process.pid, args, counts)


async def run_raw(args: argparse.Namespace, counts: Counts | None) -> dict[str, float]:
    stdio = StdioDriver(SERVER, pinned=args.pin)
    await stdio.start()
    modern = args.era == MODERN
    try:
        if not modern:
            await stdio.initialize()

        async def echo(text: str) -> str:
            params: dict[str, Any] = {"name": "echo", "arguments": {"text": text}}
            if modern:
                params["_meta"] = MODERN_META
            return str((await stdio.request("tools/call", params))["content"][0]["text"])

        assert stdio.proc is not None
        return await measured(echo, stdio.proc.pid, args, counts)
    finally:
        await stdio.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--era", default="2025-11-25")
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--inflight", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--impls", default="raw,mcpbind")
    ap.add_argument("--count", action="store_true", help="count loop turns and call_soon (costs CPU)")
    ap.add_argument("--uvloop", action="store_true")
    ap.add_argument("--pin", action="store_true", help="this process on one CPU, the server on the other")
    args = ap.parse_args()
    if args.count and args.uvloop:
        ap.error("--count wraps asyncio's own loop's methods: not with --uvloop")
    runners = {"raw": run_raw, "mcpbind": run_mcpbind}
    results: dict[str, list[dict[str, float]]] = {impl: [] for impl in args.impls.split(",")}

    async def one(impl: str) -> dict[str, float]:
        counts = None
        if args.count:
            counts = Counts()
            counts.install(asyncio.get_running_loop())
        return await runners[impl](args, counts)

    with Pin(args.pin):  # (this process's CPU; each server is started on the other)
        for _ in range(args.rounds):
            for impl in results:
                if args.uvloop:
                    import uvloop

                    results[impl].append(uvloop.run(one(impl)))
                else:
                    results[impl].append(asyncio.run(one(impl)))
    keys = list(next(iter(results.values()))[0])
    print(f"{args.era}, {args.n} calls {args.inflight} in flight, medians of {args.rounds} rounds, per call:")
    print(f"{'':18}" + "".join(f"{impl:>10}" for impl in results))
    for key in keys:
        scale = 1e6 if key.endswith(("user", "sys")) else 1
        unit = " us" if scale != 1 else ""
        row = "".join(f"{statistics.median(r[key] for r in rs) * scale:10.2f}" for rs in results.values())
        print(f"{key + unit:18}{row}")


if __name__ == "__main__":
    main()
