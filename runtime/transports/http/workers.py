"""Several uvicorn workers on one port (`Server.run_http(workers=N)`): the parent binds the socket and forks
the workers, each building its own app (no import string needed: a fork inherits the server as built),
and replaces a worker that dies, until it is told to stop."""

from __future__ import annotations

import logging
import os
import signal
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
    sock = uvicorn.Config(make_app, host=host, port=port, **uvicorn_options).bind_socket()
    children: dict[int, float] = {}
    stopping = False
    quick_deaths = 0

    def spawn() -> None:
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
        children[pid] = time.monotonic()

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            _signal(pid, signal.SIGTERM)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        for _ in range(workers):
            spawn()
        log.info("serving on http://%s:%d with %d workers", host, port, workers)
        while children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            started = children.pop(pid, None)
            if started is None or stopping:
                continue
            code = os.waitstatus_to_exitcode(status)
            if time.monotonic() - started < _QUICK_DEATH:
                quick_deaths += 1
                if quick_deaths >= _MAX_QUICK_DEATHS:
                    stop(signal.SIGTERM, None)
                    _reap(children)
                    raise WorkersFailed(f"workers exit as they start (last exit code {code}): see above")
            log.warning("worker %d exited (%d): starting another", pid, code)
            spawn()
    finally:
        if children:
            stop(signal.SIGTERM, None)
            _reap(children)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        sock.close()


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def _reap(children: dict[int, float]) -> None:
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
