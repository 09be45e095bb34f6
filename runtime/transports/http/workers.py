"""Several uvicorn workers on one port (`Server.run_http(workers=N)`): the parent binds the port (a socket
per worker, SO_REUSEPORT, on Linux) and forks the workers, each building its own app (no import string
needed: a fork inherits the server as built), and replaces a worker that dies, until told to stop."""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any, Final

__all__ = ["serve_workers", "WorkersFailed"]

log = logging.getLogger("mcpbind.http")

_QUICK_DEATH: Final = 2.0
"""A worker that dies this soon after it started is failing to start, not crashing in service."""
_MAX_QUICK_DEATHS: Final = 5
_STOP_GRACE: Final = 10.0
"""Seconds the workers get to finish after SIGTERM before they are killed."""


class WorkersFailed(RuntimeError):
    """The workers keep dying as they start (the parent gives up rather than fork forever)."""


def serve_workers(
    make_app: Callable[[], Any], host: str, port: int, workers: int, uvicorn_options: dict[str, Any]
) -> None:
    """Serve `make_app()` (called in each worker after the fork) on `workers` processes sharing one socket.
    SIGINT or SIGTERM stops them all; a worker that dies is replaced."""
    import uvicorn

    if not hasattr(os, "fork"):
        raise RuntimeError("several workers need os.fork (Linux, macOS); run one process per port instead")
    socks = _listen(host, port, workers) or [uvicorn.Config(make_app, host=host, port=port).bind_socket()]
    children: dict[int, tuple[float, int]] = {}
    """Each worker's pid: when it started, and the index of its socket."""
    stopping = False
    quick_deaths = 0

    def spawn(index: int) -> None:
        sock = socks[index % len(socks)]
        pid = os.fork()
        if pid == 0:  # the worker: serve until told to stop, and never return into the parent's code
            code = 1
            try:
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                config = uvicorn.Config(make_app(), host=host, port=port, **uvicorn_options)
                uvicorn.Server(config).run(sockets=[sock])
                code = 0
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        children[pid] = (time.monotonic(), index)

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            _signal(pid, signal.SIGTERM)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        for index in range(workers):
            spawn(index)
        log.info("serving on http://%s:%d with %d workers", host, port, workers)
        while children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            child = children.pop(pid, None)
            if child is None or stopping:
                continue
            started, index = child
            code = os.waitstatus_to_exitcode(status)
            if time.monotonic() - started < _QUICK_DEATH:
                quick_deaths += 1
                if quick_deaths >= _MAX_QUICK_DEATHS:
                    stop(signal.SIGTERM, None)
                    _reap(children)
                    raise WorkersFailed(f"workers exit as they start (last exit code {code}): see above")
            log.warning("worker %d exited (%d): starting another", pid, code)
            spawn(index)  # on its socket: the connections waiting there are served
    finally:
        if children:
            stop(signal.SIGTERM, None)
            _reap(children)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for sock in socks:
            sock.close()


def _listen(host: str, port: int, count: int) -> list[socket.socket]:
    """`count` listening sockets on one port with SO_REUSEPORT (Linux): the kernel spreads connections
    evenly over them, one per worker. (On one shared socket, whichever worker accepts first takes the
    connection: a busy worker's peer takes nearly all keep-alive connections, 16 of 16 seen here.)
    Empty where the option does not exist; only this user's processes may join the port."""
    if not hasattr(socket, "SO_REUSEPORT") or sys.platform != "linux":
        return []
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM)
            socks.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            port = sock.getsockname()[1]  # port 0: the others join the port the first was given
            sock.listen(2048)
            sock.set_inheritable(True)
    except OSError:
        for sock in socks:
            sock.close()
        raise
    return socks


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def _reap(children: dict[int, tuple[float, int]]) -> None:
    """Wait for the workers to exit (bounded), then kill those that have not."""
    deadline = time.monotonic() + _STOP_GRACE
    while children and time.monotonic() < deadline:
        for pid in list(children):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                children.pop(pid, None)
        time.sleep(0.05)
    for pid in children:
        _signal(pid, signal.SIGKILL)
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    children.clear()
