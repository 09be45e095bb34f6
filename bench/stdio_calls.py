#!/usr/bin/env python3
"""Python function calls (or bytecodes) per request of the stdio server, by function.

`stdio_inproc.py`'s server and driver (one process, real pipes, bursts of exactly ``--inflight``
requests), counted under ``sys.setprofile`` (each Python frame entered or resumed, each C function
called) or, with ``--bytecodes``, ``sys.settrace`` (each bytecode executed), by function, after a
warm-up. The driver's own frames are counted too, the same for every server: compare servers or
checkouts with each other (``floor`` is the no-framework loop), not with zero.

    python bench/stdio_calls.py [mcpbind|floor] [--n 2000] [--inflight 1] [--stateless] [--bytecodes]
        [--echo may-wait | waits]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections import Counter
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from client_calls import Key, profiler, report, tracer  # noqa: E402
from stdio_inproc import INITIALIZE, INITIALIZED, Driver, burst, serve_floor, serve_mcpbind  # noqa: E402


async def run(args: argparse.Namespace, counts: Counter[Key]) -> None:
    loop = asyncio.get_running_loop()
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    stdin, stdout = os.fdopen(in_r, "rb", buffering=0), os.fdopen(out_w, "wb", buffering=0)
    mcpbind = args.impl == "mcpbind"
    server = loop.create_task(
        serve_mcpbind(stdin, stdout, args.echo) if mcpbind else serve_floor(stdin, stdout)
    )
    driver = Driver(loop, in_w, out_r)
    if not args.stateless:
        await driver.send(INITIALIZE, 1)
        await driver.send(INITIALIZED, 0)
    data = burst(args.inflight, stateless=args.stateless)
    for _ in range(400 // args.inflight):  # warm-up
        await driver.send(data, args.inflight)
    if args.bytecodes:
        sys.settrace(tracer(counts))
    else:
        sys.setprofile(profiler(counts))
    try:
        for _ in range(args.n // args.inflight):
            await driver.send(data, args.inflight)
    finally:
        sys.settrace(None)
        sys.setprofile(None)
    os.close(in_w)
    await asyncio.wait_for(server, 30)
    sys.stdin, sys.stdout = sys.__stdin__, sys.__stdout__  # (the floor serves them: put back)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("impl", nargs="?", default="mcpbind", choices=("mcpbind", "floor"))
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--inflight", type=int, default=1)
    ap.add_argument("--stateless", action="store_true", help="2026-07-28 calls carrying their _meta")
    ap.add_argument(
        "--echo", choices=("may-wait", "waits"), help="stdio_inproc.py's echo that can wait, or waits"
    )
    ap.add_argument("--asyncio", action="store_true", help="asyncio's loop instead of uvloop")
    ap.add_argument("--bytecodes", action="store_true", help="bytecodes by function instead of calls")
    args = ap.parse_args()
    counts: Counter[Key] = Counter()
    if args.asyncio:
        asyncio.run(run(args, counts))
    else:
        import uvloop

        uvloop.run(run(args, counts))
    n = args.n // args.inflight * args.inflight
    era = "2026-07-28" if args.stateless else "2025-11-25"
    label = f"{args.impl} {era}, {args.inflight} in flight"
    report(counts, n, label, "request", args.bytecodes)


if __name__ == "__main__":
    main()
