"""How the stdio client writes its requests, against real server processes: a lone request goes to the
pipe in the loop turn it is made (no flush left for a later turn), and the requests that the callers
woken by one read of several answers make next go in one write, in the turn those callers run.

Each write reaching the pipe's transport is recorded (its `write` wrapped: the transport itself, not
a model of it). `servers/burst_stdio.py` answers N calls in one write, so every round of N callers is
woken by one read, whatever the machine's load."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest

from mcpbind.client import Client

SERVERS = Path(__file__).resolve().parents[1] / "servers"
BURST = str(SERVERS / "burst_stdio.py")
FULL = str(SERVERS / "full.py")


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 120))


def record_writes(client: Client) -> list[bytes]:
    """Every write the client makes to the server's stdin from now on, as the pipe's transport gets it."""
    process = client.transport.process  # type: ignore[attr-defined]
    pipe = process.stdin.transport
    writes: list[bytes] = []
    write = pipe.write

    def recorded(data: bytes) -> None:
        writes.append(bytes(data))
        write(data)

    pipe.write = recorded
    return writes


@pytest.mark.parametrize("inflight", [2, 16])
def test_the_callers_woken_by_one_read_send_their_requests_in_one_write(inflight: int) -> None:
    rounds = 6

    async def main() -> None:
        async with Client.stdio(sys.executable, [BURST, str(inflight)], mode="2025-11-25") as client:
            writes = record_writes(client)

            async def worker(w: int) -> None:
                for r in range(rounds):
                    text = f"{w}.{r}"
                    result = await client.call_tool("echo", {"text": text})
                    assert result.content[0].text == text

            await asyncio.gather(*(worker(w) for w in range(inflight)))
            calls = [w for w in writes if b'"tools/call"' in w]
            # The first round: each caller's request at once, as it was made (nothing had woken them).
            assert [w.count(b"\n") for w in calls[:inflight]] == [1] * inflight
            # Every later round: woken together by one read, their requests in one write.
            assert [w.count(b"\n") for w in calls[inflight:]] == [inflight] * (rounds - 1)

    run(main())


def test_a_lone_request_is_written_in_the_turn_it_is_made() -> None:
    async def main() -> None:
        async with Client.stdio(sys.executable, [FULL], mode="2025-11-25", stderr="capture") as client:
            writes = record_writes(client)
            for _ in range(3):
                call = asyncio.ensure_future(client.call_tool("echo", {"text": "lone"}))
                before = len(writes)
                await asyncio.sleep(0)  # one turn: the call's task runs up to its wait for the answer
                assert len(writes) == before + 1 and b'"tools/call"' in writes[-1]
                assert (await call).content[0].text == "lone"

    run(main())
