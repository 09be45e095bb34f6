"""Hostile input and load against the core (framing, engine, peer), over stdio to a real subprocess.

The test client here is raw: it writes lines to the server's stdin (anything, including what no real
client would send), reads what comes back, and answers the server's sampling requests itself. After
every hostile input, the next valid request must be answered: the process lives on and loses nothing.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from ..http_support import full_server_over_http as http_server
from ..http_support import open_session

SERVER = str(Path(__file__).resolve().parents[1] / "servers" / "hostile.py")
FULL = str(Path(__file__).resolve().parents[1] / "servers" / "full.py")

Message = dict[str, Any]


def run(coro: Awaitable[Any], timeout: float = 30) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))  # type: ignore[arg-type]


def call(rid: Any, tool: str, **arguments: Any) -> Message:
    return {
        "jsonrpc": "2.0",
        "id": rid,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments},
    }


def initialize(rid: Any, revision: str) -> Message:
    params = {"protocolVersion": revision, "capabilities": {}, "clientInfo": {"name": "x", "version": "0"}}
    return {"jsonrpc": "2.0", "id": rid, "method": "initialize", "params": params}


def ping(rid: Any) -> Message:
    return {"jsonrpc": "2.0", "id": rid, "method": "ping"}


def cancel(rid: Any) -> Message:
    return {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": rid}}


def deep(depth: int) -> bytes:
    """`depth` nested arrays: about 2 bytes a level."""
    return b"[" * depth + b"]" * depth


class RawClient:
    """Lines in, lines out, on a server subprocess; the server's sampling requests are answered (after
    `sample_delay` seconds) unless `sampling` is off; everything else the server sends is kept."""

    def __init__(self, process: asyncio.subprocess.Process, sample_delay: Callable[[], float]) -> None:
        self.process = process
        self.sample_delay = sample_delay
        self.received: list[Any] = []
        self.sampled = 0
        self.arrived = asyncio.Event()
        self._reader = asyncio.ensure_future(self._read())
        self._answering: set[asyncio.Task[None]] = set()
        self.answer_sampling: Callable[[Any], bytes] | None = self._sample_result

    @staticmethod
    def _sample_result(rid: Any) -> bytes:
        result = {"role": "assistant", "content": {"type": "text", "text": "4"}, "model": "m"}
        return json.dumps({"jsonrpc": "2.0", "id": rid, "result": result}).encode()

    async def _read(self) -> None:
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            message = json.loads(line)
            if isinstance(message, dict) and message.get("method") == "sampling/createMessage":
                self.sampled += 1
                if self.answer_sampling is not None:
                    task = asyncio.ensure_future(self._answer(message["id"], self.answer_sampling))
                    self._answering.add(task)
                    task.add_done_callback(self._answering.discard)
                continue
            self.received.append(message)
            self.arrived.set()

    async def _answer(self, rid: Any, answer: Callable[[Any], bytes]) -> None:
        delay = self.sample_delay()
        if delay:
            await asyncio.sleep(delay)
        self.write(answer(rid))

    def write(self, data: bytes | Message | list[Any]) -> None:
        assert self.process.stdin is not None
        line = data if isinstance(data, bytes) else json.dumps(data).encode()
        self.process.stdin.write(line + b"\n")

    async def expect(self, match: Callable[[Any], bool], timeout: float = 5) -> Any:
        """The first message received (or next to come) that `match`es, taken out of `received`."""
        async with asyncio.timeout(timeout):
            while True:
                for i, message in enumerate(self.received):
                    if match(message):
                        return self.received.pop(i)
                self.arrived.clear()
                await self.arrived.wait()

    async def answer_to(self, rid: Any, timeout: float = 5) -> Message:
        message: Message = await self.expect(lambda m: isinstance(m, dict) and m.get("id") == rid, timeout)
        return message

    async def no_id_error(self, timeout: float = 5) -> Message:
        """An error answer naming no request: its id null, as the schemas of 2025-06-18 and earlier
        (the sessions here) ask; left out from 2025-11-25 on."""
        message: Message = await self.expect(lambda m: isinstance(m, dict) and m.get("id") is None, timeout)
        return message

    async def still_serving(self, rid: Any) -> None:
        """The next valid request is answered."""
        self.write(call(rid, "echo", text=f"alive {rid}"))
        answer = await self.answer_to(rid)
        assert answer["result"]["content"][0]["text"] == f"alive {rid}", answer

    async def census(self, rid: Any) -> dict[str, int]:
        self.write(call(rid, "census"))
        answer = await self.answer_to(rid)
        counts: dict[str, int] = json.loads(answer["result"]["content"][0]["text"])
        return counts


@asynccontextmanager
async def raw_server(
    *args: str,
    revision: str = "2025-06-18",
    server: str = SERVER,
    sample_delay: Callable[[], float] = lambda: 0.0,
) -> AsyncIterator[RawClient]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        server,
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        limit=16 * 1024 * 1024,
    )
    client = RawClient(process, sample_delay)
    try:
        params = {
            "protocolVersion": revision,
            "capabilities": {"sampling": {}},
            "clientInfo": {"name": "raw", "version": "0"},
        }
        client.write({"jsonrpc": "2.0", "id": "init", "method": "initialize", "params": params})
        init = await client.answer_to("init", timeout=10)
        assert init["result"]["protocolVersion"] == revision, init
        client.write({"jsonrpc": "2.0", "method": "notifications/initialized"})
        yield client
    finally:
        assert process.stdin is not None and process.stderr is not None
        process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), 10)
        finally:
            if process.returncode is None:
                process.kill()
        stderr = (await process.stderr.read()).decode()
        client._reader.cancel()
        # Hostile input is answered, not logged as a failure of the server.
        assert "Traceback" not in stderr, stderr
        assert process.returncode == 0, stderr


# -- undecodable input ----------------------------------------------------------------------------------


def test_deep_nesting_is_a_parse_error_and_serving_goes_on() -> None:
    """msgspec raises RecursionError (not DecodeError) a few hundred levels down; it used to escape the
    read loop and end the process. Every depth, up to 100,000 levels, is a -32700 answer."""

    async def main() -> None:
        async with raw_server() as client:
            for n, depth in enumerate((1_000, 3_000, 100_000)):
                line = b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":'
                client.write(line + b'{"text":' + deep(depth) + b"}}}")
                error = (await client.no_id_error())["error"]
                assert error["code"] == -32700 and "nested too deeply" in error["message"], error
                await client.still_serving(f"after {depth}")
                # In a notification, and in an answer to a request of ours: nothing is sent back.
                client.write(
                    b'{"jsonrpc":"2.0","method":"notifications/cancelled","params":' + deep(depth) + b"}"
                )
                client.write(b'{"jsonrpc":"2.0","id":1,"result":' + deep(depth) + b"}")
                await client.no_id_error()  # (the notification is bad JSON too)
                await client.no_id_error()
                await client.still_serving(f"after notification {n}")

    run(main())


def test_nesting_that_passes_the_envelope_but_not_the_params_decode() -> None:
    """Just under the depth that stops the envelope, the params decode (deeper in the stack, one level
    further in) is where the RecursionError comes: answered -32700 with the request's id, and no
    traceback (it used to be -32603, logged as an internal error)."""

    async def main() -> None:
        async with raw_server() as client:
            head = (
                b'{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"echo","arguments":{"text":'
            )
            outcomes: dict[int, str] = {}
            for depth in range(900, 1000):
                client.write(head % depth + deep(depth) + b"}}}")
                answer = await client.expect(lambda m, rid=depth: m.get("id") in (rid, None))
                if "result" in answer:
                    assert answer["result"]["isError"], answer  # decoded: a list is no `text`
                    outcomes[depth] = "decoded"
                else:
                    assert answer["error"]["code"] == -32700, answer
                    outcomes[depth] = "params" if answer.get("id") is not None else "envelope"
                await client.still_serving(f"after {depth}")
            assert set(outcomes.values()) == {"decoded", "params", "envelope"}, outcomes

    run(main())


def test_invalid_utf8_in_params_is_a_parse_error() -> None:
    """The envelope skips over params without checking their strings' UTF-8; decoding them found it,
    and the error was answered -32603 with a traceback logged. It is -32700, with the request's id."""

    async def main() -> None:
        async with raw_server() as client:
            client.write(
                b'{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"\xff"}}}'
            )
            error = (await client.answer_to(2))["error"]
            assert error["code"] == -32700 and "UTF-8" in error["message"], error
            await client.still_serving(3)
            client.write(b'{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"ech\xc3"}}')
            assert (await client.answer_to(4))["error"]["code"] == -32700
            # A sampling answer that is not UTF-8: the tool that asked fails (an error result, as any
            # failure of the client's answer to a tool's request is), the server goes on.
            client.answer_sampling = lambda rid: b'{"jsonrpc":"2.0","id":%d,"result":{"model":"\xff"}}' % rid
            client.write(call(5, "think"))
            answer = await client.answer_to(5)
            assert answer["result"]["isError"] is True, answer
            assert "(-32700)" in answer["result"]["content"][0]["text"], answer
            await client.still_serving(6)

    run(main())


