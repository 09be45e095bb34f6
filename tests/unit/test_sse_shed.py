"""A session's stream bounded by bytes (`Stream.limit`): when what is queued behind a writer that cannot
write (its client reads nothing) goes over the bound, the queue is shed to the event store, the writer
ends its connection after what it was writing, and a resumption gets every event once, in order."""

from __future__ import annotations

import asyncio
from typing import Any

from mcpbind.transports.http import MemoryEventStore
from mcpbind.transports.http.sse import Stream, write_stream


def test_a_writer_stuck_behind_a_slow_client_ends_and_a_resumption_misses_nothing() -> None:
    async def scenario() -> None:
        store = MemoryEventStore()
        stream = Stream(store, limit=100)
        stream.keep({}, 10)
        stream.reading = True
        sent: list[dict[str, Any]] = []
        unblock = asyncio.Event()

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)
            if message.get("more_body"):
                await unblock.wait()  # the client reads nothing until told

        async def receive() -> dict[str, Any]:
            await asyncio.Event().wait()  # the client never leaves
            raise AssertionError

        writer = asyncio.ensure_future(write_stream(send, stream, [], None, None, None, receive, 60.0))
        stream.put(b"1" * 60)
        while len(sent) < 2:
            await asyncio.sleep(0)  # the writer takes event 1, and waits in `send`
        stream.put(b"2" * 60)
        stream.put(b"3" * 60)  # over the bound: event 2 is shed to the store
        assert len(stream.queue.items) == 1 and stream.queue.size == 60 and stream.sent == 2
        stream.put(b"4" * 60)
        unblock.set()
        await asyncio.wait_for(writer, 10)
        bodies = b"".join(m.get("body", b"") for m in sent)
        assert b"1" * 60 in bodies and b"2" * 60 not in bodies and b"3" * 60 not in bodies
        assert sent[-1]["more_body"] is False  # the connection ended
        assert not stream.closed and not stream.cut
        # A resumption after event 1: events up to `sent` from the store, then the queue, each once.
        found = await store.after(f"{stream.id}-1")
        assert found is not None
        replayed = [data for seq, data in found[1] if seq <= stream.sent]
        queued = [data for data, _ in stream.queue.items]
        assert replayed + queued == [b"2" * 60, b"3" * 60, b"4" * 60]

    asyncio.run(scenario())


def test_a_final_message_is_never_shed() -> None:
    stream = Stream(MemoryEventStore(), limit=10)
    stream.keep({}, 10)
    stream.put(b"x" * 8)
    stream.put(b"answer", final=True)
    stream.put(b"y" * 20)  # (nothing follows a final message; were it to, the answer stays)
    assert [data for data, _ in stream.queue.items] == [b"x" * 8, b"answer", b"y" * 20]
