"""`Peer` over a `BufferedTransport` (stdio's contract): messages already read are taken and answers with
room to go are queued with no coroutine, and every other case keeps its path: a handler that waits,
its cancellation, output the client is not reading (flow control), failures in a handler's first step,
batches, and a peer that routes its answers itself."""

from __future__ import annotations

import asyncio

from mcpbind.aio.interfaces import BufferedTransport
from mcpbind.aio.peer import Peer
from mcpbind.protocol.endpoint import IncomingNotification, IncomingRequest

from ..peer_support import MemoryLines, answer, frame, settle


class Buffered(MemoryLines):
    """Lines waiting in memory; `paused` stands for a client that does not read our output."""

    def __init__(self, lines: list[bytes]) -> None:
        super().__init__(lines)
        self.out: list[bytes] = []
        self.via_write: list[bytes] = []
        self.reads = 0
        self.paused = False
        self.resumed: asyncio.Future[None] | None = None

    async def read(self) -> bytes | None:
        self.reads += 1
        return await self.read_line()

    def write_nowait(self, data: bytes) -> bool:
        if self.paused:
            return False
        self.out.append(data)
        return True

    async def write(self, data: bytes) -> None:
        self.out.append(data)
        self.via_write.append(data)
        if self.paused:
            self.resumed = asyncio.get_running_loop().create_future()
            await self.resumed

    def resume(self) -> None:
        self.paused = False
        if self.resumed is not None:
            self.resumed.set_result(None)

    async def close(self) -> None:
        return None


def make_peer(wire: Buffered, gate: asyncio.Event, peer_type: type[Peer] = Peer) -> Peer:
    async def on_request(event: IncomingRequest) -> bytes:
        if event.method == "slow":
            await gate.wait()
        elif event.method == "cancels":
            raise asyncio.CancelledError
        elif event.method == "breaks":
            raise RuntimeError("a broken handler")
        return answer(event.id)

    async def on_notification(event: IncomingNotification) -> None:
        return None

    return peer_type(wire, on_request=on_request, on_notification=on_notification)


def test_the_stdio_transport_is_buffered() -> None:
    from mcpbind.transports.stdio import StdioServerTransport

    assert isinstance(StdioServerTransport(), BufferedTransport)
    assert isinstance(Buffered([]), BufferedTransport)


def test_a_burst_is_taken_and_answered_with_no_read_or_task() -> None:
    async def main() -> None:
        wire = Buffered([frame(i, "fast") for i in range(1, 6)])
        peer = make_peer(wire, asyncio.Event())
        run = asyncio.ensure_future(peer.run())
        await settle(lambda: len(wire.out) == 5)
        assert wire.out == [answer(i) for i in range(1, 6)]
        assert wire.reads == 1 and not wire.via_write  # one read, after the burst: the next line
        assert not peer.running
        wire.give(end=True)
        await asyncio.wait_for(run, 5)

    asyncio.run(main())


def test_a_waiting_handler_is_answered_later_and_a_cancelled_one_never() -> None:
    async def main() -> None:
        gate = asyncio.Event()
        wire = Buffered([frame(1, "slow"), frame(2, "slow"), frame(3, "fast")])
        peer = make_peer(wire, gate)
        run = asyncio.ensure_future(peer.run())
        await settle(lambda: wire.out == [answer(3)])
        assert set(peer.running) == {1, 2}  # the waiting ones run as tasks, the fast one did not
        assert peer.cancel_incoming(2)
        await settle(lambda: set(peer.running) == {1})
        gate.set()
        await settle(lambda: not peer.running)
        assert wire.out == [answer(3), answer(1)]  # 2 was cancelled: no answer
        wire.give(end=True)
        await asyncio.wait_for(run, 5)

    asyncio.run(main())


def test_an_answer_the_client_is_not_reading_waits_holding_its_slot() -> None:
    async def main() -> None:
        wire = Buffered([frame(1, "fast")])
        wire.paused = True
        peer = make_peer(wire, asyncio.Event())
        run = asyncio.ensure_future(peer.run())
        await settle(lambda: wire.via_write == [answer(1)])
        assert set(peer.running) == {1}  # its answer is written and waits for the client
        wire.resume()
        await settle(lambda: not peer.running)
        wire.give(frame(2, "fast"), end=True)
        await asyncio.wait_for(run, 5)
        assert wire.out == [answer(1), answer(2)] and wire.via_write == [answer(1)]

    asyncio.run(main())


