"""`aio.outgoing.Requester`: answers resolve their requests with no event made, results that do not
decode fail only their own request (with the method's error), and requests with different timeouts,
alternating, each expire at their own deadline (the queue of the last timeout is kept per requester)."""

from __future__ import annotations

import asyncio
import gc
import weakref
from typing import Any

import msgspec
import pytest

from mcpbind.aio.outgoing import Requester
from mcpbind.errors import McpError, RequestTimeout, SessionClosed
from mcpbind.protocol import jsonrpc
from mcpbind.protocol.endpoint import Answered, Endpoint, Failed


class _Sent:
    """A transport that keeps what it is given (the requests' bytes); nothing is ever read."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    async def read(self) -> bytes | None:
        return None

    async def write(self, data: bytes) -> None:
        self.sent.append(data)

    async def close(self) -> None:
        return None


class _Point(msgspec.Struct):
    x: int


_decode_point = msgspec.json.Decoder(_Point).decode


def test_answers_resolve_their_own_requests_and_bad_results_fail_only_theirs() -> None:
    async def main() -> None:
        requester = Requester(_Sent(), Endpoint())
        calls = [
            asyncio.ensure_future(requester.request("points/get", None, _decode_point, timeout=30.0))
            for _ in range(4)
        ]
        await asyncio.sleep(0)  # (each is sent: ids 1..4)
        requester.answered(3, msgspec.Raw(b'{"x":3}'))
        requester.answered(1, msgspec.Raw(b'{"x":"one"}'))  # the method's type refuses it
        requester.answered(2, msgspec.Raw(b'{"x":'))  # no JSON after all
        requester.answered(9, msgspec.Raw(b'{"x":9}'))  # answers nothing we wait for: dropped
        requester.answered(4, msgspec.Raw(b'{"x":4}'))
        requester.answered(4, msgspec.Raw(b'{"x":5}'))  # a second answer to 4: dropped
        assert (await calls[2]).x == 3 and (await calls[3]).x == 4
        with pytest.raises(McpError) as invalid:
            await calls[0]
        assert invalid.value.code == jsonrpc.INVALID_PARAMS
        assert "invalid result for points/get" in str(invalid.value)
        with pytest.raises(McpError) as unreadable:
            await calls[1]
        assert unreadable.value.code == jsonrpc.PARSE_ERROR
        assert "the answer to points/get could not be read" in str(unreadable.value)
        assert requester.awaited == 0 and requester.endpoint.pending == 0

    asyncio.run(main())


def test_alternating_timeouts_each_expire_at_their_own_deadline() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        requester = Requester(_Sent(), Endpoint())
        start = loop.time()
        ended: dict[int, float] = {}

        async def one(i: int, timeout: float) -> Any:
            try:
                return await requester.request("points/get", None, _decode_point, timeout=timeout)
            finally:
                ended[i] = loop.time() - start

        # Short, long, short, long (ids 1 to 4): the kept queue changes at every request.
        timeouts = [0.1, 30.0, 0.2, 30.0]
        tasks = [asyncio.ensure_future(one(i, t)) for i, t in enumerate(timeouts)]
        await asyncio.wait([tasks[0], tasks[2]], timeout=20)
        assert sorted(ended) == [0, 2]
        assert ended[0] >= 0.1 - 0.01 and ended[2] >= 0.2 - 0.01
        for short in (tasks[0], tasks[2]):
            assert isinstance(short.exception(), RequestTimeout)
        assert not tasks[1].done() and not tasks[3].done()
        # The long ones still wait, and resolve with their answers.
        requester.answered(2, msgspec.Raw(b'{"x":2}'))
        requester.answered(4, msgspec.Raw(b'{"x":4}'))
        assert (await tasks[1]).x == 2 and (await tasks[3]).x == 4
        assert requester.awaited == 0 and requester.endpoint.pending == 0
        requester.fail_awaited("done")

    asyncio.run(main())


def test_callbacks_count_their_changes() -> None:
    from mcpbind.client.inbound import InputCallbacks

    async def sample(params: dict[str, Any]) -> Any:
        return {}

    callbacks = InputCallbacks(None, None, None)
    before, offered = callbacks.changes, callbacks.offered()
    callbacks.sampling = sample
    assert callbacks.changes != before and callbacks.offered() != offered


def test_one_table_holds_each_request_and_its_future() -> None:
    """The endpoint's table of pending requests holds each request's future too: error answers read
    the general way (`Endpoint.receive`, then `settle`) and the close fail the right requests, and a
    request whose params cannot be encoded raises before anything waits for its answer."""

    async def main() -> None:
        transport = _Sent()
        requester = Requester(transport, Endpoint())
        with pytest.raises(TypeError):
            await requester.request("points/get", {"x": object()}, _decode_point, timeout=30.0)
        assert requester.awaited == 0 and requester.endpoint.pending == 0
        calls = [
            asyncio.ensure_future(requester.request("points/get", {"n": n}, _decode_point, timeout=30.0))
            for n in range(3)
        ]
        await asyncio.sleep(0)  # (each is sent: ids 2..4, the refused request had 1)
        assert [msgspec.json.decode(sent)["id"] for sent in transport.sent] == [2, 3, 4]
        assert requester.awaited == 3
        refusal = b'{"jsonrpc":"2.0","id":3,"error":{"code":-32601,"message":"no such method"}}'
        for event in requester.endpoint.receive(refusal):
            assert isinstance(event, Failed)
            requester.settle(event)
        with pytest.raises(McpError) as refused:
            await calls[1]
        assert refused.value.code == jsonrpc.METHOD_NOT_FOUND
        for event in requester.endpoint.receive(b'{"jsonrpc":"2.0","id":2,"result":{"x":2}}'):
            assert isinstance(event, Answered)
            requester.settle(event)
        assert (await calls[0]).x == 2
        requester.fail_awaited("the test closed")
        with pytest.raises(SessionClosed, match="before points/get was answered"):
            await calls[2]
        assert requester.awaited == 0

    asyncio.run(main())


def test_an_answered_request_leaves_nothing_of_its_answer_behind() -> None:
    """Its timeout's queue holds its id, not its future: the result is freed as soon as the caller
    drops it, not when the queue is swept; a request still awaited expires all the same."""

    class Held(msgspec.Struct, weakref=True):
        x: int

    decode = msgspec.json.Decoder(Held).decode

    async def main() -> None:
        requester = Requester(_Sent(), Endpoint())
        call = asyncio.ensure_future(requester.request("points/get", None, decode, timeout=30.0))
        waiting = asyncio.ensure_future(requester.request("points/get", None, decode, timeout=0.05))
        await asyncio.sleep(0)
        requester.answered(1, msgspec.Raw(b'{"x":1}'))
        point = weakref.ref(await call)
        del call
        await asyncio.sleep(0)  # (the loop lets go of the task that made the call)
        gc.collect()
        assert point() is None
        with pytest.raises(RequestTimeout):
            await waiting
        assert requester.awaited == 0
        requester.fail_awaited("done")

    asyncio.run(main())


class _Posts:
    """A transport that takes requests with their method and params (`write_request`), as HTTP does:
    each POST waits `wait` seconds, then delivers its answer (`answer`: before it returns, as an inline
    JSON body is) or leaves it to come later (as an SSE stream's)."""

    def __init__(self, wait: float = 0.0, answer: bool = True) -> None:
        self.wait = wait
        self.answer = answer
        self.requester: Requester | None = None
        self.timeouts: list[float | None] = []

    async def read(self) -> bytes | None:
        return None

    async def write(self, data: bytes) -> None:
        raise AssertionError("requests go through write_request")

    async def write_request(
        self, data: bytes, rid: Any, method: str, params: Any, timeout: float | None
    ) -> None:
        self.timeouts.append(timeout)
        if self.wait:
            await asyncio.sleep(self.wait)
        if self.answer:
            assert self.requester is not None
            self.requester.answered(rid, msgspec.Raw(b'{"x":%d}' % rid))

    async def close(self) -> None:
        return None


def _posting(transport: _Posts) -> Requester:
    requester = Requester(transport, Endpoint())
    transport.requester = requester
    return requester


def test_an_answer_delivered_with_its_post_queues_no_deadline() -> None:
    """The transport bounds its POST by the request's timeout (it is given it) and delivers the answer
    before it returns: nothing is left in the timeout's queue for it."""

    async def main() -> None:
        transport = _Posts()
        requester = _posting(transport)
        for _ in range(3):
            assert (await requester.request("points/get", None, _decode_point, timeout=30.0)).x >= 1
        assert transport.timeouts == [30.0] * 3
        assert requester._deadlines is None or len(requester._deadlines) == 0
        assert requester.awaited == 0
        requester.fail_awaited("done")

    asyncio.run(main())


def test_an_answer_still_to_come_expires_at_the_deadline_counted_from_its_sending() -> None:
    """An answer that does not come with its POST (a stream's) is awaited to the request's own
    deadline, counted from when the request was sent, not from when its POST returned."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        requester = _posting(_Posts(wait=0.15, answer=False))
        start = loop.time()
        with pytest.raises(RequestTimeout):
            await requester.request("points/get", None, _decode_point, timeout=0.3)
        took = loop.time() - start
        assert 0.3 - 0.01 <= took < 0.3 + 0.15 - 0.02
        assert requester.awaited == 0
        requester.fail_awaited("done")

    asyncio.run(main())


def test_a_post_that_outlasts_the_timeout_times_the_request_out_even_if_answered() -> None:
    """A POST that waited past the request's timeout (for the session's stream, an authorization
    flow): the request timed out, whatever came meanwhile, as its timer would have had it."""

    async def main() -> None:
        cancelled: list[Any] = []

        async def on_cancel(rid: Any) -> None:
            cancelled.append(rid)

        requester = _posting(_Posts(wait=0.1))
        with pytest.raises(RequestTimeout):
            await requester.request("points/get", None, _decode_point, timeout=0.05, on_cancel=on_cancel)
        assert cancelled == [1]
        assert requester.awaited == 0
        requester.fail_awaited("done")

    asyncio.run(main())


def test_answers_to_come_expire_in_deadline_order_whatever_order_their_posts_returned() -> None:
    """Requests whose POSTs return out of order (a slow head first, a quick one after) still expire
    each at its own deadline: the later-queued, earlier deadline goes first."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        slow, quick = _Posts(wait=0.15, answer=False), _Posts(answer=False)
        requester = _posting(slow)
        start = loop.time()
        ended: dict[str, float] = {}

        async def one(name: str) -> None:
            try:
                await requester.request("points/get", None, _decode_point, timeout=0.4)
            except RequestTimeout:
                ended[name] = loop.time() - start

        first = asyncio.ensure_future(one("first"))  # its POST returns at 0.15
        await asyncio.sleep(0.05)
        requester._write_request = quick.write_request  # (the second's returns at once, at 0.05)
        second = asyncio.ensure_future(one("second"))
        await asyncio.wait([first, second], timeout=5)
        assert ended["first"] >= 0.4 - 0.01 and ended["second"] >= 0.45 - 0.01
        assert ended["first"] < ended["second"] < 0.45 + 0.1
        requester.fail_awaited("done")

    asyncio.run(main())