def test_invalid_utf8_in_initialize_params_is_a_parse_error() -> None:
    async def main() -> None:
        async with raw_server() as client:
            client.write(
                b'{"jsonrpc":"2.0","id":7,"method":"initialize","params":{"protocolVersion":"\xff"}}'
            )
            assert (await client.answer_to(7))["error"]["code"] == -32700
            await client.still_serving(8)

    run(main())


# -- the concurrency limit --------------------------------------------------------------------------------


def test_answers_are_read_while_every_slot_waits_on_the_client() -> None:
    """64 tools waiting on sampling, and one request more: the read loop used to stop at the limit, so
    the sampling answers were never read (a deadlock until the ask timed out, 300 s)."""

    async def main() -> None:
        async with raw_server(sample_delay=lambda: 0.2) as client:
            for rid in range(65):
                client.write(call(rid, "think"))
            client.write(ping("p"))  # answered at once, whatever waits
            assert (await client.answer_to("p", timeout=1))["result"] == {}
            for rid in range(65):
                answer = await client.answer_to(rid)
                assert answer["result"]["content"][0]["text"] == "model said 4", answer
            assert client.sampled == 65
            await client.still_serving("after")

    run(main())


def test_past_the_limit_requests_queue_then_are_refused_busy() -> None:
    """max_concurrency 2, max_queued 3: two run, three queue (in order), the sixth is refused at once
    with -32000; a queued request that is cancelled leaves the queue and is never answered; pings and
    cancellations get through; each waiter is started when a slot frees (one shared future used to
    leave all but one of them waiting forever)."""

    async def main() -> None:
        async with raw_server("--max-concurrency", "2", "--max-queued", "3") as client:
            client.answer_sampling = None  # the two running tools wait until we answer
            client.write(call("a", "think"))
            client.write(call("b", "think"))
            for rid in ("q1", "q2", "q3"):
                client.write(call(rid, "echo", text=rid))
            client.write(call("refused", "echo", text="no room"))
            error = (await client.answer_to("refused", timeout=2))["error"]
            assert error["code"] == -32000 and error["message"].startswith("Server busy"), error
            client.write(ping("p"))
            assert (await client.answer_to("p", timeout=2))["result"] == {}
            client.write(cancel("q2"))
            client.write(call("q4", "echo", text="q4"))  # the cancelled one's place in the queue
            client.write(call("a", "echo", text="dup"))  # an id in use (running)
            assert (await client.answer_to("a", timeout=2))["error"]["code"] == -32600
            client.write(call("q1", "echo", text="dup"))  # an id in use (queued)
            assert (await client.answer_to("q1", timeout=2))["error"]["code"] == -32600
            await asyncio.sleep(0.2)
            assert not client.received, client.received  # nothing else answered: all queued
            assert client.sampled == 2
            client.answer_sampling = RawClient._sample_result
            for rid in (1, 2):  # the server's request ids: answered now
                client.write(RawClient._sample_result(rid))
            order = [(await client.expect(lambda m: True))["id"] for _ in range(5)]
            assert sorted(order) == ["a", "b", "q1", "q3", "q4"], order
            assert [rid for rid in order if rid.startswith("q")] == ["q1", "q3", "q4"], order  # FIFO
            await asyncio.sleep(0.2)
            assert not client.received, client.received  # q2 never answered
            counts = await client.census("census")
            assert counts == {"tasks": 0, "running": 0, "queued": 0, "batches": 0, "waiting": 0, "pending": 0}

    run(main())


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_a_thousand_requests_with_cancellations_and_sampling_on_one_connection(loop: str) -> None:
    """1,000 requests in flight at once (tools that ask the client, tools that sleep, tools that answer
    at once), a fifth of them cancelled at random moments: each is answered exactly once, or (cancelled)
    not at all, and nothing is left running, queued or awaited afterwards."""

    async def main() -> None:
        rng = random.Random(1000)
        options = ["--uvloop"] if loop == "uvloop" else []
        async with raw_server(*options, sample_delay=lambda: rng.random() * 0.02) as client:
            kinds = {}
            for rid in range(1000):
                kind = rng.choice(["think", "slow", "echo"])
                kinds[rid] = kind
                if kind == "think":
                    client.write(call(rid, "think"))
                elif kind == "slow":
                    client.write(call(rid, "slow", seconds=rng.random() * 0.02))
                else:
                    client.write(call(rid, "echo", text=str(rid)))
            cancelled = set(rng.sample(range(1000), 200))
            for rid in cancelled:
                if rng.random() < 0.5:
                    await asyncio.sleep(0.001)
                client.write(cancel(rid))
            answered: dict[int, int] = {}
            needed = 1000 - len(cancelled)  # at least: a request may be answered before its cancellation
            while True:
                try:
                    # Then a little longer, for any answer sent twice.
                    wait = 2 if len(answered) < needed else 0.3
                    message = await client.expect(lambda m: "id" in m, timeout=wait)
                except TimeoutError:
                    break
                assert "result" in message, message  # no request refused: 1,000 < 64 + 1,024
                answered[message["id"]] = answered.get(message["id"], 0) + 1
            assert set(answered.values()) == {1}, {k: v for k, v in answered.items() if v != 1}
            missing = set(range(1000)) - set(answered)
            assert missing <= cancelled, sorted(missing - cancelled)
            assert client.sampled >= sum(1 for k in kinds.values() if k == "think") - len(cancelled)
            counts = await client.census("census")
            assert counts == {"tasks": 0, "running": 0, "queued": 0, "batches": 0, "waiting": 0, "pending": 0}
            await client.still_serving("after")

    run(main(), timeout=60)


