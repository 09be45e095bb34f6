#!/usr/bin/env python3
"""Instructions from a stdio server's spawn to its first ``tools/call`` result, steady on a loaded machine.

The cold start row of ``servers.py`` times spawn to the first result on the wall clock, which swings
with the load. This runs each server under callgrind, sends what the row's driver sends (``initialize``
and, once answered, ``notifications/initialized`` with an ``echo`` call; in the envelope era the call
alone, with the 2026-07-28 ``_meta``), and asks callgrind for a dump (``callgrind_control -d``) the
moment the call's result arrives: the dump holds the instructions up to the result, not the exit's
(finalising the interpreter, which no client waits for). Repeat runs agree within a few 0.1%.

    python bench/cold_cost.py [--impls floor,mcpbind] [--eras session,envelope] [--runs 1] [--json-out PATH]

``--json-out PATH`` also writes the counts as JSON: ``{era: {impl: instructions}}``.

Needs valgrind. mcpbind and the floor run on uvloop, as in ``servers.py``. Bytecode is cached first
(an untimed plain run), as an installed package has it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import callgrind
from servers import LEGACY, MODERN_META, REPO_ROOT, Commands, _clean_env

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": LEGACY,
        "capabilities": {},
        "clientInfo": {"name": "bench", "version": "0"},
    },
}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}


def call(era: str) -> dict[str, Any]:
    params: dict[str, Any] = {"name": "echo", "arguments": {"text": "hello"}}
    if era == "envelope":
        params["_meta"] = MODERN_META
    return {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": params}


def line(message: dict[str, Any]) -> bytes:
    return json.dumps(message).encode() + b"\n"


def first_result(cmd: list[str], era: str) -> None:
    """Run `cmd` to its first tools/call result, then let it exit."""
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=_clean_env(),
        cwd=REPO_ROOT,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        if era == "session":
            proc.stdin.write(line(INITIALIZE))
            proc.stdin.flush()
            assert json.loads(proc.stdout.readline())["id"] == 1
            proc.stdin.write(line(INITIALIZED))
        proc.stdin.write(line(call(era)))
        proc.stdin.flush()
        answer = json.loads(proc.stdout.readline())
        assert answer["result"]["content"][0]["text"] == "hello", answer
        if cmd[0] == "valgrind":
            subprocess.run(["callgrind_control", "-d", str(proc.pid)], capture_output=True, check=True)
    finally:
        proc.stdin.close()
        proc.wait(600)


def instructions(cmd: list[str], era: str) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cg"
        first_result([*callgrind.command(out), *cmd], era)
        dumps = sorted(Path(tmp).glob("cg.*"))  # the dump asked for (`cg.1`); `cg` is the rest, the exit
        assert dumps, "callgrind wrote no dump"
        return callgrind.file_total(dumps[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--impls", default="floor,mcpbind")
    ap.add_argument("--eras", default="session,envelope")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--json-out", type=Path, default=None, help="also write {era: {impl: instructions}}")
    args = ap.parse_args()
    cmds = Commands(None)
    counts: dict[str, dict[str, int]] = {}
    for era in args.eras.split(","):
        got: dict[str, int] = counts.setdefault(era, {})
        for impl in args.impls.split(","):
            cmd = cmds.stdio(impl)
            assert cmd is not None, impl
            first_result(cmd, era)  # writes any bytecode not cached yet
            got[impl] = min(instructions(cmd, era) for _ in range(args.runs))
            print(f"{era:8} {impl:8} {got[impl] / 1e6:8.1f}M instructions, spawn to first result", flush=True)
        if "floor" in got:
            for impl, count in got.items():
                if impl != "floor":
                    print(f"{era:8} {impl} / floor: {count / got['floor']:.3f}", flush=True)
    if args.json_out is not None:
        args.json_out.write_text(json.dumps(counts, indent=1) + "\n")


if __name__ == "__main__":
    main()
