#!/usr/bin/env python3
"""Instructions per call of the stdio client, mcpbind's and the raw driver's, steady on a loaded machine.

Calls/s and even CPU time per call swing with the load (how many answers each read finds decides
much of a client's cost); instructions counted by callgrind do not. This runs each client driver
(``apps/client_mcpbind.py``, ``apps/client_raw.py``) under callgrind against the stdio floor server
(not traced: callgrind follows no child), once with ``--small`` and once with ``--n`` calls 16 in
flight after the same warm-up, and prints the difference divided by the difference of N: the
instructions of one call, start-up and exit excluded. Then the raw driver's share of mcpbind's, the
figure the client benchmark's "% of the raw driver" stands for when CPU is what limits.

    python bench/client_cost.py [--n 600] [--small 100] [--eras 2025-11-25,2026-07-28]
        [--mcpbind-from DIR]    # a tree whose runtime/ and generated/ to measure instead (a baseline)

Needs valgrind. A run takes a minute or two per leg (callgrind slows the client some 50 times).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
APPS = BENCH / "apps"


def instructions(driver: str, era: str, n: int, env: dict[str, str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cg"
        server = f"{sys.executable} {APPS / 'floor_stdio.py'}"
        cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable]
        cmd += [str(APPS / driver), "--transport", "stdio", "--server-cmd", server, "--era", era]
        cmd += ["--n1", "1", "--n16", str(n), "--warmup", "100", "--call-timeout", "600", "--timeout", "3600"]
        subprocess.run(cmd, env=env, check=True, capture_output=True)
        found = re.search(rb"^summary: (\d+)", out.read_bytes(), re.M)
        assert found is not None, "no summary in callgrind's output"
        return int(found.group(1))


def package_from(tree: Path, into: Path) -> Path:
    """`tree`'s runtime/ and generated/ laid out as an importable `mcpbind`, for PYTHONPATH."""
    shutil.copytree(tree / "runtime", into / "mcpbind")
    shutil.copytree(tree / "generated", into / "mcpbind" / "generated")
    return into


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=600)
    ap.add_argument("--small", type=int, default=100)
    ap.add_argument("--eras", default="2025-11-25,2026-07-28")
    ap.add_argument(
        "--mcpbind-from", type=Path, help="measure this tree's mcpbind instead of the installed one"
    )
    args = ap.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed")
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        if args.mcpbind_from is not None:
            env["PYTHONPATH"] = str(package_from(args.mcpbind_from.resolve(), Path(tmp)))
        for era in args.eras.split(","):
            per_call = {}
            for impl, driver in (("mcpbind", "client_mcpbind.py"), ("raw", "client_raw.py")):
                small = instructions(driver, era, args.small, env)
                large = instructions(driver, era, args.n, env)
                per_call[impl] = (large - small) / (args.n - args.small)
                print(f"{era} {impl:8} {per_call[impl]:10.0f} instructions per call", flush=True)
            print(f"{era} raw / mcpbind: {per_call['raw'] / per_call['mcpbind']:.1%}", flush=True)


if __name__ == "__main__":
    main()
