"""A session's SSE stream numbers and keeps each event when it is sent, not when it is written out: what is
sent while no connection reads the stream is in the event store already, and the writer's ids agree."""

from __future__ import annotations

import asyncio

from mcpbind.transports.http import MemoryEventStore
from mcpbind.transports.http.sse import Stream


def kept(store: MemoryEventStore, name: str, after: int = 0) -> list[tuple[int, bytes]]:
    found = asyncio.run(store.after(f"{name}-{after}"))
    assert found is not None and found[0] == name
    return found[1]


def test_events_are_kept_as_they_are_sent_and_the_writer_numbers_them_alike() -> None:
    store = MemoryEventStore()
    stream = Stream(store)
    stream.reading = True
    stream.put(b'{"a":1}')  # sent before the stream is named (a request's first progress)
    streams: dict[str, Stream] = {}
    stream.keep(streams, 10)
    assert streams == {stream.id: stream}
    assert kept(store, stream.id) == [(1, b'{"a":1}')]
    stream.put(b"")  # a wake-up, no event: neither numbered nor kept
    stream.put(b'{"b":2}')
    assert kept(store, stream.id) == [(1, b'{"a":1}'), (2, b'{"b":2}')]
    # The writer frames what is queued with the same numbers.
    data, _ = stream.queue.get_nowait()
    assert stream.event(data).startswith(f"id: {stream.id}-1\r\n".encode())
    assert stream.prime() == f"id: {stream.id}-1\r\ndata:\r\n\r\n".encode()
    stream.queue.get_nowait()
    data, _ = stream.queue.get_nowait()
    assert stream.event(data).startswith(f"id: {stream.id}-2\r\n".encode())
    assert (stream.seq, stream.sent) == (2, 2)


def test_what_is_sent_while_no_one_reads_is_kept_and_still_queued_once() -> None:
    store = MemoryEventStore()
    stream = Stream(store)
    stream.keep({}, 10)
    stream.reading = True
    stream.put(b'{"a":1}')
    stream.event(stream.queue.get_nowait()[0])  # written out
    stream.release()  # the client left, or was told to poll
    stream.put(b'{"b":2}')
    stream.put(b'{"id":1,"result":{}}', final=True)
    # A resumption after event 1 finds the rest in the store (another worker reads it there) and,
    # here, still queued: replayed from the store only up to what was written out.
    assert [seq for seq, _ in kept(store, stream.id, 1)] == [2, 3]
    assert stream.sent == 1 and len(stream.queue.items) == 2


def test_a_stream_without_a_store_keeps_nothing_and_has_no_ids() -> None:
    stream = Stream(None)
    stream.put(b'{"a":1}')
    assert stream.seq == 0
    assert stream.event(stream.queue.get_nowait()[0]) == b'event: message\r\ndata: {"a":1}\r\n\r\n'
