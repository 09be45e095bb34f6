"""Where the time of a 1 MB stdio answer goes, steady on a loaded machine: CPU per call of each process.

The 1 MB row of ``servers.py`` times one call at a time, so its figure is the sum of the server's work
(encode, escape, write), the pipe's hand-overs and the driver's (read, line framing, decode). Under load
the wall clock swings 2-3x; the CPU time each process spends per call does not. This spawns each server
(the floor on uvloop, mcpbind, and the official SDK with ``--peer-python``), drives it with the raw
driver of ``servers.py`` (``big`` calls, one at a time), and reads per call: the server's CPU time
(``/proc``), the driver's own CPU time (``time.process_time``, the driver's process) and the wall
clock. The implementations alternate within each round; medians over the rounds are printed.

    python bench/big_cost.py [--n 200] [--rounds 3] [--impls floor,mcpbind,sdk] [--peer-python PY]
                             [--stdout socket|pipe] [--pin]

``--stdout pipe`` gives each server a pipe for its stdout, as a client on asyncio's default loop does,
instead of the driver's default socket (see ``StdioDriver.stdout_kind``). ``--pin`` places driver and
server as the 1 MB row of ``servers.py`` does (one CPU each, ``Pin``): every hand-over is then a wake-up
on the other CPU, which on a loaded machine waits for that CPU; unpinned, the scheduler may run the woken
process where the other just went to sleep.

Beside the CPU times it prints the hand-overs per call (the server's write system calls and the
driver's reads, from ``/proc/<pid>/io``) and what of the wall clock neither process spent on its CPU
(``wait``: wall - server - driver, the wake-ups and the scheduler's delays; an estimate, as the two
processes may overlap).

``--valgrind OUT_DIR`` runs each server under callgrind instead and prints its instructions per 1 MB
call (the difference between a run of N calls and one of N/4, divided by the difference of N): the
server's own work, repeatable under load (the kernel's pipe copies are not counted).

``--json-out PATH`` also writes the figures as JSON: with ``--valgrind``, ``{impl: instructions per
call}``; otherwise ``{impl: {"server": µs, "driver": µs, "wall": µs}}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import callgrind
from servers import Commands, StdioDriver, _driver_loop_run
from stdio_cost import cpu_seconds, kernel_counts

KEYS = ("server", "driver", "wall", "server_writes", "driver_reads")


async def one(cmd: list[str], n: int, stdout: str, pinned: bool = False) -> dict[str, float]:
    """Per 1 MB call: the server's CPU, the driver's CPU and the wall clock (µs), the server's write
    system calls and the driver's reads."""
    drv = StdioDriver(cmd, stdout, pinned=pinned)
    await drv.start()
    assert drv.proc is not None
    pid, me = drv.proc.pid, os.getpid()
    try:
        await asyncio.wait_for(drv.initialize(), 60)
        for _ in range(5):
            await drv.big()
        server0, writes0 = cpu_seconds(pid), kernel_counts(pid)["writes"]
        # (the driver's count of its reads reads /proc itself: what one count adds, taken off)
        counting = -kernel_counts(me)["reads"] + kernel_counts(me)["reads"]
        driver0, wall0, reads0 = time.process_time(), time.perf_counter(), kernel_counts(me)["reads"]
        for _ in range(n):
            await drv.big()
        reads = kernel_counts(me)["reads"] - reads0 - counting
        wall = time.perf_counter() - wall0
        driver = time.process_time() - driver0
        server, writes = cpu_seconds(pid) - server0, kernel_counts(pid)["writes"] - writes0
        return {
            "server": server / n * 1e6,
            "driver": driver / n * 1e6,
            "wall": wall / n * 1e6,
            "server_writes": writes / n,
            "driver_reads": reads / n,
        }
    finally:
        await drv.close()


async def instructions(cmd: list[str], n: int, out: Path, stdout: str) -> int:
    """Instructions of one callgrind run of the server: initialize, 5 calls of warm-up, `n` calls."""
    drv = StdioDriver([*callgrind.command(out), *cmd], stdout)
    await drv.start()
    try:
        await asyncio.wait_for(drv.initialize(), 600)
        for _ in range(5 + n):
            await drv.big()
    finally:
        assert drv.proc is not None and drv.proc.stdin is not None
        drv.proc.stdin.close()  # a server under callgrind takes its time to exit (and then writes out)
        await asyncio.wait_for(drv.proc.wait(), 600)
        await drv.close()
    return callgrind.file_total(out)


async def per_call(args: argparse.Namespace) -> dict[str, float]:
    """Millions of server instructions per 1 MB call, by implementation."""
    cmds = Commands(args.peer_python)
    out_dir: Path = args.valgrind
    out_dir.mkdir(parents=True, exist_ok=True)
    got = {}
    small = max(1, args.n // 4)
    for impl in args.impls.split(","):
        cmd = cmds.stdio(impl, big=True)
        if cmd is None:
            continue
        # Served once first, outside callgrind, so that what it imports is compiled (an editable
        # install has no bytecode): otherwise the first of the two runs compiles it, and the
        # difference of the two counts holds that compilation (27M "per call" where there were 4.5M).
        await one(cmd, 1, args.stdout)
        counts = [
            await instructions(cmd, k, out_dir / f"big-{impl}-{k}.cg", args.stdout) for k in (args.n, small)
        ]
        got[impl] = (counts[0] - counts[1]) / (args.n - small) / 1e6
    return got


async def main(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    cmds = Commands(args.peer_python)
    impls = [i for i in args.impls.split(",") if cmds.stdio(i, big=True) is not None]
    got: dict[str, list[dict[str, float]]] = {i: [] for i in impls}
    for _ in range(args.rounds):
        for impl in impls:
            cmd = cmds.stdio(impl, big=True)
            assert cmd is not None
            got[impl].append(await one(cmd, args.n, args.stdout, args.pin))
    return {
        impl: {key: statistics.median(r[key] for r in runs) for key in KEYS} for impl, runs in got.items()
    }


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--impls", default="floor,mcpbind,sdk")
    ap.add_argument("--peer-python", default=None)
    ap.add_argument("--stdout", choices=("socket", "pipe"), default="socket")
    ap.add_argument("--pin", action="store_true", help="driver and server on a CPU each, as servers.py")
    ap.add_argument("--valgrind", type=Path, default=None)
    ap.add_argument("--json-out", type=Path, default=None)
    args = ap.parse_args()
    if args.valgrind is not None:
        counted = asyncio.run(per_call(args))
        for impl, millions in counted.items():
            print(f"{impl:10} {millions:8.2f}M instructions per 1 MB call (server)")
        if args.json_out is not None:
            args.json_out.write_text(json.dumps({i: m * 1e6 for i, m in counted.items()}, indent=1) + "\n")
        sys.exit(0)
    result = _driver_loop_run(main(args))
    if args.json_out is not None:
        args.json_out.write_text(json.dumps(result, indent=1) + "\n")
    print(
        f"{'impl':10} {'server CPU µs':>14} {'driver CPU µs':>14} {'sum':>8} {'wall µs':>9} {'wait µs':>8}"
        f" {'writes':>7} {'reads':>6}  (per 1 MB call; writes: the server's, reads: the driver's)"
    )
    for impl, r in result.items():
        total = r["server"] + r["driver"]
        print(
            f"{impl:10} {r['server']:14.0f} {r['driver']:14.0f} {total:8.0f} {r['wall']:9.0f}"
            f" {r['wall'] - total:8.0f} {r['server_writes']:7.2f} {r['driver_reads']:6.2f}"
        )
