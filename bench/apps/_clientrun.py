"""What the client-benchmark drivers share (``client_mcpbind.py``, ``client_sdk.py``; run by ``clients.py``).

Standard library only: it is imported from both the mcpbind environment and the SDK's. A driver holds
the library-specific part, ``run(args, measure)``: connect (spawning the server over stdio, or to a
running Streamable HTTP endpoint) pinned to ``--era``, call ``await measure(echo, revision)`` with the
revision it connected at and an ``echo(text)`` that calls the server's ``echo`` tool and returns the
answer's text, and return the result dict. ``measure`` checks the revision, warms up, then makes
``--n1`` calls one at a time and ``--n16`` calls 16 at a time, checking that each answer's text is the
text it sent. ``main(run, doc)`` parses the options, runs ``run`` on asyncio's loop (``--uvloop``:
uvloop's) bounded by ``--timeout``, and prints one JSON line: calls/s, the driver's CPU µs per call
(``time.process_time``) and latencies (ms) of each phase, as ``latencies_f64``: the base64 of their
native doubles (``clients.py`` reads them back). Recorded into an ``array('d')`` and written once:
as a JSON float each, they cost some thousands of instructions per call, which counted under callgrind
(``client_cost.py``) as the drivers' own.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import json
import os
import sys
import time
from array import array
from collections.abc import Awaitable, Callable
from typing import Any

ECHO_TEXT = "hello from the benchmark client"

Echo = Callable[[str], Awaitable[str]]
Measure = Callable[[Echo, str | None], Awaitable[dict[str, Any]]]


async def load(echo: Echo, n: int, inflight: int, seconds: float = 0.0) -> dict[str, Any]:
    """``n`` checked calls with ``inflight`` outstanding (``inflight`` workers under ``asyncio.gather``);
    with ``seconds``, calls for that long, and at least ``n``."""
    latencies = array("d")
    counter = itertools.count() if seconds else iter(range(n))
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        for i in counter:
            if seconds and time.perf_counter() >= deadline and i >= n:
                return
            text = f"{ECHO_TEXT} {i}"
            t0 = time.perf_counter()
            got = await echo(text)
            latencies.append((time.perf_counter() - t0) * 1000)
            if got != text:
                raise RuntimeError(f"echo answered {got!r} for {text!r}")

    t0, cpu0 = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(inflight)))
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    n = len(latencies)
    return {
        "n": n,
        "inflight": inflight,
        "wall_s": wall,
        "calls_per_s": n / wall,
        # The driver process's own CPU per call: steadier than calls/s on a loaded machine.
        "cpu_us_per_call": cpu / n * 1e6,
        "latencies_f64": base64.b64encode(latencies.tobytes()).decode("ascii"),
    }


def main(run: Callable[[argparse.Namespace, Measure], Awaitable[dict[str, Any]]], doc: str | None) -> None:
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--transport", choices=("stdio", "http"), required=True)
    ap.add_argument("--server-cmd", help="stdio: the server's command line (shell-quoted)")
    ap.add_argument("--url", help="http: the endpoint, e.g. http://127.0.0.1:PORT/mcp")
    ap.add_argument(
        "--era", default="2025-11-25", help="2025-11-25 (initialize) or 2026-07-28 (server/discover)"
    )
    ap.add_argument("--n1", type=int, default=1000)
    ap.add_argument("--n16", type=int, default=2000)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument(
        "--seconds", type=float, default=0.0, help="each phase's time (then --n1/--n16: the least)"
    )
    ap.add_argument("--call-timeout", type=float, default=30.0)
    ap.add_argument("--timeout", type=float, default=120.0, help="the whole run")
    ap.add_argument("--uvloop", action="store_true", help="run on uvloop instead of the default asyncio loop")
    args = ap.parse_args()
    if (args.transport == "stdio") != bool(args.server_cmd) or (args.transport == "http") != bool(args.url):
        ap.error("--transport stdio needs --server-cmd, --transport http needs --url")

    async def measure(echo: Echo, revision: str | None) -> dict[str, Any]:
        if revision != args.era:
            raise RuntimeError(f"connected at {revision}, not {args.era}")
        s = args.seconds
        await load(echo, args.warmup, 16, s / 2)
        return {"c1": await load(echo, args.n1, 1, s), "c16": await load(echo, args.n16, 16, s)}

    async def bounded() -> dict[str, Any]:
        return await asyncio.wait_for(run(args, measure), args.timeout)

    if args.uvloop:
        import uvloop  # both environments have it; only imported when asked for

        out = uvloop.run(bounded())
    else:
        out = asyncio.run(bounded())
    out["loop"] = "uvloop" if args.uvloop else "asyncio"
    out["python"] = sys.version.split()[0]
    out["cpus"] = sorted(os.sched_getaffinity(0))  # where the client ran (clients.py pins it)
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
