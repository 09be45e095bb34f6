"""Several workers sharing a real Redis: any worker serves any request of any client.

Two server processes on two ports (what a load balancer in front of them sees), or `run_http(workers=2)`
on one port; a session opened on one is served by the other, a stream whose worker was killed is resumed
on another, a change made on one reaches listeners on the other, a multi round-trip retry lands anywhere."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from ..http_support import (
    Session,
    call,
    messages_of,
    modern,
    modern_headers,
    open_session,
    request,
    serve,
)
from ..redis_support import RedisServer

SCALED = str(Path(__file__).resolve().parents[1] / "servers" / "scaled.py")
SECRET = "5e" * 32
WAIT = 20.0


def run(coro: Any) -> None:
    asyncio.run(asyncio.wait_for(coro, 90))


@contextmanager
def workers(redis_url: str, count: int = 2, *extra: str) -> Iterator[list[str]]:
    """`count` server processes on their own ports, sharing `redis_url` and the requestState secret."""
    with ExitStack() as stack:
        yield [
            stack.enter_context(serve(SCALED, "--redis", redis_url, "--secret", SECRET, *extra))
            for _ in range(count)
        ]


async def events(response: httpx.Response) -> AsyncIterator[tuple[str | None, dict[str, Any]]]:
    """The (id, message) of each event of an SSE response, as it comes (events without data skipped)."""
    event_id: str | None = None
    data: list[str] = []
    async for line in response.aiter_lines():
        if line.startswith("id:"):
            event_id = line[3:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip(" "))
        elif line == "":
            if data and any(data):
                yield event_id, json.loads("\n".join(data))
            event_id, data = None, []


async def pid_of(http: httpx.AsyncClient, url: str, session: Session | None = None) -> int:
    if session is None:
        message = modern(90, "tools/call", {"name": "pid", "arguments": {}})
        response = await http.post(url, json=message, headers=modern_headers(message))
    else:
        response = await http.post(url, json=call(90, "pid"), headers=session.headers())
    (answer,) = [m for m in messages_of(response) if m.get("id") == 90]
    return int(answer["result"]["structuredContent"]["result"])


def test_a_session_opened_on_one_worker_is_served_by_another(redis_server: RedisServer) -> None:
    async def main(one: str, two: str) -> None:
        async with httpx.AsyncClient(timeout=WAIT) as http:
            session = await open_session(http, one, "2025-11-25")
            assert await pid_of(http, one, session) != await pid_of(http, two, session)
            level = request(2, "logging/setLevel", {"level": "debug"})
            assert (await http.post(two, json=level, headers=session.headers())).status_code == 200
            # The level set on worker two is the one worker one logs at (debug reaches the client).
            shouted = await http.post(one, json=call(3, "shout"), headers=session.headers())
            logged = [
                m["params"]["level"]
                for m in messages_of(shouted)
                if m.get("method") == "notifications/message"
            ]
            assert logged == ["debug", "warning"], logged
            echoed = await http.post(two, json=call(4, "echo", {"text": "moved"}), headers=session.headers())
            assert messages_of(echoed)[-1]["result"]["content"][0]["text"] == "moved"
            # Ending it on one ends it on both.
            assert (await http.delete(one, headers=session.headers())).status_code == 200
            gone = await http.post(two, json=call(5, "echo", {"text": "x"}), headers=session.headers())
            assert gone.status_code == 404

    with workers(redis_server.url) as (one, two):
        run(main(one, two))


def test_a_stream_is_resumed_on_another_worker_after_its_worker_is_killed(redis_server: RedisServer) -> None:
    async def main(one: str, two: str) -> None:
        async with httpx.AsyncClient(timeout=WAIT) as http:
            session = await open_session(http, one, "2025-11-25")
            doomed = await pid_of(http, one, session)
            message = call(2, "stream_then_wait", {"steps": 3}, _meta={"progressToken": "t"})
            seen: list[tuple[str | None, dict[str, Any]]] = []
            async with http.stream("POST", one, json=message, headers=session.headers()) as response:
                assert response.headers["content-type"].startswith("text/event-stream")
                async for event in events(response):
                    seen.append(event)
                    if len(seen) == 3:
                        break
            assert [m["params"]["progress"] for _, m in seen] == [1, 2, 3]
            # Every event is in Redis once written out: wait for all three (bounded), then kill the worker.
            client = redis.Redis.from_url(redis_server.url)
            key = f"mcpbind:events:{session.id}"
            deadline = time.monotonic() + WAIT
            while client.llen(key) < 3:
                assert time.monotonic() < deadline, "the events never reached Redis"
                await asyncio.sleep(0.05)
            os.kill(doomed, signal.SIGKILL)
            # The client saw event 1 only; it resumes on the other worker and gets 2 and 3.
            first = seen[0][0]
            assert first is not None
            resumed = await http.get(
                two, headers=session.headers(accept="text/event-stream", **{"last-event-id": first})
            )
            assert resumed.status_code == 200
            replayed = messages_of(resumed)
            assert [m["params"]["progress"] for m in replayed] == [2, 3], replayed
            # And the session goes on there.
            echoed = await http.post(two, json=call(3, "echo", {"text": "on"}), headers=session.headers())
            assert messages_of(echoed)[-1]["result"]["content"][0]["text"] == "on"

    with workers(redis_server.url) as (one, two):
        run(main(one, two))


async def _first_notification(
    stream: AsyncIterator[tuple[str | None, dict[str, Any]]], method: str
) -> dict[str, Any]:
    async for _, message in stream:
        if message.get("method") == method:
            return message
    raise AssertionError(f"the stream ended before {method}")


def test_a_change_on_one_worker_reaches_the_get_stream_held_by_another(redis_server: RedisServer) -> None:
    async def main(one: str, two: str) -> None:
        async with httpx.AsyncClient(timeout=WAIT) as http:
            session = await open_session(http, one, "2025-11-25")
            opened = asyncio.Event()
            got: list[dict[str, Any]] = []

            async def listen() -> None:
                async with http.stream(
                    "GET", one, headers=session.headers(accept="text/event-stream")
                ) as response:
                    assert response.status_code == 200
                    opened.set()
                    stream = events(response)
                    got.append(await _first_notification(stream, "notifications/tools/list_changed"))
                    got.append(await _first_notification(stream, "notifications/resources/updated"))

            listener = asyncio.ensure_future(listen())
            await asyncio.wait_for(opened.wait(), WAIT)
            # Subscribed on worker two after worker one read the session for its GET stream.
            subscribe = request(2, "resources/subscribe", {"uri": "memo://hello"})
            assert (await http.post(two, json=subscribe, headers=session.headers())).status_code == 200
            added = await http.post(
                two, json=call(3, "add_tool", {"name": "added_elsewhere"}), headers=session.headers()
            )
            assert added.status_code == 200
            touched = await http.post(
                two, json=call(4, "touch", {"uri": "memo://hello"}), headers=session.headers()
            )
            assert touched.status_code == 200
            await asyncio.wait_for(listener, WAIT)
            assert got[1]["params"]["uri"] == "memo://hello"

    with workers(redis_server.url) as (one, two):
        run(main(one, two))


def test_subscriptions_listen_on_one_worker_receives_a_change_made_on_another(
    redis_server: RedisServer,
) -> None:
    async def main(one: str, two: str) -> None:
        async with httpx.AsyncClient(timeout=WAIT) as http:
            listen = modern(
                1,
                "subscriptions/listen",
                {"notifications": {"toolsListChanged": True, "resourceSubscriptions": ["memo://hello"]}},
            )
            async with http.stream("POST", one, json=listen, headers=modern_headers(listen)) as response:
                assert response.status_code == 200
                stream = events(response)
                ack = await _first_notification(stream, "notifications/subscriptions/acknowledged")
                assert ack["params"]["notifications"]["toolsListChanged"] is True
                added = modern(2, "tools/call", {"name": "add_tool", "arguments": {"name": "listened"}})
                assert (await http.post(two, json=added, headers=modern_headers(added))).status_code == 200
                note = await asyncio.wait_for(
                    _first_notification(stream, "notifications/tools/list_changed"), WAIT
                )
                assert note["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == 1
                touch = modern(3, "tools/call", {"name": "touch", "arguments": {"uri": "memo://hello"}})
                assert (await http.post(two, json=touch, headers=modern_headers(touch))).status_code == 200
                updated = await asyncio.wait_for(
                    _first_notification(stream, "notifications/resources/updated"), WAIT
                )
                assert updated["params"]["uri"] == "memo://hello"

    with workers(redis_server.url) as (one, two):
        run(main(one, two))


def test_the_answer_to_a_server_request_may_be_posted_to_another_worker(redis_server: RedisServer) -> None:
    """The server asks the client (elicitation, on the POST's stream of worker one); the client posts its
    answers to worker two, which sends them on to worker one over the bus."""

    async def main(one: str, two: str) -> None:
        async with httpx.AsyncClient(timeout=WAIT) as http:
            session = await open_session(http, one, "2025-11-25", {"elicitation": {}})
            answers = [{"name": "Ada"}, {"age": 36}]
            async with http.stream("POST", one, json=call(2, "ask"), headers=session.headers()) as response:
                async for _, message in events(response):
                    if message.get("method") == "elicitation/create":
                        answer = {
                            "jsonrpc": "2.0",
                            "id": message["id"],
                            "result": {"action": "accept", "content": answers.pop(0)},
                        }
                        posted = await http.post(two, json=answer, headers=session.headers())
                        assert posted.status_code == 202
                    elif message.get("id") == 2:
                        assert message["result"]["content"][0]["text"] == "accept:Ada:accept:36"
                        break
            assert answers == []

    with workers(redis_server.url) as (one, two):
        run(main(one, two))


def test_a_multi_round_trip_retry_lands_on_another_worker(redis_server: RedisServer) -> None:
    answers = {"action": "accept", "content": {"name": "Ada", "age": 36}}

    async def main(urls: list[str]) -> None:
        async with httpx.AsyncClient(timeout=WAIT) as http:
            params: dict[str, Any] = {"name": "ask", "arguments": {}}
            for attempt in range(3):
                message = modern(attempt, "tools/call", params)
                message["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"] = {"elicitation": {}}
                # Each round trip on the other worker than the one before.
                response = await http.post(urls[attempt % 2], json=message, headers=modern_headers(message))
                assert response.status_code == 200, response.text
                result = messages_of(response)[-1]["result"]
                if result.get("resultType") != "input_required":
                    assert result["content"][0]["text"] == "accept:Ada:accept:36"
                    assert attempt == 2
                    return
                responses = {key: answers for key in result["inputRequests"]}
                params = {**params, "inputResponses": responses, "requestState": result["requestState"]}
            raise AssertionError("the call never finished")

    with workers(redis_server.url, 2, "--revisions", "2026-07-28") as urls:
        run(main(urls))


def test_run_http_with_two_workers_serves_one_port(redis_server: RedisServer) -> None:
    async def main(url: str) -> None:
        pids: set[int] = set()
        async with httpx.AsyncClient(timeout=WAIT) as opener:
            session = await open_session(opener, url, "2025-06-18")
        # New connections, one per call: the kernel hands them to either worker; both serve the session.
        deadline = time.monotonic() + WAIT
        while len(pids) < 2:
            assert time.monotonic() < deadline, f"only worker {pids} ever answered"
            async with httpx.AsyncClient(timeout=WAIT) as http:
                pids.add(await pid_of(http, url, session))
        # A killed worker is replaced, and the session lives on.
        os.kill(pids.pop(), signal.SIGKILL)
        async with httpx.AsyncClient(timeout=WAIT) as http:
            for _ in range(10):
                echoed = await http.post(
                    url, json=call(3, "echo", {"text": "still"}), headers=session.headers()
                )
                assert messages_of(echoed)[-1]["result"]["content"][0]["text"] == "still"

    with serve(SCALED, "--redis", redis_server.url, "--workers", "2") as url:
        run(main(url))


def test_several_workers_without_redis_are_refused_for_stateful_revisions() -> None:
    from mcpbind.server import Server
    from mcpbind.transports.http.scaleout import check_workers

    with pytest.raises(ValueError, match="redis="):
        check_workers(Server("s"), 2, None)
    check_workers(Server("s"), 1, None)
    check_workers(Server("s", revisions_served=["2026-07-28"]), 4, None)  # nothing to share
    check_workers(Server("s"), 2, "redis://127.0.0.1:1/0")


def test_a_stateful_request_costs_one_redis_round_trip_and_a_stateless_one_none(
    redis_server: RedisServer,
) -> None:
    def commands(client: redis.Redis) -> int:
        stats: dict[str, Any] = client.info("commandstats")  # type: ignore[assignment]
        return sum(int(v["calls"]) for k, v in stats.items() if k != "cmdstat_info")

    async def main(url: str) -> None:
        client = redis.Redis.from_url(redis_server.url)
        async with httpx.AsyncClient(timeout=WAIT) as http:
            session = await open_session(http, url, "2025-11-25")
            before = commands(client)
            for i in range(50):
                echo = call(10 + i, "echo", {"text": "x"})
                assert (await http.post(url, json=echo, headers=session.headers())).status_code == 200
            assert commands(client) - before == 50  # GETEX: the session, read and renewed
            before = commands(client)
            for i in range(50):
                message = modern(100 + i, "tools/call", {"name": "echo", "arguments": {"text": "x"}})
                assert (
                    await http.post(url, json=message, headers=modern_headers(message))
                ).status_code == 200
            assert commands(client) - before == 0

    with serve(SCALED, "--redis", redis_server.url) as url:
        run(main(url))


def test_the_get_stream_resumes_on_another_worker_after_its_worker_is_killed(
    redis_server: RedisServer,
) -> None:
    async def main(one: str, two: str) -> None:
        async with httpx.AsyncClient(timeout=WAIT) as http:
            session = await open_session(http, one, "2025-11-25")
            doomed = await pid_of(http, one, session)
            listen = session.headers(accept="text/event-stream")
            async with http.stream("GET", one, headers=listen) as response:
                stream = events(response)
                added = call(2, "add_tool", {"name": "first_change"})
                assert (await http.post(two, json=added, headers=session.headers())).status_code == 200
                first_id, first = await anext(stream)
                while first.get("method") != "notifications/tools/list_changed":
                    first_id, first = await anext(stream)
            assert first_id == "get-1"
            client = redis.Redis.from_url(redis_server.url)
            deadline = time.monotonic() + WAIT
            while client.llen(f"mcpbind:events:{session.id}") < 1:
                assert time.monotonic() < deadline, "the event never reached Redis"
                await asyncio.sleep(0.05)
            os.kill(doomed, signal.SIGKILL)
            async with http.stream("GET", two, headers={**listen, "last-event-id": first_id}) as response:
                assert response.status_code == 200
                stream = events(response)
                added = call(3, "add_tool", {"name": "second_change"})
                assert (await http.post(two, json=added, headers=session.headers())).status_code == 200
                second_id, second = await asyncio.wait_for(anext(stream), WAIT)
            # The stream goes on where it stopped: the client's next Last-Event-ID names this event.
            assert second["method"] == "notifications/tools/list_changed" and second_id == "get-2"

    with workers(redis_server.url) as (one, two):
        run(main(one, two))


def test_a_cancellation_posted_to_another_worker_cancels_the_request(redis_server: RedisServer) -> None:
    async def result(
        http: httpx.AsyncClient, url: str, session: Session, rid: int, name: str, **args: Any
    ) -> Any:
        response = await http.post(url, json=call(rid, name, args), headers=session.headers())
        return messages_of(response)[-1]["result"]["structuredContent"]["result"]

    async def main(one: str, two: str) -> None:
        async with httpx.AsyncClient(timeout=WAIT) as http:
            session = await open_session(http, one, "2025-11-25")
            running = asyncio.ensure_future(
                http.post(one, json=call(2, "slow", {"seconds": 600, "tag": "c"}), headers=session.headers())
            )
            deadline = time.monotonic() + WAIT
            while not await result(http, one, session, 3, "started", tag="c"):
                assert time.monotonic() < deadline, "the tool never started"
                await asyncio.sleep(0.05)
            cancel = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 2}}
            assert (await http.post(two, json=cancel, headers=session.headers())).status_code == 202
            response = await asyncio.wait_for(running, WAIT)
            assert (
                response.status_code == 200 and messages_of(response) == []
            )  # a cancelled request: no answer
            assert await result(http, one, session, 4, "cancelled_count") == 1

    with workers(redis_server.url) as (one, two):
        run(main(one, two))


def _parse(lines: list[str]) -> list[tuple[str | None, dict[str, Any] | None]]:
    """Every event of SSE `lines` with its id, the priming ones (no data: None) included."""
    seen: list[tuple[str | None, dict[str, Any] | None]] = []
    event_id: str | None = None
    data: list[str] = []
    for line in [*lines, ""]:
        if line.startswith("id:"):
            event_id = line[3:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip(" "))
        elif line == "" and (event_id is not None or data):
            seen.append((event_id, json.loads("\n".join(data)) if any(data) else None))
            event_id, data = None, []
    return seen


async def _read_all(response: httpx.Response) -> list[tuple[str | None, dict[str, Any] | None]]:
    return _parse([line async for line in response.aiter_lines()])


def _kinds(seen: list[tuple[str | None, dict[str, Any] | None]]) -> list[tuple[str | None, str]]:
    return [
        (i, m.get("method") or f"answer {m['result']['content'][0]['text']}" if m else "priming")
        for i, m in seen
    ]


async def _until_kept(redis_url: str, session: Session, count: int) -> None:
    """Wait (bounded) until `count` events of the session are in Redis."""
    client = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + WAIT
    while client.llen(f"mcpbind:events:{session.id}") < count:
        assert time.monotonic() < deadline, "the events never reached Redis"
        await asyncio.sleep(0.05)


async def _polled(http: httpx.AsyncClient, url: str, session: Session, key: str) -> str:
    """Call `poll_then_answer` on `url`: the stream's name, once the server has closed the connection."""
    message = call(2, "poll_then_answer", {"key": key}, _meta={"progressToken": "t"})
    async with http.stream("POST", url, json=message, headers=session.headers()) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        seen = await _read_all(response)
    assert len(seen) == 1 and seen[0][1] is None and seen[0][0] is not None, seen  # priming alone
    name, seq = seen[0][0].rsplit("-", 1)
    assert seq == "0"
    return name


async def _open(http: httpx.AsyncClient, url: str, session: Session, gate: str) -> None:
    opened = await http.post(url, json=call(9, "open_gate", {"key": gate}), headers=session.headers())
    assert opened.status_code == 200


def test_a_polled_stream_resumes_on_another_worker_with_what_was_sent_meanwhile_and_after(
    redis_server: RedisServer,
) -> None:
    """The server closes the POST's connection (SSE polling) and goes on sending while no connection reads
    the stream; the client resumes on the other worker, which replays that event from Redis and then
    follows the stream as worker one sends the rest, each event once and in order, ending with the answer."""

    async def main(one: str, two: str) -> None:
        async with httpx.AsyncClient(timeout=WAIT) as http:
            session = await open_session(http, one, "2025-11-25")
            name = await _polled(http, one, session, "k1")
            await _open(http, one, session, "k1/1")  # sent while no connection reads the stream
            await _until_kept(redis_server.url, session, 1)
            resume = session.headers(accept="text/event-stream", **{"last-event-id": f"{name}-0"})
            async with http.stream("GET", two, headers=resume) as resumed:
                assert resumed.status_code == 200
                lines = resumed.aiter_lines()
                first = await asyncio.wait_for(anext(lines), WAIT)
                assert first == f"id: {name}-1", first
                # Worker one goes on only now: what it sends reaches the client on worker two.
                await _open(http, one, session, "k1/2")
                rest = [line async for line in lines]  # the response ends after the answer
            got = _kinds(_parse([first, *rest]))
            assert got == [
                (f"{name}-1", "notifications/progress"),
                (f"{name}-2", "notifications/progress"),
                (f"{name}-3", "answer answered k1"),
            ], got

    with workers(redis_server.url) as (one, two):
        run(main(one, two))


def test_events_sent_while_no_one_reads_survive_their_worker_and_the_resumption_then_ends(
    redis_server: RedisServer,
) -> None:
    """Worker one sends an event while the client polls, and is killed: the client resumes on worker two
    and gets it, and the response ends (no worker holds the stream any more) instead of hanging."""

    async def main(one: str, two: str) -> None:
        async with httpx.AsyncClient(timeout=WAIT) as http:
            session = await open_session(http, one, "2025-11-25")
            doomed = await pid_of(http, one, session)
            name = await _polled(http, one, session, "k2")
            await _open(http, one, session, "k2/1")
            await _until_kept(redis_server.url, session, 1)
            os.kill(doomed, signal.SIGKILL)
            resume = session.headers(accept="text/event-stream", **{"last-event-id": f"{name}-0"})
            async with http.stream("GET", two, headers=resume) as resumed:
                assert resumed.status_code == 200
                got = _kinds(await asyncio.wait_for(_read_all(resumed), WAIT))
            assert got == [(f"{name}-1", "notifications/progress")], got

    with workers(redis_server.url) as (one, two):
        run(main(one, two))


async def _rest(stream: AsyncIterator[tuple[str | None, dict[str, Any]]]) -> list[Any]:
    return [event async for event in stream]


async def _next_list_change(stream: AsyncIterator[tuple[str | None, dict[str, Any]]]) -> str | None:
    """The id of the next `tools/list_changed` on `stream` (bounded)."""

    async def find() -> str | None:
        async for event_id, message in stream:
            if message.get("method") == "notifications/tools/list_changed":
                return event_id
        raise AssertionError("the stream ended before a list change")

    return await asyncio.wait_for(find(), WAIT)


def test_a_get_stream_opened_on_another_worker_replaces_the_first_and_numbers_each_event_once(
    redis_server: RedisServer,
) -> None:
    """The session's GET stream moves to worker two (the client resumes there while its first GET, on
    worker one, is still open): worker one's response ends, the next change is delivered by worker two
    alone and kept once, and a fresh GET stream on worker one numbers on from the last kept event."""

    async def main(one: str, two: str) -> None:
        async with httpx.AsyncClient(timeout=WAIT) as http:
            session = await open_session(http, one, "2025-11-25")
            listen = session.headers(accept="text/event-stream")

            async def change(url: str, rid: int) -> None:
                added = call(rid, "add_tool", {"name": f"change_{rid}"})
                assert (await http.post(url, json=added, headers=session.headers())).status_code == 200

            async with http.stream("GET", one, headers=listen) as first:
                first_events = events(first)
                await change(two, 2)
                assert await _next_list_change(first_events) == "get-1"
                moved = {**listen, "last-event-id": "get-1"}
                async with http.stream("GET", two, headers=moved) as second:
                    assert second.status_code == 200
                    # Worker one's response ends.
                    left = await asyncio.wait_for(_rest(first_events), WAIT)
                    assert left == [], left
                    await change(one, 3)
                    assert await _next_list_change(events(second)) == "get-2"
            kept = redis.Redis.from_url(redis_server.url).lrange(f"mcpbind:events:{session.id}", 0, -1)
            assert [entry.split(b" ", 2)[:2] for entry in kept] == [[b"get", b"1"], [b"get", b"2"]], kept
            async with http.stream("GET", one, headers=listen) as again:
                again_events = events(again)
                await change(two, 4)
                assert await _next_list_change(again_events) == "get-3"

    with workers(redis_server.url) as (one, two):
        run(main(one, two))


def test_a_session_ended_for_its_client_s_cap_is_ended_on_every_worker(redis_server: RedisServer) -> None:
    """`max_sessions_per_client` on workers sharing Redis: the session a worker ends to make room for its
    client's new one is deleted from Redis, so the other worker, which served it too, answers 404."""

    async def main(one: str, two: str) -> None:
        async with httpx.AsyncClient(timeout=WAIT) as http:
            first, second = [await open_session(http, one, "2025-11-25") for _ in range(2)]
            for session in (first, second):  # the other worker takes both up from Redis
                answer = await http.post(two, json=request(2, "ping"), headers=session.headers())
                assert answer.status_code == 200, answer.text
            third = await open_session(http, one, "2025-11-25")  # at the cap of 2 on worker one
            statuses = []
            for session in (first, second, third):
                answer = await http.post(two, json=request(3, "ping"), headers=session.headers())
                statuses.append(answer.status_code)
            assert statuses == [404, 200, 200]

    with workers(redis_server.url, 2, "--per-client", "2") as (one, two):
        run(main(one, two))