# -- batches (2025-03-26) ------------------------------------------------------------------------------


def test_a_batch_whose_tool_asks_the_client_finishes() -> None:
    """The read loop used to wait for the whole batch: the sampling answer its tool waited for was never
    read. Now the batch is answered in a task of its own, as one array, and reading goes on."""

    async def main() -> None:
        async with raw_server(revision="2025-03-26") as client:
            client.write([call(1, "think"), ping(2), call(3, "echo", text="x")])
            answer = await client.expect(lambda m: isinstance(m, list))
            assert sorted(m["id"] for m in answer) == [1, 2, 3], answer
            by_id = {m["id"]: m for m in answer}
            assert by_id[1]["result"]["content"][0]["text"] == "model said 4"
            await client.still_serving(4)

    run(main())


def test_batch_edge_cases() -> None:
    """An empty batch is one -32600 error object, not an array; bad JSON that starts like a batch is
    one -32700 object; a duplicate id inside a batch is refused, not run twice; a malformed item gets
    its error inside the array."""

    async def main() -> None:
        async with raw_server(revision="2025-03-26") as client:
            client.write(b"[]")
            empty = await client.expect(lambda m: True)
            assert isinstance(empty, dict) and empty["error"]["code"] == -32600, empty
            client.write(b"[1,")
            broken = await client.expect(lambda m: True)
            assert isinstance(broken, dict) and broken["error"]["code"] == -32700, broken
            client.write(b"[" + deep(5000) + b"]")
            too_deep = await client.expect(lambda m: True)
            assert isinstance(too_deep, dict) and too_deep["error"]["code"] == -32700, too_deep
            client.write([call(7, "echo", text="first"), call(7, "echo", text="second"), 42])
            answer = await client.expect(lambda m: True)
            assert isinstance(answer, list) and len(answer) == 3, answer
            results = [m for m in answer if "result" in m]
            errors = sorted((str(m.get("id")), m["error"]["code"]) for m in answer if "error" in m)
            assert [m["result"]["content"][0]["text"] for m in results] == ["first"], answer
            assert errors == [("7", -32600), ("None", -32600)], answer
            await client.still_serving(8)

    run(main())


