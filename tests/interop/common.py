"""Shared by the interop tests: paths, a bounded event loop run, and schema checks of recorded frames."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Awaitable, Iterable
from pathlib import Path
from typing import Any

from ..schema_check import Checker

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
MCPBIND_SERVER = str(TESTS / "servers" / "full.py")
SDK_SERVER = str(HERE / "sdk_server.py")
RELAY = str(HERE / "relay.py")

#: Bounds every test: one connection, a handful of requests.
TEST_TIMEOUT = 60.0


def run(coro: Awaitable[Any], timeout: float = TEST_TIMEOUT) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))  # type: ignore[arg-type]


def is_call(message: Any) -> bool:
    return isinstance(message, dict) and "method" in message


def validate(
    messages: Iterable[tuple[str, dict[str, Any]]], revision: str, *, skip_probe: bool = False
) -> int:
    """Check `(sender, message)` pairs against `revision`'s schema; returns how many were checked.

    Requests and notifications go first so that every answer finds the request it answers.
    `skip_probe` leaves out `server/discover` requests and their answers (a stateless-era probe
    sent before the client learnt that the server only initializes)."""
    pairs = list(messages)
    if skip_probe:
        probes = {(s, m.get("id")) for s, m in pairs if is_call(m) and m["method"] == "server/discover"}
        answered = {("server" if s == "client" else "client", i) for s, i in probes}
        pairs = [
            (s, m)
            for s, m in pairs
            if not ((s, m.get("id")) in probes and is_call(m))
            and not ((s, m.get("id")) in answered and not is_call(m))
        ]
    checker = Checker(revision)
    for sender, message in [p for p in pairs if is_call(p[1])] + [p for p in pairs if not is_call(p[1])]:
        checker.check(sender, json.dumps(message).encode())
    return checker.checked


class RelayLog:
    """What `relay.py` wrote: the frames each way, and the relay's and the server's process ids."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def entries(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line]

    def frames(self) -> list[tuple[str, dict[str, Any]]]:
        return [(e["from"], json.loads(e["frame"])) for e in self.entries() if "from" in e]

    def pids(self) -> list[int]:
        head = next(e for e in self.entries() if "relay" in e)
        return [int(head["relay"]), int(head["child"])]

    def methods(self, sender: str) -> list[str]:
        return [m["method"] for s, m in self.frames() if s == sender and is_call(m)]


def process_gone(pid: int) -> bool:
    """True once `pid` has exited (a zombie waiting to be reaped counts as exited)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def children() -> list[int]:
    """The live (not zombie) child processes of this test process."""
    me, found = os.getpid(), []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me and fields[0] not in ("Z", "X"):
            found.append(int(stat.parent.name))
    return found


def wait_gone(pids: Iterable[int], timeout: float = 10.0) -> list[int]:
    """Waits (bounded) for the processes to exit; returns those still running."""
    deadline = time.monotonic() + timeout
    left = list(pids)
    while left and time.monotonic() < deadline:
        left = [p for p in left if not process_gone(p)]
        if left:
            time.sleep(0.05)
    return left
