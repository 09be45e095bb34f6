"""1,000 requests in flight over Streamable HTTP, against tests/servers/probe.py under uvicorn: on one
2025-11-25 session, and 1,000 stateless 2026-07-28 requests. Some ask the client (elicitation and
sampling: on the session the client answers the server's requests; stateless, the multi round-trip
retry), some are slow, and some of those are cancelled at random (notifications/cancelled on the
session; leaving, stateless).

Every request is answered exactly once (a cancelled one at most once), where a clear refusal (429 or
503 with a JSON-RPC error) counts as an answer; afterwards the server holds no more tasks or file
descriptors than before, and its memory is close to where it was.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ..http_support import messages_of, modern, modern_headers, open_session, serve
from ..stdio_support import PROBE

N = 1000
CAPABILITIES = {"elicitation": {}, "sampling": {}}
ELICITED = {"action": "accept", "content": {"name": "Ada", "age": 36}}
SAMPLED = {"role": "assistant", "content": {"type": "text", "text": "4"}, "model": "test-model"}
WAIT = 90.0
"""How long one request may take under this load before it counts as never answered. All 1,000 start
at once, so this bounds the whole load: a few seconds on an idle 2-core machine, over 30 s on one whose
other processes keep both cores busy (where a request is slow, not lost: it must still be answered)."""
RSS_MARGIN_KB = 40 * 1024
"""What 1,000 requests may leave in the server's RSS (allocator arenas, caches that fill once)."""


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serve(PROBE) as endpoint:
        yield endpoint


def run(coro: Any, timeout: float = 120) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))


def plan(seed: int) -> list[tuple[str, dict[str, Any]]]:
    """What each of the N requests calls: mostly echo, some slow, some asking the client."""
    rng = random.Random(seed)
    out: list[tuple[str, dict[str, Any]]] = []
    for i in range(N):
        kind = rng.choices(["echo", "slow", "ask", "think"], [5, 3, 1, 1])[0]
        arguments = (
            {"text": f"m{i}"}
            if kind == "echo"
            else {"seconds": rng.uniform(0.05, 0.5)}
            if kind == "slow"
            else {}
        )
        out.append((kind, arguments))
    return out


async def stats(http: httpx.AsyncClient, url: str) -> dict[str, int]:
    message = modern("stats", "tools/call", {"name": "stats", "arguments": {}})
    response = await http.post(url, json=message, headers=modern_headers(message))
    assert response.status_code == 200, response.text
    return dict(response.json()["result"]["structuredContent"])


async def settled(http: httpx.AsyncClient, url: str, baseline: dict[str, int]) -> dict[str, int]:
    """The server's stats once its tasks and fds are back to `baseline` (or after 10 s, what they are)."""
    for _ in range(100):
        now = await stats(http, url)
        if now["tasks"] <= baseline["tasks"] and now["fds"] <= baseline["fds"]:
            return now
        await asyncio.sleep(0.1)
    return now


def refused(response: httpx.Response) -> bool:
    """A clear refusal for load: 429 or 503 with a JSON-RPC error body."""
    if response.status_code not in (429, 503):
        return False
    body = response.json()
    assert body["jsonrpc"] == "2.0" and isinstance(body["error"]["code"], int), body
    return True


def limits() -> httpx.Limits:
    return httpx.Limits(max_connections=N + 50, max_keepalive_connections=N + 50)


