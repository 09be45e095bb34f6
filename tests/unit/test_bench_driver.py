"""The benchmark's stdio driver frames a server's answers as a client does (`bench/servers.py`'s
`StdoutLines`): every line whole, whatever chunks it arrives in, each handed over once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"

# Run in a fresh interpreter: the benchmark is a script directory, not a package (it puts itself on
# sys.path and imports its siblings).
PROBE = """
import asyncio, json, sys
sys.path.insert(0, sys.argv[1])
from servers import StdoutLines

async def main():
    got, ends = [], []
    lines = StdoutLines(lambda line: got.append(bytes(line)), lambda: ends.append(True))
    lines.pipe_data_received(2, b"to stderr\\n")  # not stdout's: left to asyncio's reader
    for chunk in json.loads(sys.argv[2]):
        lines.pipe_data_received(1, chunk.encode())
    lines.pipe_connection_lost(1, None)
    print(json.dumps({"lines": [g.decode() for g in got], "eof": ends}))

asyncio.run(main())
"""


def framed(chunks: list[str]) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(BENCH), json.dumps(chunks)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_lines_are_whole_whatever_the_chunks() -> None:
    big = "x" * 100_000
    chunks = ['{"a":1}\n{"b"', ":2}\n", big[:30_000], big[30_000:70_000], big[70_000:] + "\n\n", "tail"]
    assert framed(chunks) == {"lines": ['{"a":1}', '{"b":2}', big], "eof": [True]}


def test_a_newline_first_in_a_chunk_ends_the_line_before() -> None:
    assert framed(["abc", "\ndef\n", "\n"]) == {"lines": ["abc", "def"], "eof": [True]}
