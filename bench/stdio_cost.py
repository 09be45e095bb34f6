"""CPU time per call of the stdio server processes, mcpbind and the floor, steady on a loaded machine.

Calls/s swing 2-3x when other processes share the cores; the CPU time a server process spends per call
does not swing nearly as much. This spawns each server (``apps/mcpbind_server.py`` and
``apps/floor_stdio.py``, on uvloop and on asyncio), drives it with the raw driver of ``servers.py``
(a 2025-11-25 session, ``echo`` calls, 1 and 16 in flight), and reads the server's CPU time from
``/proc`` before and after N calls. The implementations alternate within each round and the median
of the rounds is printed, with mcpbind's share of the floor's calls per CPU second.

    python bench/stdio_cost.py [--n 3000] [--rounds 3] [--loops uvloop,asyncio] [--mcpbind-from DIR]

``--counters`` prints, beside the CPU time, what the kernel counted of the server per call (from ``/proc``):
reads and writes (system calls), minor page faults, and the times it blocked waiting (wake-ups).
Page faults per read were the sign of asyncio's pipe transport reading into a fresh 256 KiB mapping
each time (``pipes.READ_SIZE``).

On a machine others load, ``chrt -f 20 python bench/stdio_cost.py ...`` (root; the servers inherit it)
runs driver and servers at a real-time priority: the cores are theirs while they run, as on a quiet
machine, and calls/s, burst sizes and CPU per call come out as a quiet run's do (keep such runs short:
nothing else runs meanwhile).

``--valgrind OUT_DIR`` runs each server under callgrind instead (one run per implementation, loop and
in-flight count, after a warm-up), which counts instructions rather than time: the per-call figure is
the difference between a run of N calls and one of N/4, divided by the difference of N.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import callgrind
from servers import APPS, StdioDriver, load

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """The CPU time of process `pid` so far, in seconds: the scheduler's nanoseconds summed over its
    threads (``/proc/<pid>/task/*/schedstat``) where the kernel has them, else utime + stime from
    ``/proc/<pid>/stat`` (clock ticks, too coarse for a few thousand calls)."""
    try:
        total = 0
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])
        return total / 1e9
    except (OSError, ValueError, IndexError):
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK


def kernel_counts(pid: int) -> dict[str, int]:
    """What the kernel counted of process `pid` so far: read and write system calls, minor page
    faults, and voluntary context switches (it blocked: each a wake-up later)."""
    with open(f"/proc/{pid}/io") as f:
        io = dict(line.split(":") for line in f)
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    with open(f"/proc/{pid}/status") as f:
        status = dict(line.split(":", 1) for line in f)
    return {
        "reads": int(io["syscr"]),
        "writes": int(io["syscw"]),
        "faults": int(fields[7]),
        "waits": int(status["voluntary_ctxt_switches"]),
    }


MCPBIND_FROM: str | None = None
"""A directory holding an ``mcpbind`` package (a link to another checkout's ``runtime``) that the
servers import instead of the installed one (``--mcpbind-from``: old and new compared in one run)."""


def command(impl: str, loop: str, valgrind: str | None = None) -> list[str]:
    cmd = [sys.executable, str(APPS / ("mcpbind_server.py" if impl == "mcpbind" else "floor_stdio.py"))]
    if impl == "floor" and loop == "uvloop":
        cmd.append("--uvloop")
    if impl == "mcpbind" and loop == "asyncio":
        cmd.append("--asyncio")
    if valgrind is not None:
        cmd = [*callgrind.command(valgrind), *cmd]
    if MCPBIND_FROM is not None:  # (the driver's environment drops PYTHONPATH: set it on the command)
        cmd = ["env", f"PYTHONPATH={MCPBIND_FROM}", *cmd]
    return cmd


async def cpu_per_call(impl: str, loop: str, n: int, inflights: list[int]) -> dict[int, dict[str, float]]:
    """µs of server CPU per call at each in-flight count ("cpu"), and `kernel_counts` per call."""
    drv = StdioDriver(command(impl, loop))
    await drv.start()
    assert drv.proc is not None
    try:
        await asyncio.wait_for(drv.initialize(), 60)
        await load(drv.echo, 500, 16)
        out = {}
        for inflight in inflights:
            counts, before = kernel_counts(drv.proc.pid), cpu_seconds(drv.proc.pid)
            await load(drv.echo, n, inflight)
            per = {"cpu": (cpu_seconds(drv.proc.pid) - before) / n * 1e6}
            per.update((k, (v - counts[k]) / n) for k, v in kernel_counts(drv.proc.pid).items())
            out[inflight] = per
        return out
    finally:
        await drv.close()


async def instructions(impl: str, loop: str, n: int, inflight: int, out: Path) -> int:
    """Instructions of one callgrind run of the server: initialize, 200 calls of warm-up, `n` calls."""
    drv = StdioDriver(command(impl, loop, str(out)))
    await drv.start()
    try:
        await asyncio.wait_for(drv.initialize(), 600)
        await load(drv.echo, 200, 16)
        await load(drv.echo, n, inflight)
    finally:
        drv.proc.stdin.close()  # type: ignore[union-attr]
        await asyncio.wait_for(drv.proc.wait(), 600)  # type: ignore[union-attr]
        await drv.close()
    return callgrind.file_total(out)


async def per_call(impl: str, loop: str, n: int, inflight: int, out_dir: Path) -> float:
    """Thousands of instructions per call: a run of `n` calls less one of `n` // 4, per call."""
    small = n // 4
    counts = [
        await instructions(impl, loop, k, inflight, out_dir / f"{impl}-{loop}-{inflight}-{k}")
        for k in (n, small)
    ]
    return (counts[0] - counts[1]) / (n - small) / 1000


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--loops", default="uvloop,asyncio")
    ap.add_argument("--inflight", default="1,16")
    ap.add_argument("--impls", default="mcpbind,floor")
    ap.add_argument("--valgrind", type=Path, default=None)
    ap.add_argument("--mcpbind-from", default=None)
    ap.add_argument("--counters", action="store_true")
    args = ap.parse_args()
    global MCPBIND_FROM
    MCPBIND_FROM = args.mcpbind_from
    loops, impls = args.loops.split(","), args.impls.split(",")
    inflights = [int(c) for c in args.inflight.split(",")]
    if args.valgrind is not None:
        args.valgrind.mkdir(parents=True, exist_ok=True)
        for loop in loops:
            for inflight in inflights:
                for impl in impls:
                    per = await per_call(impl, loop, args.n, inflight, args.valgrind)
                    print(
                        f"{loop:8} {inflight:3} in flight  {impl:8} {per:8.1f}k instructions/call", flush=True
                    )
        return
    got: dict[tuple[str, str, int], list[dict[str, float]]] = {}
    for r in range(args.rounds):
        for loop in loops:
            for impl in impls if r % 2 == 0 else impls[::-1]:
                for inflight, per in (await cpu_per_call(impl, loop, args.n, inflights)).items():
                    got.setdefault((impl, loop, inflight), []).append(per)
    for loop in loops:
        for inflight in inflights:
            runs = {impl: got[(impl, loop, inflight)] for impl in impls}
            med = {impl: statistics.median(per["cpu"] for per in rs) for impl, rs in runs.items()}
            share = f"  mcpbind at {med['floor'] / med['mcpbind']:.0%} of the floor" if len(med) == 2 else ""
            rows = "  ".join(f"{impl} {us:6.1f} µs" for impl, us in med.items())
            print(f"{loop:8} {inflight:3} in flight: CPU per call  {rows}{share}", flush=True)
            if args.counters:
                for impl, rs in runs.items():
                    counts = "  ".join(
                        f"{key} {statistics.median(per[key] for per in rs):.3f}"
                        for key in ("reads", "writes", "faults", "waits")
                    )
                    print(f"{'':8} {'':3}     {impl:8} per call: {counts}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
