#!/usr/bin/env python3
"""Codec cost in CPU instructions per message (callgrind): mcpbind against raw msgspec, steady under load.

`bench/codec.py` measures wall-clock time, which swings 2-3x on a busy machine; instruction counts do
not. This runs the same payloads through the same codecs (`bench/codec.py`'s `mcpbind` and `msgspec`
groups) under `valgrind --tool=callgrind`, counting only the measured loop: it runs inside the builtin
`sum` (`--toggle-collect`), over `map` and `itertools.repeat`, so no Python loop of ours is counted.

    python bench/codec_instructions.py                      # every message, decode+encode ("both")
    python bench/codec_instructions.py --ops both,decode,encode --number 1000
    python bench/codec_instructions.py --messages input_required_result

Needs valgrind on PATH. Prints one row per message and operation: instructions per message for each
implementation and their ratio.

    python bench/codec_instructions.py --cache-sim          # also cache misses and mispredicted branches
    python bench/codec_instructions.py --json-out PATH      # also the rows as JSON

`--json-out` writes a list of rows, each `{"message", "title", "op", "mcpbind": {...}, "msgspec": {...}}`
with the counts per message (`instructions` and, with `--cache-sim`, the cache events).

The counted child runs with one hash seed (``PYTHONHASHSEED=0``, as `steady.py` gives every run): with
a random one, dicts and sets of names lay out differently each run and a count per message moved by
0.05-0.3% between two runs.

Instructions are not the whole of wall-clock time: `--cache-sim` runs callgrind's cache and branch
simulation as well (a simulated 32 KiB L1 per kind, several times slower) and adds, per message, the
L1 instruction-cache misses, L1 data-cache misses and mispredicted branches of each implementation.
A path that runs through more distinct code (a Python frame, a call through `tp_call` with its
argument parsing) misses the instruction cache more often per instruction than msgspec's own loops,
which is why its wall-clock ratio to raw msgspec comes out above its instruction ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from itertools import repeat
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
import callgrind  # noqa: E402

OPS = ("both", "decode", "encode")
IMPLS = ("mcpbind", "msgspec")


def worker(impl: str, message: str, op: str, number: int) -> None:
    """Runs `number` operations inside `sum` (what callgrind counts)."""
    sys.path.insert(0, str(BENCH_DIR))
    import codec

    groups = codec.mcpbind_codecs() if impl == "mcpbind" else codec.msgspec_codecs()
    chosen = groups[impl][message]
    dec, enc = chosen.ns["dec"], chosen.ns["enc"]
    data = codec.build_payloads()[message]
    obj = dec(data)
    for _ in range(50):  # warm caches (decoders, memos) before counting
        enc(dec(data))
    import gc

    gc.disable()
    if op == "decode":
        sum(map(id, map(dec, repeat(data, number))))
    elif op == "encode":
        sum(map(len, map(enc, repeat(obj, number))))
    else:
        sum(map(len, map(enc, map(dec, repeat(data, number)))))


CACHE_EVENTS = ("I1 misses", "D1 misses", "mispredicts")
"""What `--cache-sim` adds to the instruction count, per message."""


def count(impl: str, message: str, op: str, number: int, cache_sim: bool = False) -> dict[str, int]:
    return callgrind_events(__file__, [impl, message, op, str(number)], number, cache_sim)


def child_env() -> dict[str, str]:
    """The counted child's environment: this one, with the hash seed fixed (``PYTHONHASHSEED=0``)."""
    return {**os.environ, "PYTHONHASHSEED": "0"}


def callgrind_count(script: str, worker_args: list[str], number: int) -> int:
    """Instructions per operation: `script --worker *worker_args` run under callgrind, counting only
    what runs inside `sum` (the worker's `number` operations), divided by `number`."""
    return callgrind_events(script, worker_args, number)["instructions"]


def callgrind_events(
    script: str, worker_args: list[str], number: int, cache_sim: bool = False
) -> dict[str, int]:
    """`callgrind_count`'s instructions per operation and, with `cache_sim`, its `CACHE_EVENTS`."""
    sim = ["--cache-sim=yes", "--branch-sim=yes"] if cache_sim else []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cg.out"
        valgrind = callgrind.command(out, "--collect-atstart=no", "--toggle-collect=builtin_sum*", *sim)
        done = subprocess.run(
            [*valgrind, sys.executable, script, "--worker", *worker_args],
            capture_output=True,
            text=True,
            env=child_env(),
        )
        if done.returncode != 0:
            sys.exit(f"error: the counted run exited {done.returncode}:\n{done.stderr[-2000:]}")
        totals = callgrind.file_totals(out)
    counts = {event: total // number for event, total in totals.items()}
    events = {"instructions": counts["Ir"]}
    if cache_sim:
        events["I1 misses"] = counts["I1mr"]
        events["D1 misses"] = counts["D1mr"] + counts["D1mw"]
        events["mispredicts"] = counts["Bcm"] + counts["Bim"]
    return events


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", default="", help="comma-separated messages (default: all)")
    ap.add_argument("--ops", default="both", help=f"comma-separated subset of {','.join(OPS)}")
    ap.add_argument("--number", type=int, default=1000, help="operations counted per run (default 1000)")
    ap.add_argument(
        "--cache-sim", action="store_true", help="also simulate the caches and branch prediction (slower)"
    )
    ap.add_argument("--json-out", type=Path, default=None, help="also write the rows as JSON")
    ap.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        impl, message, op, number = args.worker
        worker(impl, message, op, int(number))
        return 0
    if shutil.which("valgrind") is None:
        sys.exit("error: valgrind is not on PATH")
    sys.path.insert(0, str(BENCH_DIR))
    import codec

    messages = [m for m in args.messages.split(",") if m] or list(codec.MESSAGES)
    ops = [o for o in args.ops.split(",") if o]
    kinds = ("instructions", *(CACHE_EVENTS if args.cache_sim else ()))
    print("| message | op | " + " | ".join(f"{k}: mcpbind | msgspec | ratio" for k in kinds) + " |")
    print("|---|---|" + "--:|--:|--:|" * len(kinds))
    rows = []
    for message in messages:
        for op in ops:
            mine, raw = (count(impl, message, op, args.number, args.cache_sim) for impl in IMPLS)
            cells = [f"{mine[k]:,} | {raw[k]:,} | {mine[k] / max(raw[k], 1):.2f}x" for k in kinds]
            print(f"| {codec.MESSAGES[message]} | {op} | " + " | ".join(cells) + " |", flush=True)
            rows.append(
                {
                    "message": message,
                    "title": codec.MESSAGES[message],
                    "op": op,
                    "mcpbind": mine,
                    "msgspec": raw,
                }
            )
    if args.json_out is not None:
        args.json_out.write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
