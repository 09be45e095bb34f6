"""The stdio client's `start()` when it fails after spawning the server: the process is killed and
reaped, not left running (a real child process; the failure is the loop refusing to read its stdout)."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

import pytest

from mcpbind.transports.stdio import StdioClientTransport

# A server that would run until its stdin closes: left alone, it outlives the failed start.
WAITS_FOR_STDIN = "import sys; sys.stdin.buffer.read()"


def test_a_start_that_cannot_read_the_servers_stdout_kills_and_reaps_it() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        spawned: list[asyncio.SubprocessTransport] = []
        spawn = loop.subprocess_exec

        async def recording_spawn(*args: Any, **kwargs: Any) -> Any:
            transport, protocol = await spawn(*args, **kwargs)
            spawned.append(transport)
            return transport, protocol

        async def refused(*args: Any, **kwargs: Any) -> Any:
            raise OSError("the loop cannot read this pipe")

        loop.subprocess_exec = recording_spawn  # type: ignore[method-assign]
        loop.connect_read_pipe = refused  # type: ignore[method-assign]
        transport = StdioClientTransport(sys.executable, ["-c", WAITS_FOR_STDIN], stderr="devnull")
        with pytest.raises(OSError, match="cannot read this pipe"):
            await transport.start()
        del loop.subprocess_exec, loop.connect_read_pipe  # (the loop's own methods again)
        [child] = spawned
        assert child.get_returncode() is not None  # killed, and its exit collected
        with pytest.raises(ProcessLookupError):
            os.kill(child.get_pid(), 0)  # reaped: not even a zombie is left

    asyncio.run(asyncio.wait_for(main(), 60))
