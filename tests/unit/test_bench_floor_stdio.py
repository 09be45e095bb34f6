"""The stdio floor (`bench/apps/floor_stdio.py`) reads stdin with an `asyncio.Protocol`
(`floor_lines.py`): a real process, on asyncio's loop and on uvloop, answers a line split across reads,
several lines in one read (in one write), a blank line skipped, a last line with no newline at the end
of stdin, and ends with an error on a line over its limit (the lines before it answered), as its earlier
streams loop did."""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import json
import os
import selectors
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("msgspec")

APPS = Path(__file__).resolve().parents[2] / "bench" / "apps"
LOOPS = [
    "asyncio",
    pytest.param(
        "uvloop", marks=pytest.mark.skipif(not importlib.util.find_spec("uvloop"), reason="no uvloop")
    ),
]


@functools.cache
def _floor() -> Any:
    sys.path.insert(0, str(APPS))  # (it imports _toolgen beside it)
    try:
        spec = importlib.util.spec_from_file_location("mcpbind_bench_floor_stdio", APPS / "floor_stdio.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # (its Structs' annotations are looked up there)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(APPS))
    return module


def _lines() -> Any:
    """``floor_lines``, the floor's pipes (imported by ``floor_stdio``)."""
    _floor()
    return sys.modules["floor_lines"]


def _ping(rid: int | str) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": rid, "method": "ping"}).encode() + b"\n"


def _call(rid: int, text: str) -> bytes:
    params = {"name": "echo", "arguments": {"text": text}}
    return (
        json.dumps({"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": params}).encode() + b"\n"
    )


def _spawn(loop: str, *flags: str) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, str(APPS / "floor_stdio.py"), *flags]
    if loop == "uvloop":
        cmd.append("--uvloop")
    return subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _answers(proc: subprocess.Popen[bytes], count: int, within: float = 60) -> list[dict[str, Any]]:
    """The next `count` answer lines on the floor's stdout (one at a time: none may be read ahead)."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    got = b""
    deadline = time.monotonic() + within
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while got.count(b"\n") < count:
            left = deadline - time.monotonic()
            assert left > 0, f"no answer within {within} s: {got!r}"
            if sel.select(left):
                chunk = os.read(fd, 1)  # (byte by byte: what follows the last answer stays unread)
                assert chunk, f"the floor ended: {got!r}"
                got += chunk
    return [json.loads(line) for line in got.splitlines()]


def _send(proc: subprocess.Popen[bytes], data: bytes) -> None:
    assert proc.stdin is not None
    proc.stdin.write(data)
    proc.stdin.flush()


@pytest.mark.parametrize("loop", LOOPS)
def test_lines_split_across_reads_and_together_in_one_read_are_each_answered(loop: str) -> None:
    proc = _spawn(loop)
    try:
        b, e = _call(2, "b" * 3000), _call(5, "h\u00e9llo")
        # A whole line and the start of the next: the first is answered while the second waits for its end.
        _send(proc, _ping(1) + b[:100])
        assert _answers(proc, 1) == [{"jsonrpc": "2.0", "id": 1, "result": {}}]
        # The end of that line, two more, a blank line, a notification and the start of another.
        notification = b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n'
        _send(proc, b[100:] + _ping("c") + b" \r\n" + notification + _ping(4) + e[:7])
        got = _answers(proc, 3)
        assert [a["id"] for a in got] == [2, "c", 4]
        assert got[0]["result"]["content"] == [{"type": "text", "text": "b" * 3000}]
        _send(proc, e[7:-1])  # its end, with no newline: the end of stdin ends the line
        assert proc.stdin is not None
        proc.stdin.close()
        assert _answers(proc, 1)[0]["result"]["content"] == [{"type": "text", "text": "h\u00e9llo"}]
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("newline", [True, False], ids=["ended", "unended"])
def test_a_line_over_the_limit_ends_the_floor_after_the_lines_before_it(loop: str, newline: bool) -> None:
    limit = _lines().LIMIT
    over = b'{"jsonrpc":"2.0","id":9,"method":"ping","params":{"x":"' + b"x" * limit + b'"}}'
    data = _ping(1) + over + (b"\n" + _ping(2) if newline else b"")
    proc = _spawn(loop)
    try:
        out, err = proc.communicate(data, timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode != 0
    assert [json.loads(line)["id"] for line in out.splitlines()] == [1]
    assert b"ValueError" in err and b"exceeds the limit" in err


@pytest.mark.parametrize("loop", LOOPS)
def test_a_line_at_the_limit_is_read(loop: str) -> None:
    limit = _lines().LIMIT
    head, tail = b'{"jsonrpc":"2.0","id":9,"method":"ping","params":{"x":"', b'"}}'
    line = head + b"x" * (limit - len(head) - len(tail)) + tail
    assert len(line) == limit
    proc = _spawn(loop)
    try:
        out, err = proc.communicate(line + b"\n" + _ping(2), timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err.decode()[-2000:]
    assert [json.loads(line)["id"] for line in out.splitlines()] == [9, 2]


def test_the_answers_of_one_read_go_in_one_write() -> None:
    floor = _floor()

    class Out:
        def __init__(self) -> None:
            self.writes: list[bytes] = []

        def write(self, data: bytes) -> None:
            self.writes.append(data)

    async def main() -> tuple[list[bytes], bool]:
        out = Out()
        ended = asyncio.get_running_loop().create_future()
        lines = _lines().Lines(out, ended, floor.decode, floor.answer)
        lines.data_received(_ping(1) + _call(2, "two") + _ping(3)[:5])
        lines.data_received(_ping(3)[5:])
        return out.writes, ended.done()

    writes, ended = asyncio.run(main())
    assert len(writes) == 2
    assert [json.loads(line)["id"] for line in writes[0].splitlines()] == [1, 2]
    assert writes[0].endswith(b"\n") and writes[1] == b'{"jsonrpc":"2.0","id":3,"result":{}}\n'
    assert not ended


@pytest.mark.parametrize("loop", LOOPS)
def test_the_earlier_streams_loop_still_serves(loop: str) -> None:
    proc = _spawn(loop, "--streams")
    try:
        out, err = proc.communicate(_ping(1) + _call(2, "x"), timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err.decode()[-2000:]
    assert [json.loads(line)["id"] for line in out.splitlines()] == [1, 2]
