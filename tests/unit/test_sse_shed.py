"""A session's stream bounded by bytes (`Stream.limit`): when what is queued behind a writer that cannot
write (its client reads nothing) goes over the bound, the queue is shed to the event store, the writer
ends its connection after what it was writing, and a resumption gets every event once, in order."""

from __future__ import annotations

import asyncio
from typing import Any

from mcpbind.transports.http import MemoryEventStore
from mcpbind.transports.http.sessions import Session
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


def test_a_session_backlog_is_bounded_in_bytes_as_well_as_in_number() -> None:
    """Messages that belong to no request wait for a GET stream in the backlog: 100 of them at most
    (as before), and no more bytes than the stream bound; the oldest go first."""
    session = Session("s", None)  # type: ignore[arg-type]  # (no connection: only its backlog is used)
    session.backlog_limit = 100
    for letter in b"ABCDEFGHIJ":
        session.unrouted(bytes([letter]) * 40)
    assert session.backlog_bytes == 80
    assert session.take_backlog() == [b"I" * 40, b"J" * 40]
    assert session.backlog_bytes == 0 and not session.backlog
    session.unrouted(b"x" * 500)  # one message over the bound alone is kept: it is the newest
    assert session.take_backlog() == [b"x" * 500]
