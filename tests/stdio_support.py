"""A stdio MCP server in a subprocess, driven line by line without a client library: what the fuzz
tests need to send bytes no client would, and to see every line that comes back."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from mcpbind.protocol import revisions

from .hostile import check_response
from .http_support import initialize, modern

PROBE = str(Path(__file__).resolve().parent / "servers" / "probe.py")


class StdioServer:
    """`tests/servers/probe.py` over stdio, in one session of `revision` (2026-07-28: no session, every
    request carries its version). Restarted by `ensure()` if a test killed it, so that each example
    begins with a live server; `restarts` counts those."""

    def __init__(self, revision: str, *args: str) -> None:
        self.revision = revision
        self.args = args
        self.restarts = -1
        self.process: subprocess.Popen[bytes] | None = None
        self._buffer = bytearray()
        self._next = 0
        self.ensure()

    def ensure(self) -> None:
        if self.process is not None and self.process.poll() is None:
            return
        self.stop()
        self.restarts += 1
        self.process = subprocess.Popen(
            [sys.executable, PROBE, *self.args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self._buffer.clear()
        if not revisions.is_modern(self.revision):
            answer = self.request(initialize(self.revision, rid="init"))
            assert answer["result"]["protocolVersion"] == self.revision, answer
            self.send(b'{"jsonrpc":"2.0","method":"notifications/initialized"}')

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is None:
            return
        process, self.process = self.process, None
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                pipe.close()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    def send(self, line: bytes) -> None:
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(line + b"\n")
        self.process.stdin.flush()

    def read(self, timeout: float = 10.0) -> list[dict[str, Any]]:
        """The messages of the next line the server writes (one, or a batch's answers); an
        AssertionError if none comes in `timeout`."""
        assert self.process is not None and self.process.stdout is not None
        fd = self.process.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            assert left > 0, "the server did not answer in time"
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 1 << 20)
                assert chunk, f"the server closed its stdout (exit code {self.process.poll()})"
                self._buffer += chunk
        end = self._buffer.index(b"\n")
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 1]
        value = json.loads(line)
        assert value != [], "an empty batch answer"
        return value if isinstance(value, list) else [value]

    def next_id(self, prefix: str) -> str:
        self._next += 1
        return f"{prefix}{self._next}"

    def message(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """A request of this server's revision (2026-07-28: with the version in `_meta`)."""
        rid = self.next_id("r")
        if revisions.is_modern(self.revision):
            return modern(rid, method, params)
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            message["params"] = params
        return message

    def request(self, message: dict[str, Any]) -> dict[str, Any]:
        self.send(json.dumps(message).encode())
        return self.until({message["id"]})[-1]

    def until(self, ids: set[Any], timeout: float = 10.0) -> list[dict[str, Any]]:
        """Every message up to the answers to all of `ids` (in the order they came), each checked to be
        a JSON-RPC response or a message from the server."""
        out: list[dict[str, Any]] = []
        waiting = set(ids)
        while waiting:
            for message in self.read(timeout):
                out.append(message)
                if "method" in message:
                    continue  # a notification of the server's (a log, progress)
                check_response(message)
                waiting.discard(message.get("id"))
        return out

    def ping(self) -> None:
        """The server answers a valid request (the property after every bad one)."""
        message = {"jsonrpc": "2.0", "id": self.next_id("ping"), "method": "ping"}
        answer = self.request(message)
        assert answer.get("result") == {}, answer


class LineProcess:
    """A server process written to in bursts (one write each) and read line by line, with nothing more
    sent to it while a read waits: what tests of what a server sends unprompted need. `close()` ends
    its input and expects a clean exit (and, with `stderr` kept, no traceback on it)."""

    def __init__(self, argv: list[str], *, keep_stderr: bool = False) -> None:
        self.process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE if keep_stderr else subprocess.DEVNULL,
        )
        self.buffer = bytearray()

    def write_lines(self, lines: list[bytes]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(b"".join(line + b"\n" for line in lines))  # one write: one burst
        self.process.stdin.flush()

    def lines(self, count: int, timeout: float = 60.0) -> list[Any]:
        """The next `count` lines the server writes, parsed, with nothing more sent to it meanwhile."""
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        out: list[Any] = []
        deadline = time.monotonic() + timeout
        while len(out) < count:
            while b"\n" not in self.buffer:
                left = deadline - time.monotonic()
                assert left > 0, f"only {len(out)} of {count} lines came in time: {out}"
                if select.select([fd], [], [], left)[0]:
                    chunk = os.read(fd, 1 << 20)
                    assert chunk, f"the server closed its stdout (exit code {self.process.poll()})"
                    self.buffer += chunk
            end = self.buffer.index(b"\n")
            out.append(json.loads(bytes(self.buffer[:end])))
            del self.buffer[: end + 1]
        return out

    def close(self) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        try:
            assert self.process.wait(30) == 0
            if self.process.stderr is not None:
                assert b"Traceback" not in self.process.stderr.read()
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(5)
            self.process.stdout.close()
            if self.process.stderr is not None:
                self.process.stderr.close()


def filled_pipe(data: bytes) -> tuple[int, int]:
    """A pipe grown to 1 MiB with all of `data` waiting in it: its read and write ends (the caller
    closes them). Skips the test where a pipe cannot be grown (outside Linux)."""
    fcntl = pytest.importorskip("fcntl")
    read_fd, write_fd = os.pipe()
    try:
        fcntl.fcntl(write_fd, fcntl.F_SETPIPE_SZ, 1 << 20)
    except (AttributeError, OSError):
        os.close(read_fd)
        os.close(write_fd)
        pytest.skip("no pipe of 1 MiB here")
    assert os.write(write_fd, data) == len(data)  # (all of it waits in the pipe)
    return read_fd, write_fd
