#!/usr/bin/env python3
"""Python calls (or bytecodes) per HTTP request of the ASGI app, by function: where a request's frames go.

`asgi_cost.py` counts a request's instructions; wall clock follows the Python frames it makes as much.
This drives the same app with the same harness (`asgi_cost.Driver`: the scope, ``receive`` and ``send``
uvicorn would give it, one request at a time), warms up, then sends ``--n`` requests of LEG under
``sys.setprofile`` (each Python frame entered or resumed, and each C function called, counted) or, with
``--bytecodes``, ``sys.settrace`` (each bytecode executed), by function; it prints the totals per
request and the functions above 0.05 per request. The harness's own frames (its ``receive``, ``send``
and ``post``) are counted too: compare legs, or checkouts, with each other.

    python bench/asgi_calls.py [LEG] [--n 400] [--bytecodes]
    LEG: 2025-json (default), 2026-json, 2025-sse, 2026-sse, floor, floor-2025 (`asgi_cost.py`), null
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH / "apps"))
from asgi_cost import on_uvloop, prepare  # noqa: E402
from client_calls import Key, profiler, report, tracer  # noqa: E402


async def run(args: argparse.Namespace, counts: Counter[Key]) -> None:
    d, tool, era, headers = await prepare(args.leg)

    async def load(n: int) -> None:
        for _ in range(n):
            status, _, body = await d.post(d.call(tool, era), headers)
            if status != 200 or body.find(b"hello from the benchmark driver") < 0:
                raise RuntimeError(f"{status} {body[:300]!r}")

    await load(200)
    if args.bytecodes:
        sys.settrace(tracer(counts))
    else:
        sys.setprofile(profiler(counts))
    try:
        await load(args.n)
    finally:
        sys.settrace(None)
        sys.setprofile(None)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("leg", nargs="?", default="2025-json")
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--bytecodes", action="store_true", help="bytecodes by function instead of calls")
    args = ap.parse_args()
    counts: Counter[Key] = Counter()
    on_uvloop(run(args, counts))
    report(counts, args.n, args.leg, "request", args.bytecodes)


if __name__ == "__main__":
    main()
