"""`inflight.Notified`: notification handlers run in order up to their first wait; those that wait go
on as tasks, at most `limit` of them (past that, the reading waits for one to end); closing cancels
them."""

from __future__ import annotations

import asyncio

from mcpbind.aio.inflight import Notified
from mcpbind.protocol.endpoint import IncomingNotification


def test_waiting_handlers_are_bounded_and_cancelled() -> None:
    async def main() -> None:
        gates = {name: asyncio.Event() for name in ("a", "b", "c")}
        done: list[str] = []

        async def handler(event: IncomingNotification) -> None:
            gate = gates.get(event.method)
            if gate is not None:
                await gate.wait()
            if event.method == "boom":
                raise RuntimeError("a failing handler is logged, not raised into the reading")
            done.append(event.method)

        notes = Notified(2)
        await notes.run(handler, IncomingNotification("a", None))
        await notes.run(handler, IncomingNotification("now", None))  # done inline, in order
        await notes.run(handler, IncomingNotification("boom", None))
        assert done == ["now"] and len(notes.tasks) == 1
        await notes.run(handler, IncomingNotification("b", None))
        third = asyncio.ensure_future(notes.run(handler, IncomingNotification("c", None)))
        await asyncio.sleep(0)
        assert not third.done()  # two wait: the reading waits for one of them
        gates["a"].set()
        await asyncio.wait_for(third, 10)
        assert done == ["now", "a"] and len(notes.tasks) == 2
        waiting = notes.cancel()
        await asyncio.gather(*waiting, return_exceptions=True)
        assert all(task.cancelled() for task in waiting) and not notes.tasks

    asyncio.run(main())
