"""Cache misses and mispredicted branches per request, beside instructions: `uvicorn_cost.py` under
callgrind's cache and branch simulators, for machines whose hardware counters cannot be read.

Wall clock follows instructions less closely than it follows what the processor waits for: an
instruction fetch that misses the L1 cache, a load that misses it, a branch the predictor got wrong
(the interpreter's bytecode dispatch is one indirect branch per bytecode). Where `perf stat` cannot
count cycles (a virtual machine without a PMU: "<not supported>"), callgrind can simulate the caches
(`--cache-sim=yes`, sized from the host's) and the branch predictors (`--branch-sim=yes`). Each leg runs
`uvicorn_cost.py` (uvicorn's own HTTP protocol in process, no sockets) with a small and a large N, the
difference divided by the difference of N is one request, and the legs run one at a time.

    python bench/uvicorn_misses.py [--n 100 600] [--old PATH] [LEG ...]
    LEG: floor, floor-2025, 2025-json, 2026-json (all four by default), 2025-sse, 2026-sse; each leg's
         share is of the floor sent the same requests (`uvicorn_cost.py`): floor-2025 for a 2025 leg
    --old PATH: also each mcpbind leg with PATH first on PYTHONPATH (as `http_cpu.py --old`).

Printed per request: instructions (Ir), L1 instruction misses (I1mr), L1 data misses (D1mr + D1mw),
mispredicted branches (conditional + indirect: Bcm + Bim), and an estimate of cycles, instructions at
`IPC` plus each miss at its `PENALTY` (rough figures for a current x86 core, L2 hits); with the
floor's estimate over each leg's, a share of the floor that accounts for more than instructions do.
The estimate is a model, not a measurement: compare legs of one run, and checkouts with `--old`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
import callgrind  # noqa: E402

LEGS = ("floor", "floor-2025", "2025-json", "2026-json", "2025-sse", "2026-sse")
IPC = 2.0
"""Instructions per cycle of the estimate when nothing is missed."""
PENALTY = {"I1mr": 10, "D1": 10, "B": 15}
"""Cycles the estimate counts for each L1 miss (instruction, data) and each mispredicted branch."""


def counted(leg: str, n: int, out: Path, old: str | None) -> dict[str, int]:
    """callgrind's totals of one run of `uvicorn_cost.py LEG N`, by event."""
    env = dict(os.environ, PYTHONHASHSEED="0")
    env.pop("PYTHONPATH", None)
    if old is not None:
        env["PYTHONPATH"] = old
    valgrind = callgrind.command(out, "--cache-sim=yes", "--branch-sim=yes", "--dump-instr=no")
    command = [*valgrind, sys.executable, str(BENCH / "uvicorn_cost.py"), leg, str(n)]
    subprocess.run(command, env=env, cwd=ROOT, check=True, capture_output=True)
    return callgrind.file_totals(out)


def per_request(small: dict[str, int], large: dict[str, int], requests: int) -> dict[str, float]:
    d = {event: (large[event] - small[event]) / requests for event in large}
    figures = {
        "Ir": d["Ir"],
        "I1mr": d["I1mr"],
        "D1": d["D1mr"] + d["D1mw"],
        "B": d["Bcm"] + d["Bim"],
    }
    figures["cycles"] = figures["Ir"] / IPC + sum(figures[k] * cost for k, cost in PENALTY.items())
    return figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("legs", nargs="*", default=list(LEGS[:4]))
    ap.add_argument("--n", type=int, nargs=2, default=[100, 600])
    ap.add_argument("--old", help="PYTHONPATH of an older mcpbind, run as old:LEG beside each leg")
    args = ap.parse_args()
    names = list(args.legs)
    if args.old:
        names += [f"old:{name}" for name in args.legs if not name.startswith("floor")]
    small, large = args.n
    folder = Path(tempfile.mkdtemp(prefix="uvicorn-misses-"))
    results: dict[str, dict[str, float]] = {}
    for name in names:
        leg = name.removeprefix("old:")
        old = args.old if name.startswith("old:") else None
        # Run once first: the first run to import a changed module compiles it, which a difference
        # of two counts must not hold.
        counted(leg, 1, folder / "warm.cg", old)
        runs = [counted(leg, n, folder / f"{name.replace(':', '-')}.{n}.cg", old) for n in (small, large)]
        results[name] = per_request(*runs, large - small)
    columns = ("Ir", "I1mr", "D1", "B", "cycles")
    print(f"{'leg':14s}" + "".join(f"{c:>9s}" for c in columns) + "  of the floor (Ir, cycles)")
    for name, r in results.items():
        # The floor sent the same requests, when measured (floor-2025 for a 2025 leg), else `floor`.
        floor = results.get("floor-2025" if "2025" in name else "floor") or results.get("floor")
        share = f"  {floor['Ir'] / r['Ir']:4.0%} {floor['cycles'] / r['cycles']:4.0%}" if floor else ""
        print(f"{name:14s}" + "".join(f"{r[c]:9.0f}" for c in columns) + share)


if __name__ == "__main__":
    main()
