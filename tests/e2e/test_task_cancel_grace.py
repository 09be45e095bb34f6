"""`tasks/cancel` of a task whose code swallows the cancellation (2025-11-25): the task is `cancelled`
before the answer, and the answer says so (the spec: the receiver MUST move the task to `cancelled`
before answering, and it stays so even if its code goes on to complete); the answer waits for the
code to settle at most `Tasks.stop_grace`, and that wait holds up no other request of the session."""

from __future__ import annotations

import asyncio
from typing import Any

from mcpbind.client import Client
from mcpbind.server import Server

SESSION = "2025-11-25"
WAIT = 60


def _server() -> tuple[Server, dict[str, asyncio.Event], list[str]]:
    server = Server("stubborn", "1.0.0")
    events: dict[str, asyncio.Event] = {}
    seen: list[str] = []

    @server.tool(task_support="optional")
    async def stubborn() -> str:
        events["started"].set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            seen.append("swallowed")
        await events["release"].wait()
        seen.append("finished")
        return "finished anyway"

    @server.tool()
    def echo(text: str) -> str:
        return text

    return server, events, seen


async def _started(client: Client, events: dict[str, asyncio.Event]) -> Any:
    events.update(started=asyncio.Event(), release=asyncio.Event())
    handle = await client.start_tool_task("stubborn")
    await events["started"].wait()
    return handle


def test_a_cancel_of_code_that_swallows_it_answers_cancelled_and_holds_up_nothing_else() -> None:
    server, events, seen = _server()
    assert server.tasks is not None
    server.tasks.stop_grace = WAIT  # (longer than the test: the answer waits for the code here)

    async def main() -> None:
        async with Client.memory(server, mode=SESSION) as client:
            handle = await _started(client, events)
            cancelling = asyncio.ensure_future(handle.cancel())
            while "swallowed" not in seen:
                await asyncio.sleep(0.01)
            # The cancel waits for the code; the session's other requests do not.
            assert (await client.call_tool("echo", {"text": "meanwhile"})).content[0].text == "meanwhile"
            assert (await handle.status()).status == "cancelled"  # before the answer
            assert not cancelling.done()
            events["release"].set()  # the code completes: the task stays cancelled
            assert (await cancelling).status == "cancelled"
            assert seen == ["swallowed", "finished"]
            assert (await handle.status()).status == "cancelled"

    asyncio.run(asyncio.wait_for(main(), WAIT))


def test_a_cancel_answers_cancelled_past_its_grace_while_the_code_runs_on() -> None:
    server, events, seen = _server()
    assert server.tasks is not None
    server.tasks.stop_grace = 0.05

    async def main() -> None:
        async with Client.memory(server, mode=SESSION) as client:
            handle = await _started(client, events)
            assert (await handle.cancel()).status == "cancelled"
            assert seen == ["swallowed"]  # still running: it waits for `release`
            events["release"].set()
            while "finished" not in seen:
                await asyncio.sleep(0.01)
            assert (await handle.status()).status == "cancelled"

    asyncio.run(asyncio.wait_for(main(), WAIT))