def test_initialize_in_a_batch_is_refused() -> None:
    """MCP 2025-03-26, the revision with batches: "The initialize request MUST NOT be part of a
    JSON-RPC batch". It was served: a session's connection negotiated anew (to 2024-11-05, which has
    no batches, so that its next batch was refused whole). Now that item is -32600 in the array, the
    rest of the batch is served, and the session keeps its revision."""

    async def main() -> None:
        async with raw_server(revision="2025-03-26") as client:
            again = initialize("again", "2024-11-05")
            client.write([again, ping("beside")])
            answer = await client.expect(lambda m: isinstance(m, list))
            by_id = {m["id"]: m for m in answer}
            assert by_id["again"]["error"]["code"] == -32600 and "batch" in by_id["again"]["error"]["message"]
            assert by_id["beside"]["result"] == {}, answer
            client.write([ping("still")])  # still 2025-03-26: batches are still taken
            assert (await client.expect(lambda m: isinstance(m, list))) == [
                {"jsonrpc": "2.0", "id": "still", "result": {}}
            ]

    run(main())


def test_a_second_initialize_is_refused_and_the_session_kept() -> None:
    """A session is initialized once. A second `initialize` (alone, not in a batch) was answered: the
    session negotiated anew, its revision (here 2025-03-26 to 2024-11-05, which has no batches) and
    its client's capabilities (sampling, here dropped) replaced under it. Now it is -32600 with its
    id, and the session is as it was."""

    async def main() -> None:
        async with raw_server(revision="2025-03-26") as client:
            again = initialize("again", "2024-11-05")
            client.write(again)
            refused = await client.answer_to("again")
            assert refused["error"]["code"] == -32600, refused
            assert "initialized already (revision 2025-03-26)" in refused["error"]["message"]
            client.write([ping("still")])  # still 2025-03-26: batches are still taken
            assert (await client.expect(lambda m: isinstance(m, list))) == [
                {"jsonrpc": "2.0", "id": "still", "result": {}}
            ]
            client.write(call("sample", "think"))  # the client's sampling capability is still its own
            answer = await client.answer_to("sample", timeout=10)
            assert "isError" not in answer["result"] and client.sampled == 1, answer

    run(main())


