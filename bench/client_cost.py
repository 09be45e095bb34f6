#!/usr/bin/env python3
"""Instructions per call of the client, mcpbind's and the raw driver's, steady on a loaded machine.

Calls/s and even CPU time per call swing with the load (how many answers each read finds decides
much of a client's cost); instructions counted by callgrind do not. This runs each client driver
(``apps/client_mcpbind.py``, ``apps/client_raw.py``) under callgrind against the stdio floor server
(not traced: callgrind follows no child) or, for ``http-*`` legs, the ASGI floor under uvicorn (one
process for the run, not traced either), once with ``--small`` and once with ``--n`` calls 16 in
flight after the same warm-up, and prints the difference divided by the difference of N: the
instructions of one call, start-up and exit excluded. Then the raw driver's share of mcpbind's, the
figure the client benchmark's "% of the raw driver" stands for when CPU is what limits.

    python bench/client_cost.py [--n 600] [--small 100] [--legs stdio-2025,stdio-2026,http-2026]
        [--inflight 16]         # or 1: one call at a time, every step its own loop turn
        [--mcpbind-from DIR]    # a tree whose runtime/ and generated/ to measure instead (a baseline)
        [--json-out PATH]       # also write {"inflight": K, "legs": {leg: {impl: instructions per call}}}
        [--keep DIR]            # keep each callgrind output there (LEG-IMPL-N.cg): callgrind_annotate

Needs valgrind. A run takes a minute or two per leg (callgrind slows the client some 50 times).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BENCH = Path(__file__).resolve().parent
APPS = BENCH / "apps"
sys.path.insert(0, str(BENCH))
import callgrind  # noqa: E402

ERAS = {"2025": "2025-11-25", "2026": "2026-07-28"}


def instructions(
    driver: str,
    leg: str,
    n: int,
    env: dict[str, str],
    url: str | None,
    inflight: int = 16,
    keep: Path | None = None,
) -> int:
    transport, era = leg.split("-")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cg" if keep is None else keep / f"{leg}-{driver[7:-3]}-{n}.cg"
        cmd = [*callgrind.command(out), sys.executable]
        cmd += [str(APPS / driver), "--transport", transport, "--era", ERAS[era]]
        if transport == "http":
            assert url is not None
            cmd += ["--url", url]
        else:
            cmd += ["--server-cmd", f"{sys.executable} {APPS / 'floor_stdio.py'}"]
        calls = ["--n1", "1", "--n16", str(n)] if inflight == 16 else ["--n1", str(n), "--n16", "1"]
        cmd += [*calls, "--warmup", "100", "--call-timeout", "600", "--timeout", "3600"]
        subprocess.run(cmd, env=env, check=True, capture_output=True)
        return callgrind.file_total(out)


@contextmanager
def http_floor() -> Iterator[str]:
    """The ASGI floor under uvicorn on a free loopback port, for the run: its URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, str(APPS / "floor_asgi.py"), "--http", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the HTTP floor did not start") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        proc.wait(10)


def package_from(tree: Path, into: Path) -> Path:
    """`tree`'s runtime/ and generated/ laid out as an importable `mcpbind`, for PYTHONPATH."""
    shutil.copytree(tree / "runtime", into / "mcpbind")
    shutil.copytree(tree / "generated", into / "mcpbind" / "generated")
    return into


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=600)
    ap.add_argument("--small", type=int, default=100)
    ap.add_argument("--legs", default="stdio-2025,stdio-2026,http-2026", help="of stdio|http-2025|2026")
    ap.add_argument("--impls", default="mcpbind,raw", help="mcpbind, raw or both")
    ap.add_argument(
        "--inflight", type=int, choices=(1, 16), default=16, help="calls in flight (1: a loop turn per step)"
    )
    ap.add_argument(
        "--mcpbind-from", type=Path, help="measure this tree's mcpbind instead of the installed one"
    )
    ap.add_argument("--json-out", type=Path, help="also write the instructions per call as JSON")
    ap.add_argument("--keep", type=Path, help="keep the callgrind outputs in this directory")
    args = ap.parse_args()
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed")
    results: dict[str, dict[str, float]] = {}
    env = dict(os.environ)
    # One hash seed for every driver run, as `steady.py` fixes it: with a random one, dicts and sets
    # lay out differently per run and the same code differed by 1-5k instructions per call.
    env["PYTHONHASHSEED"] = "0"
    with tempfile.TemporaryDirectory() as tmp:
        if args.mcpbind_from is not None:
            env["PYTHONPATH"] = str(package_from(args.mcpbind_from.resolve(), Path(tmp)))
        legs = args.legs.split(",")
        with contextlib.ExitStack() as stack:
            url = stack.enter_context(http_floor()) if any(leg.startswith("http") for leg in legs) else None
            for leg in legs:
                per_call = results.setdefault(leg, {})
                for impl in args.impls.split(","):
                    driver = f"client_{impl}.py"
                    small = instructions(driver, leg, args.small, env, url, args.inflight, args.keep)
                    large = instructions(driver, leg, args.n, env, url, args.inflight, args.keep)
                    per_call[impl] = (large - small) / (args.n - args.small)
                    print(f"{leg} {impl:8} {per_call[impl]:10.0f} instructions per call", flush=True)
                if len(per_call) == 2:
                    print(f"{leg} raw / mcpbind: {per_call['raw'] / per_call['mcpbind']:.1%}", flush=True)
    if args.json_out is not None:
        args.json_out.write_text(json.dumps({"inflight": args.inflight, "legs": results}, indent=1) + "\n")


if __name__ == "__main__":
    main()
