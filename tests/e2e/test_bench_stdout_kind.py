"""The benchmark's stdio driver gives the server a Unix socket for its stdout by default, as a client on
libuv does (Node's `child_process`, uvloop), or a pipe, as a client on asyncio's default loop does
(`bench/servers.py`'s `StdioDriver.stdout_kind`), and reads whole answers off either: a real server
process, answers larger than either's buffer."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"

# A server that answers every request with what its stdout is and `size` bytes of text.
SERVER = """
import json, os, stat, sys
mode = os.fstat(1).st_mode
kind = "socket" if stat.S_ISSOCK(mode) else "pipe" if stat.S_ISFIFO(mode) else "?"
for line in sys.stdin:
    msg = json.loads(line)
    if "id" in msg:
        text = "x" * msg["params"]["size"]
        out = json.dumps({"jsonrpc": "2.0", "id": msg["id"], "result": {"kind": kind, "text": text}})
        sys.stdout.write(out + "\\n")
        sys.stdout.flush()
"""

# Run in a fresh interpreter: the benchmark is a script directory, not a package.
PROBE = """
import asyncio, json, sys
sys.path.insert(0, sys.argv[1])
from servers import StdioDriver

async def main():
    drv = StdioDriver([sys.executable, "-c", sys.argv[2]], *sys.argv[3:])
    await drv.start()
    try:
        got = []
        for size in (10, 3 << 20, 100, 700_000):
            result = await asyncio.wait_for(drv.request("blob", {"size": size}), 60)
            got.append([result["kind"], len(result["text"]), drv.last_bytes])
        print(json.dumps(got))
    finally:
        await drv.close()

asyncio.run(main())
"""


@pytest.mark.parametrize(("args", "kind"), [((), "socket"), (("socket",), "socket"), (("pipe",), "pipe")])
def test_answers_whole_over_the_stdout_kind(args: tuple[str, ...], kind: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(BENCH), SERVER, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    got = json.loads(done.stdout)
    assert [k for k, _, _ in got] == [kind] * 4
    assert [n for _, n, _ in got] == [10, 3 << 20, 100, 700_000]
    extra = len('{"jsonrpc": "2.0", "id": 1, "result": {"kind": "", "text": ""}}\n') + len(kind)
    assert [b - n for _, n, b in got] == [extra] * 4  # (each answer's bytes on the wire, read whole)
