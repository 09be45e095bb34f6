"""One client against another on the same server: what a session or an anonymous caller can learn of,
or do to, what another one started (tasks, streams, input requests), each over real uvicorn on loopback
with the servers of tests/servers in their own processes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

from mcpbind.client import Client

from ..http_support import BOTH, Session, call, initialize, messages_of, request, serve
from ..redis_support import RedisServer

TASKS = str(Path(__file__).resolve().parent.parent / "servers" / "tasks.py")
SESSION = "2025-11-25"


def run(coro: Awaitable[Any], timeout: float = 60) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))


def test_tasks_list_shows_an_anonymous_session_only_its_own_tasks() -> None:
    """Without authorization, a task is reachable by its unguessable id alone (the spec's fallback);
    `tasks/list` handed every session the ids of every other session's tasks, and with them their
    results. Now a session lists the tasks it started, and another's still answer by id."""

    async def main() -> None:
        with serve(TASKS) as url:
            async with Client.http(url, mode=SESSION) as alice, Client.http(url, mode=SESSION) as bob:
                theirs = await alice.start_tool_task("slow", {"seconds": 0.05, "text": "alice's"})
                mine = await bob.start_tool_task("slow", {"seconds": 0.05, "text": "bob's"})
                assert theirs.task_id is not None and mine.task_id is not None
                assert [t.task_id for t in await bob.list_tasks()] == [mine.task_id]
                assert [t.task_id for t in await alice.list_tasks()] == [theirs.task_id]
                assert (await theirs.result()).content[0].text == "alice's"
            async with Client.http(url, mode=SESSION) as carol:  # a newcomer sees none
                assert await carol.list_tasks() == []

    run(main())


def test_a_sessions_tasks_are_listed_for_it_on_every_worker(redis_server: RedisServer) -> None:
    """The key an anonymous session's tasks are listed by is the session's, not its connection's:
    a worker that restores the session from Redis lists them too, and no other session does."""
    with ExitStack() as stack:
        one, two = (stack.enter_context(serve(TASKS, "--redis", redis_server.url)) for _ in range(2))
        with httpx.Client(timeout=30) as http:
            sessions = [Session(one, opened(http, one), SESSION) for _ in range(2)]
            ask = call(2, "slow", {"seconds": 0}, task={"ttl": 60_000})
            answer = http.post(one, json=ask, headers=sessions[0].headers())
            task_id = messages_of(answer)[-1]["result"]["task"]["taskId"]

            def listed(url: str, session: Session) -> list[str]:
                answer = http.post(url, json=request(3, "tasks/list"), headers=session.headers())
                return [t["taskId"] for t in messages_of(answer)[-1]["result"]["tasks"]]

            assert listed(one, sessions[0]) == [task_id] == listed(two, sessions[0])
            assert listed(one, sessions[1]) == [] == listed(two, sessions[1])


def opened(http: httpx.Client, url: str, capabilities: dict[str, Any] | None = None) -> str:
    """A new 2025-11-25 session's id (initialized)."""
    answer = http.post(url, json=initialize(SESSION, capabilities=capabilities), headers={"accept": BOTH})
    assert answer.status_code == 200, answer.text
    sid = answer.headers["mcp-session-id"]
    note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    headers = {"accept": BOTH, "mcp-session-id": sid, "mcp-protocol-version": SESSION}
    assert http.post(url, json=note, headers=headers).status_code == 202
    return sid


def test_another_session_cannot_answer_cancel_or_resume_what_a_session_awaits() -> None:
    """Session B, with every id of session A's exchange in hand (the server's elicitation request id,
    A's request id, the event id of A's stream), answers that elicitation, cancels A's call and
    resumes A's stream: each reaches B's own session, where nothing has those ids, so A's call waits
    on and ends with A's own answer."""
    with serve(TASKS) as url, httpx.Client(timeout=30) as http:
        capabilities: dict[str, Any] = {"elicitation": {}}
        a = Session(url, opened(http, url, capabilities), SESSION)
        b = Session(url, opened(http, url, capabilities), SESSION)
        with http.stream("POST", url, json=call(7, "ask_name"), headers=a.headers()) as stream:
            events = sse_events(stream.iter_lines())
            event_id, asked = next(events)
            assert asked["method"] == "elicitation/create", asked
            mallory = {"action": "accept", "content": {"name": "Mallory"}}
            for message in (
                {"jsonrpc": "2.0", "id": asked["id"], "result": mallory},
                {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 7}},
            ):
                assert http.post(url, json=message, headers=b.headers()).status_code == 202
            resumed = http.get(
                url, headers=b.headers(accept="text/event-stream", **{"last-event-id": event_id}), timeout=5
            )
            assert resumed.status_code in (200, 400), resumed.text
            assert "data: {" not in resumed.text, resumed.text  # nothing of A's stream replayed
            ada = {
                "jsonrpc": "2.0",
                "id": asked["id"],
                "result": {"action": "accept", "content": {"name": "Ada"}},
            }
            assert http.post(url, json=ada, headers=a.headers()).status_code == 202
            _, answer = next(events)
            assert answer["id"] == 7 and answer["result"]["content"][0]["text"] == "hello Ada", answer


def sse_events(lines: Iterator[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(id, message) of each SSE event with data, as the lines come."""
    event_id, data = "", []
    for line in lines:
        if line.startswith("id:"):
            event_id = line[3:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
        elif not line:
            if any(data):  # (a priming event carries an id and no data)
                yield event_id, json.loads("\n".join(data))
            data = []


def test_an_invalid_cursor_is_not_echoed_whole() -> None:
    """`tools/list` and `tasks/list` answered a cursor they could not read with an error quoting all of
    it: a client sent a body's worth and got it back. Now the error quotes its first characters and
    says how long it was; the session goes on."""
    with serve(TASKS) as url, httpx.Client(timeout=30) as http:
        session = Session(url, opened(http, url), SESSION)
        cursor = "A" * 200_000 + "!"
        for rid, method in enumerate(("tools/list", "tasks/list"), start=2):
            answer = http.post(url, json=request(rid, method, {"cursor": cursor}), headers=session.headers())
            error = messages_of(answer)[-1]["error"]
            assert error["code"] == -32602, error
            assert len(answer.content) < 1000, len(answer.content)
            assert "200001 characters" in error["message"], error
        listed = http.post(url, json=request(9, "tools/list"), headers=session.headers())
        assert messages_of(listed)[-1]["result"]["tools"]
