"""The read loop's held writes (`WriteHolding`, stdio's `Batched.hold`/`release`): what `Peer.run`
writes while it handles a burst goes out before the loop next waits, whatever it waits for, in one
write per burst (after the answer to its first request, alone), with no flush left for a later loop
turn; what other tasks write is flushed as before.
A real `Batched` over a sink that records each system call's bytes."""

from __future__ import annotations

import asyncio
import logging

import pytest

from mcpbind.aio.interfaces import WriteHolding, defines
from mcpbind.aio.peer import Peer
from mcpbind.protocol.endpoint import IncomingNotification, IncomingRequest
from mcpbind.transports import pipes
from mcpbind.transports.pipes import LARGE, Batched

from ..peer_support import MemoryLines, answer, frame, settle


class Sink:
    """Records each write (one system call's bytes); `seen` is set when `wanted` is among them."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.broken = False
        self.wanted: tuple[bytes, asyncio.Future[None]] | None = None

    def write(self, data: bytes) -> None:
        if self.broken:
            raise BrokenPipeError("the reader is gone")
        self.writes.append(data)
        if self.wanted is not None and self.wanted[0] in data and not self.wanted[1].done():
            self.wanted[1].set_result(None)

    def writelines(self, data: object) -> None:
        self.write(b"".join(data))  # type: ignore[arg-type]

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        return None

    def lines(self) -> list[bytes]:
        return b"".join(self.writes).splitlines()


class Wire(MemoryLines):
    """Lines given from memory; writes through a real `Batched`, as the stdio server transport's."""

    def __init__(self, sink: Sink) -> None:
        super().__init__()
        self.frames = Batched(sink)
        self.written_at_read: list[int] = []
        """How many writes the sink had each time the peer waited for input."""
        self.sink = sink

    def write_nowait(self, data: bytes) -> bool:
        return self.frames.offer(data)

    def hold_writes(self) -> None:
        self.frames.hold()

    def release_writes(self) -> None:
        self.frames.release()

    async def read(self) -> bytes | None:
        self.written_at_read.append(len(self.sink.writes))
        return await self.read_line()

    async def write(self, data: bytes) -> None:
        self.frames.write(data)

    async def close(self) -> None:
        return None


NOTE = b'{"jsonrpc":"2.0","method":"notifications/note"}'


def make_peer(wire: Wire, gate: asyncio.Event) -> Peer:
    async def on_request(event: IncomingRequest) -> bytes:
        if event.method == "slow":
            await gate.wait()
        elif event.method == "tells":
            await wire.write(NOTE)  # a notification ahead of the answer, in its first step
        return answer(event.id)

    async def on_notification(event: IncomingNotification) -> None:
        if event.method == "notifications/ask":
            # Written while the read loop awaits this handler, which then waits for the other side
            # to have it (here: the sink): held until the loop's next read, it would never end.
            seen = asyncio.get_running_loop().create_future()
            wire.sink.wanted = (b"roots/list", seen)
            await wire.write(b'{"jsonrpc":"2.0","id":"s1","method":"roots/list"}')
            await asyncio.wait_for(seen, 30)

    return Peer(wire, on_request=on_request, on_notification=on_notification)


def test_the_stdio_server_transport_holds_writes() -> None:
    from mcpbind.transports.stdio import StdioClientTransport, StdioServerTransport

    assert defines(StdioServerTransport(), "hold_writes") and defines(
        StdioServerTransport(), "release_writes"
    )
    assert not defines(StdioClientTransport("x"), "hold_writes")  # (its reader is no `Peer.run` burst)
    holding: WriteHolding = Wire(Sink())
    assert callable(holding.hold_writes)


def test_a_lone_answer_is_written_before_the_loop_waits_and_a_burst_in_two_writes() -> None:
    async def main() -> None:
        sink = Sink()
        wire = Wire(sink)
        run = asyncio.ensure_future(make_peer(wire, asyncio.Event()).run())
        await settle(lambda: wire.written_at_read)
        wire.give(frame(1, "fast"))
        await settle(lambda: len(wire.written_at_read) == 2)
        # Written by the request's own step, before the loop waited again: not one turn later.
        assert wire.written_at_read == [0, 1] and sink.lines() == [answer(1)]
        wire.give(*[frame(rid, "tells" if rid == 5 else "fast") for rid in range(2, 18)])
        await settle(lambda: len(wire.written_at_read) == 3)
        # The burst: its first answer alone (the other side gets on with it), then the rest in one
        # write, before the next wait.
        assert wire.written_at_read[2] == 3
        assert sink.writes[1].splitlines() == [answer(2)]
        lines = sink.writes[2].splitlines()
        assert lines == [answer(3), answer(4), NOTE] + [answer(rid) for rid in range(5, 18)]
        wire.give(end=True)
        await asyncio.wait_for(run, 5)

    asyncio.run(main())


