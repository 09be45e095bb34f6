"""The benchmark's stdio driver frames a server's answers as a client does (`bench/servers.py`'s
`StdoutLines`): it reads a real pipe straight into its buffer, and hands every line over whole, once,
whatever chunks it arrives in."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"

# Run in a fresh interpreter: the benchmark is a script directory, not a package (it puts itself on
# sys.path and imports its siblings). Each chunk is written to the pipe, then read by one `readable`
# (what the loop calls when the pipe has data); a second call finds nothing and does nothing.
PROBE = """
import json, os, sys
sys.path.insert(0, sys.argv[1])
from servers import StdoutLines

got, ends = [], []
out, into = os.pipe()
lines = StdoutLines(out, lambda line: got.append(bytes(line)), lambda: ends.append(True))
for chunk in json.loads(sys.argv[2]):
    os.write(into, chunk.encode())
    lines.readable()
    lines.readable()
os.close(into)
lines.readable()
lines.close()
print(json.dumps({"lines": [g.decode() for g in got], "eof": ends, "buffer": len(lines.buffer)}))
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
    got = framed(chunks)
    assert got["lines"] == ['{"a":1}', '{"b":2}', big] and got["eof"] == [True]
    assert got["buffer"] == 1 << 18  # grown by doubling from 64 KiB while the long line came in


def test_a_newline_first_in_a_chunk_ends_the_line_before() -> None:
    assert framed(["abc", "\ndef\n", "\n"])["lines"] == ["abc", "def"]


def test_the_start_of_the_next_line_moves_to_the_front() -> None:
    """Whole lines then a part of the next, longer than what they leave free (an overlapping move)."""
    head = "h" * 10_000
    tail = "t" * 60_000
    got = framed([f"{head}\n{tail[:40_000]}", f"{tail[40_000:]}\nend\n"])  # (each within the pipe)
    assert got["lines"] == [head, tail, "end"]
