"""CPU time per call of the real HTTP server processes (uvicorn), against the bare ASGI floor, in one run.

Calls per second on a loaded machine swing 2-3x; the CPU a server process spends per call does not.
Each leg starts a server (``apps/floor_asgi.py`` or ``apps/mcpbind_server.py`` on the same uvicorn),
warms it up, reads its utime+stime from /proc/<pid>/stat, makes N calls with ``servers.HttpDriver``
(the server benchmark's raw client) at 1 and at 16 in flight, reads it again, and divides by N.
Legs alternate within each round; the median over rounds is printed, with the share of the floor.

    python bench/http_cpu.py [--n 20000] [--rounds 3] [--old PATH] [LEG ...]
    LEG: floor, 2026-json (stateless tools/call), 2025-json (a session's, JSON answers),
         2025-sse (a session's echo_progress: an SSE answer); all four by default.
    --old PATH: also run each mcpbind leg ("old:LEG") with PATH first on PYTHONPATH, a folder holding
         an older checkout's package as ``mcpbind`` (e.g. a symlink to its runtime/, with
         runtime/generated linked to its generated/): before and after in the same run.

The clock tick (usually 10 ms) bounds the resolution: N calls should take a second or more of CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import LEGACY, MODERN, HttpDriver, _clean_env, _free_port, _stop, _wait_port, load

TICK = os.sysconf("SC_CLK_TCK")
APPS = Path(__file__).resolve().parent / "apps"
REPO_ROOT = APPS.parent.parent
LEGS = {
    "floor": (["floor_asgi.py"], MODERN, "echo"),
    "2026-json": (["mcpbind_server.py", "--json"], MODERN, "echo"),
    "2025-json": (["mcpbind_server.py", "--json"], LEGACY, "echo"),
    "2025-sse": (["mcpbind_server.py"], LEGACY, "echo_progress"),
}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14 and 15 of stat)


async def leg(name: str, n: int, inflight: int, old: str | None) -> float:
    """CPU µs per call of one server process over `n` calls with `inflight` in flight."""
    base = name.removeprefix("old:")
    script, era, tool = LEGS[base]
    env = _clean_env()
    port = _free_port()
    if name.startswith("old:"):
        assert old is not None
        env["PYTHONPATH"] = old
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(APPS / script[0]),
        *script[1:],
        "--http",
        str(port),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=REPO_ROOT,
    )
    try:
        await _wait_port(port, proc)
        async with HttpDriver(port, era, tool) as driver:
            await driver.initialize()
            await load(driver.echo, min(n, 2000), inflight)
            before = cpu_seconds(proc.pid)
            await load(driver.echo, n, inflight)
            after = cpu_seconds(proc.pid)
        return (after - before) / n * 1e6
    finally:
        await _stop(proc)


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("legs", nargs="*", default=list(LEGS))
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--old", help="PYTHONPATH of an older mcpbind, run as old:LEG beside each leg")
    args = ap.parse_args()
    names = list(args.legs)
    if args.old:
        names += [f"old:{name}" for name in args.legs if name != "floor"]
    results: dict[tuple[str, int], list[float]] = {}
    for _ in range(args.rounds):
        for inflight in (1, 16):
            for name in names:
                per_call = await leg(name, args.n, inflight, args.old)
                results.setdefault((name, inflight), []).append(per_call)
    for inflight in (1, 16):
        floor = results.get(("floor", inflight))
        for name in names:
            median = statistics.median(results[(name, inflight)])
            share = f"  {statistics.median(floor) / median:4.0%} of the floor" if floor else ""
            runs = " ".join(f"{v:.1f}" for v in results[(name, inflight)])
            print(f"{name:14s} {inflight:2d} in flight: {median:6.1f} µs CPU/call{share}  ({runs})")


if __name__ == "__main__":
    asyncio.run(main())