def test_what_the_loop_writes_while_it_awaits_a_handler_goes_out_meanwhile() -> None:
    async def main() -> None:
        sink = Sink()
        wire = Wire(sink)
        gate = asyncio.Event()
        run = asyncio.ensure_future(make_peer(wire, gate).run())
        # A burst: an answer held, then a notification whose handler waits on what it wrote.
        wire.give(frame(1, "fast"), b'{"jsonrpc":"2.0","method":"notifications/ask"}', frame(2, "slow"))
        await settle(lambda: len(wire.written_at_read) == 1, turns=2000)
        assert sink.lines()[:2] == [answer(1), b'{"jsonrpc":"2.0","id":"s1","method":"roots/list"}']
        # A handler that waited answers from its own task, later: flushed with no further input.
        gate.set()
        await settle(lambda: answer(2) in sink.lines())
        assert wire.written_at_read == [2]  # (the loop still waits: the answer did not need it)
        wire.give(end=True)
        await asyncio.wait_for(run, 5)

    asyncio.run(main())


def test_a_failed_release_is_logged_and_writing_goes_on(caplog: object) -> None:
    async def main() -> None:
        sink = Sink()
        frames = Batched(sink)
        frames.hold()
        sink.broken = True
        frames.write(b"lost")
        frames.release()  # logged, not raised: the read loop reads on
        sink.broken = False
        frames.write(b"next")  # not held: flushed one turn later
        await settle(lambda: sink.writes == [b"next\n"])

    asyncio.run(main())
    assert "could not write to the pipe" in str(getattr(caplog, "text", ""))


def test_release_sends_what_was_held_in_one_write_or_drops_it_when_closing() -> None:
    """One held message goes with its newline, several in one write; a closing sink drops them."""

    class Closing(Sink):
        def is_closing(self) -> bool:
            return True

    async def main() -> None:
        sink = Sink()
        frames = Batched(sink)
        frames.hold()
        frames.write(b"one")
        frames.release()
        frames.hold()
        frames.write(b"two")
        frames.write(b"three")
        frames.release()
        frames.release()  # (nothing held: nothing written)
        assert sink.writes == [b"one\n", b"two\nthree\n"]
        closing = Closing()
        frames = Batched(closing)
        frames.hold()
        assert frames.offer(b"dropped")
        frames.release()
        assert closing.writes == []

    asyncio.run(main())


class _Paused:
    resumed: object = None


def test_send_now_sends_at_once_after_what_waits(caplog: pytest.LogCaptureFixture) -> None:
    """`Batched.send_now` (a stdio server's answer to a read of one line, with no hold around it):
    sent at once; after what waits for a flush or a release, in order, in the same write; refused
    (nothing queued) while the pipe's reader is behind, dropped by a closing sink, a failing sink
    logged."""

    async def main() -> None:
        sink, flow = Sink(), _Paused()
        frames = Batched(sink, flow=flow)
        assert frames.send_now(b"a") and sink.writes == [b"a\n"]
        frames.write(b"b")  # (its flush scheduled for the next turn)
        assert frames.send_now(b"c") and sink.writes == [b"a\n", b"b\nc\n"]
        await asyncio.sleep(0)  # (the flush finds nothing left)
        assert sink.writes == [b"a\n", b"b\nc\n"]
        frames.hold()
        assert frames.send_now(b"d") and sink.writes[-1] == b"d\n"  # (held, nothing waits: at once)
        assert frames.offer(b"e") and frames.send_now(b"f") and sink.writes[-1] == b"d\n"
        frames.release()
        assert sink.writes[-1] == b"e\nf\n"
        large = b"x" * LARGE
        assert frames.send_now(large) and sink.writes[-1] == large + b"\n"
        flow.resumed = object()  # (the client is not reading our output)
        assert not frames.send_now(b"g") and sink.writes[-1] == large + b"\n"
        flow.resumed = None
        sink.broken = True
        with caplog.at_level(logging.ERROR, logger="mcpbind.stdio"):
            assert frames.send_now(b"h")
        assert "could not write to the pipe" in caplog.text
        sink.broken = False
        closing = Batched(_Closing())
        assert closing.send_now(b"i")  # (dropped, as `write` drops it)

    asyncio.run(main())


class _Closing(Sink):
    def is_closing(self) -> bool:
        return True

    def write(self, data: bytes) -> None:
        raise AssertionError("a closing sink is not written to")


def test_a_held_writer_queues_while_held_and_read_and_grows_the_pipe_as_it_flushes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`Batched.held_writer`: while held and the pipe's reader reads, the queue's own `append` (the
    lane's answers to a burst), sent by `release` in order; else `offer`. A message of `LARGE` bytes so
    queued grows the pipe before it is written, as `offer` would have."""
    grown: list[int] = []
    monkeypatch.setattr(pipes, "grow_pipe", grown.append)

    async def main() -> None:
        sink, flow = Sink(), _Paused()
        frames = Batched(sink, pipe=7, flow=flow)
        assert frames.held_writer() == frames.offer  # (not held)
        frames.hold()
        write = frames.held_writer()
        assert write != frames.offer
        assert write(b"a") is None and write(b"b") is None and sink.writes == []
        frames.release()
        assert sink.writes == [b"a\nb\n"] and grown == []
        frames.hold()
        large = b"x" * LARGE
        frames.held_writer()(large)
        frames.release()
        assert grown == [7] and sink.writes[-1] == large + b"\n"
        frames.hold()
        flow.resumed = object()  # (the client is not reading our output)
        assert frames.held_writer() == frames.offer and frames.held_writer()(b"c") is False
        frames.release()
        assert sink.writes[-1] == large + b"\n"

    asyncio.run(main())
