"""The stdio transport's client side (`StdioClientTransport`, also read as
`mcpbind.transports.stdio.StdioClientTransport`): spawns the server and talks to its stdin/stdout.

A module of its own, loaded by the client's first use of it: a stdio server never loads it, nor what
it stands on (`plain`, `server_output`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Final

from ..aio.interfaces import WRITE_WAIT
from ..protocol.endpoint import DEFAULT_MAX_LINE, Oversized
from ..protocol.jsonrpc import INTERNAL_ERROR, INVALID_REQUEST, encode_error
from .pipes import CHUNK, Batched
from .plain import PlainTransport
from .stdio import MAX_STDERR, log

if TYPE_CHECKING:  # loaded by its start
    from .server_output import ServerOutput

__all__ = ["StdioClientTransport"]

_STDERR: Final = {
    None: None,
    "inherit": None,
    "capture": asyncio.subprocess.PIPE,
    "devnull": asyncio.subprocess.DEVNULL,
}


def _declined(data: bytes) -> bool:
    """The stdio client's `write_nowait` before `start` (and for a peer that bound it then): nothing
    queued, the caller `write`s it."""
    return False


class StdioClientTransport(PlainTransport):
    """A client's side of stdio: spawns the server and talks to its stdin/stdout.

    `stderr`: None or "inherit" passes the server's stderr through to ours; "capture" keeps its last
    `MAX_STDERR` bytes (see `stderr_text`); "devnull" drops it. `max_line`: the longest line read from
    the server; a longer one is dropped unread, and the request it answers fails with an error that
    says so. Writes wait while the server does not read, but never longer than `WRITE_WAIT`. Shutdown
    follows the spec: close the server's stdin, wait, then SIGTERM, wait, then SIGKILL.
    """

    write_nowait: Callable[[bytes], bool] = staticmethod(_declined)
    """`write` when it would not wait (the pipe's buffer is under its high-water mark): queued (or
    dropped, the pipe closing, as `write` drops it), True; False: nothing queued (`write` queues it,
    and waits as it says). From `start` on, the writer's own `Batched.offer` (the client's peer binds
    it once started, and calls it for every request: `Requester.started`)."""

    def __init__(
        self,
        command: str,
        args: Sequence[str] = (),
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        stderr: str | None = None,
        max_line: int = DEFAULT_MAX_LINE,
        shutdown_timeout: float = 2.0,
    ) -> None:
        if stderr is not None and not isinstance(stderr, str):
            raise TypeError(f"stderr must be None or one of 'inherit', 'capture', 'devnull', not {stderr!r}")
        if stderr not in _STDERR:
            raise ValueError(f"stderr must be None or one of 'inherit', 'capture', 'devnull', not {stderr!r}")
        self.command = command
        self.args = list(args)
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.stderr = stderr
        self.capture_stderr = stderr == "capture"
        self.max_line = max_line
        self.shutdown_timeout = shutdown_timeout
        self.process: asyncio.subprocess.Process | None = None
        self._output: ServerOutput | None = None
        self._stderr = bytearray()
        self._stderr_task: asyncio.Task[None] | None = None
        self._frames: Batched | None = None
        self._stdin: asyncio.WriteTransport | None = None
        self._deliver: Callable[[bytes], Awaitable[None]] | None = None
        self._take: Callable[[bytes], bool] | None = None

    async def start(self) -> None:
        from .server_output import ServerOutput, ServerProcess

        env = None if self.env is None else {**os.environ, **self.env}
        loop = asyncio.get_running_loop()
        # `asyncio.create_subprocess_exec`, but the server's stdout is a pipe of our own, read by
        # `ServerOutput` as the loop reads it (see `server_output`).
        out, into = os.pipe()
        try:
            pipes, process = await loop.subprocess_exec(
                lambda: ServerProcess(CHUNK, loop),
                self.command,
                *self.args,
                stdin=asyncio.subprocess.PIPE,
                stdout=into,
                stderr=_STDERR[self.stderr],
                env=env,
                cwd=self.cwd,
            )
        except BaseException:
            os.close(out)
            raise
        finally:
            os.close(into)  # (the server's copy is the only one: its exit is our end of file)
        self.process = asyncio.subprocess.Process(pipes, process, loop)
        output = ServerOutput(self.max_line, self._oversized, loop)
        stdout = open(out, "rb", buffering=0)  # (closed with the pipe's transport)
        try:
            await loop.connect_read_pipe(lambda: output, stdout)
        except BaseException:
            stdout.close()
            await self._abandon(pipes)
            raise
        self._output = output
        self._offer()
        assert self.process.stdin is not None
        stdin = self.process.stdin.transport
        # (uvloop's is one end of a Unix socket pair, which it names a socket, not a pipe)
        pipe = stdin.get_extra_info("pipe") or stdin.get_extra_info("socket")
        # The server's stdin grows with a large request; its stdout is the server's to grow. Frames
        # go to the pipe's transport itself (the stream writer would only pass each call on).
        self._frames = output.writes = Batched(
            stdin, pipe.fileno() if pipe is not None else None, process, at_once=True
        )
        self.write_nowait = self._frames.offer
        self._stdin = stdin
        if self.capture_stderr:
            self._stderr_task = asyncio.ensure_future(self._drain_stderr())

    async def _abandon(self, pipes: asyncio.SubprocessTransport) -> None:
        """`start()` failed after the spawn: the server is killed and reaped, not left running."""
        process = self.process
        assert process is not None
        self.process = None
        pipes.close()  # (kills a process still running and closes its stdin)
        # Shielded: a `start()` cancelled midway still reaps the child it spawned.
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(process.wait())

    async def _drain_stderr(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        kept = self._stderr
        while chunk := await self.process.stderr.read(CHUNK):
            kept += chunk
            if len(kept) > 2 * MAX_STDERR:  # (trimmed now and then, not on every read: a copy each)
                del kept[:-MAX_STDERR]

    @property
    def stderr_text(self) -> str:
        """The end of what the server wrote on stderr: its last `MAX_STDERR` bytes (a server that
        writes for ever must not fill our memory; how it ended is what a failure is read for)."""
        return self._stderr[-MAX_STDERR:].decode("utf-8", "replace")

    def deliver_to(self, feed: Callable[[bytes], Awaitable[None]]) -> None:
        self._deliver = feed
        self._offer()

    def take_with(self, take: Callable[[bytes], bool]) -> None:
        """Offer each message read to `take` first, with no coroutine (the client's answers: nearly
        every message), as the loop reads it; only those it leaves (False) go to `deliver_to`'s feed,
        in the same order (see `server_output`)."""
        self._take = take
        self._offer()

    def _offer(self) -> None:
        # Taken as read only with a feed for the rest: without one, `read` returns every line.
        if self._output is not None and self._deliver is not None:
            self._output.take = self._take

    async def read(self) -> bytes | None:
        """The next line; or, once `deliver_to` was called, every line that was not taken as it was
        read handed to the feed (no return to the peer's loop per message), and None at the end."""
        output = self._output
        assert output is not None, "start() first"
        deliver, take = self._deliver, self._take
        while (line := await output.first()) is not None:
            if deliver is None:
                output.done()
                return line
            # The line stays first while it is handled: what is read meanwhile waits behind it.
            try:
                if take is None or not take(line):
                    await deliver(line)
            finally:
                output.done()
        return None

    def _oversized(self, line: Oversized) -> bytes | None:
        """A line over `max_line` was dropped: fail the request it answers (the message to handle in
        its place: the server's error answer, as it were), refuse the request it is, or (its id
        unreadable) log it."""
        from ..protocol.salvage import salvage  # an error path's module: loaded on its first use

        found = salvage(line.head, line.tail)
        why = f"a message of {line.size} bytes exceeds the client's limit of {self.max_line} bytes (max_line)"
        if found.id is None:
            log.warning("a message from the server was dropped: %s", why)
        elif found.request:
            log.warning("a request from the server was refused: %s", why)
            if self._frames is not None:
                self._frames.write(encode_error(found.id, INVALID_REQUEST, f"Invalid request: {why}"))
        else:
            # Read as the server's own error answer: the request fails with it, at once.
            return encode_error(found.id, INTERNAL_ERROR, f"the server's answer is too large: {why}")
        return None

    async def write(self, data: bytes) -> None:
        assert self.process is not None and self.process.stdin is not None, "start() first"
        stdin = self.process.stdin
        if stdin.is_closing():
            return
        assert self._frames is not None
        self._frames.write(data)
        if not stdin.transport.get_write_buffer_size():
            return  # the pipe took everything so far: nothing to wait for
        wait = WRITE_WAIT.get()
        if wait is not None and wait <= 0:
            return  # best effort (a cancellation): the bytes go when the server reads
        with contextlib.suppress(ConnectionError, TimeoutError):
            # Waits while the pipe is full. Bounded, it gives up a little after the request's own
            # timer has fired; the request then fails with RequestTimeout, and the bytes stay queued.
            # (`asyncio.timeout`, not `wait_for`, which in 3.11 loses a cancellation that comes
            # as the drain ends.)
            async with asyncio.timeout(None if wait is None else wait + 0.01):
                await stdin.drain()

    async def close(self) -> None:
        process = self.process
        if process is None:
            return
        if process.stdin is not None and not process.stdin.is_closing():
            if self._frames is not None:
                self._frames.flush()
            process.stdin.close()
        for sig in (None, signal.SIGTERM, signal.SIGKILL):
            if process.returncode is not None:
                break
            if sig is not None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(sig)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), self.shutdown_timeout)
        if process.returncode is None:
            await process.wait()
        if self._output is not None:
            # Not left to the end of file: a process the server started may hold its stdout open.
            self._output.close()
        if self._stderr_task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._stderr_task, 1.0)
