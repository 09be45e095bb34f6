"""A real `redis-server` for the tests, on a free loopback port, with no persistence unless asked.

The binary comes from Debian's `redis-server` package (`.ci/run` installs it when missing). Under CI
(`CI` set) a missing binary fails the tests that need it, with the reason; on a developer's machine
without it they are skipped with the same reason."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from .http_support import free_port

MISSING = "redis-server is not installed (apt-get install -y redis-server): the Redis tests need a real one"


def redis_binary() -> str:
    """The path of redis-server; fails (CI) or skips (elsewhere) the test when there is none."""
    path = shutil.which("redis-server")
    if path is None:
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail(MISSING, pytrace=False)
        pytest.skip(MISSING)
    return path


class RedisServer:
    """One redis-server process on 127.0.0.1:`port`; `stop` and `start` again keep the port (and, with
    `persist`, the data: a restart after `stop` finds what was there)."""

    def __init__(self, persist: bool = False) -> None:
        self.binary = redis_binary()
        self.port = free_port()
        self.persist = persist
        self.dir = tempfile.mkdtemp(prefix="mcpbind-redis-")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir]
        args += ["--save", "", "--appendonly", "no", "--protected-mode", "yes", "--daemonize", "no"]
        if self.persist:
            args += ["--dbfilename", "dump.rdb"]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(64).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop the server (saving its data first when it persists)."""
        process, self.process = self.process, None
        if process is None:
            return
        if self.persist:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
                    sock.sendall(b"SHUTDOWN SAVE\r\n")
                    sock.recv(64)
            except OSError:
                pass
        else:
            process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def dump(self) -> Path:
        return Path(self.dir) / "dump.rdb"