def test_batches_keep_to_the_concurrency_limit() -> None:
    """A batch used to run all its requests at once, past `max_concurrency`; now they run, queue and are
    refused as any other requests (the refusals inside the batch's array)."""

    async def main() -> None:
        async with raw_server("--max-concurrency", "2", "--max-queued", "1", revision="2025-03-26") as client:
            client.write([call(i, "slow", seconds=0.2) for i in range(5)])
            client.write(ping("p"))  # read and answered while the batch runs
            assert (await client.answer_to("p", timeout=1))["result"] == {}
            answer = await client.expect(lambda m: isinstance(m, list))
            codes = sorted(m["error"]["code"] for m in answer if "error" in m)
            assert len(answer) == 5 and codes == [-32000, -32000], answer
            assert sum(1 for m in answer if "result" in m) == 3
            # A cancelled request of a batch is left out of its array.
            client.write([call(10, "slow", seconds=5), call(11, "echo", text="kept")])
            client.write(cancel(10))
            answer = await client.expect(lambda m: isinstance(m, list), timeout=2)
            assert [m["id"] for m in answer] == [11], answer
            counts = await client.census("census")
            assert counts == {"tasks": 0, "running": 0, "queued": 0, "batches": 0, "waiting": 0, "pending": 0}

    run(main())


def test_a_batch_over_http_carries_its_server_request_on_the_stream() -> None:
    """Over HTTP, the batch path dropped what its requests sent before the answer: the sampling request
    never reached the client, and the POST ended in 504 after 300 s. It now streams (SSE) the sampling
    request, takes its answer in another POST, and ends with the batch's array."""

    async def main() -> None:
        async with http_server() as url, httpx.AsyncClient(timeout=10) as http:
            session = await open_session(http, url, "2025-03-26", capabilities={"sampling": {}})
            batch = [call(1, "think"), ping(2)]
            events: list[Any] = []
            async with http.stream("POST", url, json=batch, headers=session.headers()) as response:
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/event-stream")
                async for line in response.aiter_lines():
                    if not line.startswith("data:") or not line[5:].strip():
                        continue
                    message = json.loads(line[5:])
                    events.append(message)
                    if isinstance(message, dict) and message.get("method") == "sampling/createMessage":
                        answered = await http.post(
                            url,
                            json=json.loads(RawClient._sample_result(message["id"])),
                            headers=session.headers(),
                        )
                        assert answered.status_code == 202
            assert [e["method"] for e in events[:-1]] == ["sampling/createMessage"], events
            final = events[-1]
            assert isinstance(final, list) and sorted(m["id"] for m in final) == [1, 2], final
            assert {m["id"]: m for m in final}[1]["result"]["content"][0]["text"] == "model said 4"

    run(main())


def test_a_request_cancelled_in_the_same_read_that_started_it() -> None:
    """The handler's task is cancelled before its first step: the cancellation used to be lost (the
    handler slept on, its request stayed running, its slot taken for good)."""

    async def main() -> None:
        async with raw_server("--max-concurrency", "1") as client:
            assert client.process.stdin is not None
            lines = [call(1, "slow", seconds=30), cancel(1), call(2, "echo", text="next")]
            client.process.stdin.write(b"".join(json.dumps(m).encode() + b"\n" for m in lines))
            answer = await client.answer_to(2, timeout=2)  # the one slot is free again
            assert answer["result"]["content"][0]["text"] == "next"
            counts = await client.census("census")
            assert counts == {"tasks": 0, "running": 0, "queued": 0, "batches": 0, "waiting": 0, "pending": 0}
            assert not client.received  # 1 was never answered

    run(main())