def test_1000_in_flight_on_one_session(url: str) -> None:
    async def load(http: httpx.AsyncClient) -> str:
        rng = random.Random(1)
        work = plan(1)
        answers: Counter[int] = Counter()
        cancelled: set[int] = set()
        refusals = 0
        session = await open_session(http, url, "2025-11-25", CAPABILITIES)

        async def answer_server(message: dict[str, Any]) -> None:
            result = ELICITED if message["method"] == "elicitation/create" else SAMPLED
            reply = {"jsonrpc": "2.0", "id": message["id"], "result": result}
            done = await http.post(url, json=reply, headers=session.headers())
            assert done.status_code == 202, done.text

        async def one(i: int) -> None:
            """Call, answering the server's requests while the stream is open (a tool that asks
            waits for them before it answers)."""
            nonlocal refusals
            kind, arguments = work[i]
            params = {"name": kind, "arguments": arguments}
            message = {"jsonrpc": "2.0", "id": i, "method": "tools/call", "params": params}
            async with http.stream("POST", url, json=message, headers=session.headers()) as response:
                if response.headers.get("content-type", "").startswith("text/event-stream"):
                    events = []
                    async for event in sse(response):
                        if "method" in event and "id" in event:
                            await answer_server(event)
                        else:
                            events.append(event)
                else:
                    await response.aread()
                    if refused(response):
                        refusals += 1
                        answers[i] += 1
                        return
                    assert response.status_code in (200, 204), (response.status_code, response.text)
                    events = messages_of(response)
            for event in events:
                if event.get("id") == i and "method" not in event:
                    assert "result" in event, event
                    answers[i] += 1

        async def cancel_later(i: int) -> None:
            await asyncio.sleep(rng.uniform(0, 0.2))
            cancelled.add(i)
            params = {"requestId": i, "reason": "test"}
            note = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": params}
            done = await http.post(url, json=note, headers=session.headers())
            assert done.status_code == 202, done.text

        silent: list[tuple[int, str]] = []

        async def bounded(i: int) -> None:
            try:
                await asyncio.wait_for(one(i), WAIT)
            except TimeoutError:
                silent.append((i, work[i][0]))

        jobs = [bounded(i) for i in range(N)]
        jobs += [cancel_later(i) for i in range(N) if work[i][0] == "slow" and rng.random() < 0.3]
        await asyncio.gather(*jobs)
        unanswered = [(i, kind) for i, kind in silent if i not in cancelled]
        assert not unanswered, (
            f"{len(unanswered)} requests never answered: {Counter(k for _, k in unanswered)}"
        )
        for i in range(N):
            if i in cancelled:
                assert answers[i] <= 1, (i, answers[i])
            else:
                assert answers[i] == 1, (i, work[i], answers[i])
        done = await http.delete(url, headers=session.headers())
        assert done.status_code in (200, 204), done.text
        return f"{len(cancelled)} cancelled, {refusals} refused"

    run(measured(url, load))


async def measured(url: str, load: Any) -> None:
    """Run `load` on a client of its own (closed after), and check the server's tasks, fds and RSS
    against what they were before."""
    async with httpx.AsyncClient(timeout=10) as probe:
        baseline = await stats(probe, url)
        async with httpx.AsyncClient(timeout=60, limits=limits()) as http:
            summary = await load(http)
        after = await settled(probe, url, baseline)
        assert after["tasks"] <= baseline["tasks"], (baseline, after)
        assert after["fds"] <= baseline["fds"], (baseline, after)
        assert after["rss_kb"] <= baseline["rss_kb"] + RSS_MARGIN_KB, (baseline, after)
        print(f"{N} requests, {summary}; server {baseline} -> {after}")


async def sse(response: httpx.Response) -> Any:
    """The JSON data of each SSE event as it arrives."""
    data: list[str] = []
    async for line in response.aiter_lines():
        if line.startswith("data:"):
            data.append(line[5:].lstrip(" "))
        elif not line and data:
            if any(data):  # the priming event of 2025-11-25 carries no data
                yield json.loads("\n".join(data))
            data = []


def test_1000_stateless_requests(url: str) -> None:
    async def load(http: httpx.AsyncClient) -> str:
        rng = random.Random(2)
        work = plan(2)
        answers: Counter[int] = Counter()
        rounds: Counter[int] = Counter()
        left: set[int] = set()
        refusals = 0

        async def one(i: int) -> None:
            nonlocal refusals
            kind, arguments = work[i]
            params: dict[str, Any] = {"name": kind, "arguments": arguments}
            while True:
                message = modern(i, "tools/call", params)
                message["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"] = CAPABILITIES
                response = await http.post(url, json=message, headers=modern_headers(message))
                if refused(response):
                    refusals += 1
                    answers[i] += 1
                    return
                assert response.status_code == 200, (response.status_code, response.text)
                finals = [m for m in messages_of(response) if m.get("id") == i and "method" not in m]
                assert len(finals) == 1, finals
                result = finals[0]["result"]
                if result.get("resultType") != "input_required":
                    answers[i] += 1
                    return
                rounds[i] += 1
                assert rounds[i] <= 3, result
                responses = {
                    key: ELICITED if request["method"] == "elicitation/create" else SAMPLED
                    for key, request in result["inputRequests"].items()
                }
                params = {**params, "inputResponses": responses, "requestState": result["requestState"]}

        async def leaving(i: int) -> None:
            task = asyncio.ensure_future(one(i))
            await asyncio.sleep(rng.uniform(0, 0.2))
            if not task.done():
                left.add(i)
                task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

        leave = [work[i][0] == "slow" and rng.random() < 0.3 for i in range(N)]
        await asyncio.gather(*(leaving(i) if leave[i] else one(i) for i in range(N)))
        for i in range(N):
            if i in left:
                assert answers[i] == 0, i
            else:
                assert answers[i] == 1, (i, work[i], answers[i])
        for i in range(N):
            if work[i][0] in ("ask", "think") and answers[i]:
                assert rounds[i] == (2 if work[i][0] == "ask" else 1), (i, work[i], rounds[i])
        return f"{len(left)} left, {refusals} refused"

    run(measured(url, load))
