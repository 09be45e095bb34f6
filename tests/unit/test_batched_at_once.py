"""`Batched(at_once=True)`, the stdio client's writer: unheld, each message is sent at once (no flush
left for a later loop turn); `hold_for_turn` queues what the callbacks already scheduled write and
sends it in one write at the end of their turn, then writes at once again. A real `Batched` over a
sink that records each system call's bytes."""

from __future__ import annotations

import asyncio

from mcpbind.transports.pipes import LARGE, Batched


class Sink:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def writelines(self, data: object) -> None:
        self.write(b"".join(data))  # type: ignore[arg-type]

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True


def test_unheld_each_message_goes_at_once() -> None:
    sink = Sink()
    frames = Batched(sink, at_once=True)
    frames.write(b"one")
    assert sink.writes == [b"one\n"]
    frames.write(b"two")
    assert sink.writes == [b"one\n", b"two\n"]
    sink.closing = True
    frames.write(b"dropped")  # (as a closing pipe drops it)
    assert sink.writes == [b"one\n", b"two\n"]


def test_held_for_a_turn_the_callers_already_woken_write_once_at_its_end() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        sink = Sink()
        frames = Batched(sink, at_once=True)
        seen: list[int] = []
        # Callers woken before the hold (as a read's answers wake them), writing when they run.
        for i in range(3):
            loop.call_soon(frames.write, f"request {i}".encode())
        frames.hold_for_turn(loop)
        frames.hold_for_turn(loop)  # (held already: one release)
        assert sink.writes == []
        loop.call_soon(lambda: seen.append(len(sink.writes)))  # the next thing that runs after them
        await asyncio.sleep(0)
        assert seen == [1]
        assert sink.writes == [b"request 0\nrequest 1\nrequest 2\n"]
        frames.write(b"after")  # released: at once again
        assert sink.writes[-1] == b"after\n"
        await asyncio.sleep(0)
        assert len(sink.writes) == 2  # nothing left for a later flush

    asyncio.run(main())


def test_a_hold_with_nothing_written_sends_nothing() -> None:
    async def main() -> None:
        sink = Sink()
        frames = Batched(sink, at_once=True)
        frames.hold_for_turn(asyncio.get_running_loop())
        await asyncio.sleep(0)
        assert sink.writes == []
        frames.write(b"x")
        assert sink.writes == [b"x\n"]

    asyncio.run(main())


class Flow:
    """A pipe's flow control as `Batched.offer` reads it: `resumed` is not None while paused."""

    def __init__(self) -> None:
        self.resumed: object = None


def test_offer_at_once_sends_each_message_and_declines_while_paused() -> None:
    """`offer`, the stdio client's every request: as `write` at once, a lone message (a large one
    with its newline in the same system call), queued while held, and declined (nothing queued,
    False) while the server's stdin is full."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        sink, flow = Sink(), Flow()
        frames = Batched(sink, None, flow, at_once=True)
        assert frames.offer(b"one") and sink.writes == [b"one\n"]
        large = b"x" * LARGE
        assert frames.offer(large) and sink.writes[-1] == large + b"\n"
        frames.hold_for_turn(loop)
        assert frames.offer(b"two") and frames.offer(b"three")
        assert len(sink.writes) == 2
        await asyncio.sleep(0)
        assert sink.writes[-1] == b"two\nthree\n"
        flow.resumed = True  # (paused)
        assert not frames.offer(b"declined")
        flow.resumed = None
        assert frames.offer(b"four") and sink.writes[-1] == b"four\n"
        assert len(sink.writes) == 4
        sink.closing = True
        assert frames.offer(b"dropped") and len(sink.writes) == 4  # (as a closing pipe drops it)

    asyncio.run(main())