def test_a_first_step_that_is_cancelled_or_breaks_answers_nothing_and_serving_goes_on() -> None:
    async def main() -> None:
        wire = Buffered([frame(1, "cancels"), frame(2, "breaks"), frame(3, "fast")])
        peer = make_peer(wire, asyncio.Event())
        run = asyncio.ensure_future(peer.run())
        await settle(lambda: wire.out == [answer(3)])
        assert not peer.running
        wire.give(frame(1, "fast"), frame(2, "fast"), end=True)  # their ids are free again
        await asyncio.wait_for(run, 5)
        assert wire.out == [answer(3), answer(1), answer(2)]

    asyncio.run(main())


def test_a_batch_is_answered_as_one_array() -> None:
    async def main() -> None:
        wire = Buffered([b"[" + frame(1, "fast") + b"," + frame(2, "fast") + b"]"])

        async def on_request(event: IncomingRequest) -> bytes:
            return answer(event.id)

        async def on_notification(event: IncomingNotification) -> None:
            return None

        peer = Peer(wire, on_request=on_request, on_notification=on_notification, allow_batch=lambda: True)
        wire.give(end=True)
        await asyncio.wait_for(peer.run(), 5)
        assert wire.out == [b"[" + answer(1) + b"," + answer(2) + b"]"]

    asyncio.run(main())


def test_a_peer_that_routes_its_answers_gets_every_one() -> None:
    routed: list[bytes] = []

    class Routing(Peer):
        async def respond(self, event: IncomingRequest, reply: bytes) -> None:
            routed.append(reply)

    async def main() -> None:
        wire = Buffered([frame(1, "fast"), frame(2, "fast")])
        wire.give(end=True)
        peer = make_peer(wire, asyncio.Event(), Routing)
        await asyncio.wait_for(peer.run(), 5)
        assert routed == [answer(1), answer(2)] and not wire.out

    asyncio.run(main())


def test_over_stdio_requests_are_waited_for_on_the_reader_and_read_only_for_what_a_wait_leaves() -> None:
    """Over real pipes, one request at a time: the peer waits on the pipe reader's future
    (`wait_buffered`) and takes each line with `read_buffered`, calling `read` only for what that
    leaves: an oversized line's error (answered -32600, in its turn) and the end of input."""
    import json
    import os

    from mcpbind.server import Server
    from mcpbind.transports.stdio import StdioServerTransport

    async def main() -> None:
        server = Server("waits", "1.0.0")

        @server.tool()
        async def echo(text: str) -> str:
            return text

        loop = asyncio.get_running_loop()
        in_r, in_w = os.pipe()
        out_r, out_w = os.pipe()
        transport = StdioServerTransport(
            os.fdopen(in_r, "rb", buffering=0), os.fdopen(out_w, "wb", buffering=0), max_line=1000
        )
        await transport.start()
        reads = 0
        plain_read = transport.read

        async def counted() -> bytes | None:
            nonlocal reads
            reads += 1
            return await plain_read()

        transport.read = counted  # type: ignore[method-assign]  # (counts the peer's reads)
        serving = asyncio.ensure_future(server.serve(transport))
        got = b""

        async def ask(line: bytes) -> dict[str, object]:
            nonlocal got
            os.write(in_w, line + b"\n")
            while b"\n" not in got:
                chunk = await asyncio.wait_for(loop.run_in_executor(None, os.read, out_r, 65536), 20)
                assert chunk, "the server closed its output"
                got += chunk
            answer, got = got.split(b"\n", 1)
            return dict(json.loads(answer))

        def call(rid: int, text: str) -> bytes:
            params = {"name": "echo", "arguments": {"text": text}}
            return json.dumps(
                {"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": params}
            ).encode()

        try:
            init = {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "0"},
            }
            assert (
                await ask(
                    json.dumps({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": init}).encode()
                )
            )["id"] == 0
            os.write(in_w, b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
            for rid in (1, 2, 3):
                assert (await ask(call(rid, f"hello {rid}")))["result"] == {
                    "content": [{"type": "text", "text": f"hello {rid}"}],
                }
            assert reads == 0
            refused = await ask(call(4, "x" * 2000))
            error = refused["error"]
            assert "id" not in refused and isinstance(error, dict) and error["code"] == -32600
            assert (await ask(call(5, "after")))["id"] == 5
            assert reads == 1
        finally:
            os.close(in_w)
        await asyncio.wait_for(serving, 20)
        assert reads == 2  # (the end of input)
        os.close(out_r)

    asyncio.run(main())
