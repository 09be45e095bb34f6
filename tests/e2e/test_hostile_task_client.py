"""The client's tasks against a hostile SERVER over stdio (tests/servers/scripted_stdio.py answers each
request with the next scripted line): task states that are no task (an unknown status, which would
never be terminal; a `taskId` that is no string; another task's state), results of the wrong shape,
poll intervals that would make the client poll without pause or never again, and more input requests
than a round may ask. Each fails its own request with an McpError (or the wait with its own timeout),
and the session goes on."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from mcpbind.client import Client
from mcpbind.client.calls import MAX_INPUT_REQUESTS
from mcpbind.client.tasks import TaskHandle, TaskInfo
from mcpbind.errors import McpError, RequestTimeout

from ..http_support import SERVERS

SCRIPTED = str(SERVERS / "scripted_stdio.py")
SESSION = "2025-11-25"
STATELESS = "2026-07-28"


def result(body: Any) -> bytes:
    return b'{"jsonrpc":"2.0","id":ID,"result":' + json.dumps(body).encode() + b"}"


def task(status: str = "working", task_id: Any = "t1", poll: Any = None) -> dict[str, Any]:
    at = "2026-01-01T00:00:00Z"
    return {
        "taskId": task_id,
        "status": status,
        "createdAt": at,
        "lastUpdatedAt": at,
        "ttl": None,
        "pollInterval": poll,
    }


def created(**members: Any) -> bytes:
    return result({"task": task(**members)})


def client(tmp_path: Path, lines: list[bytes], revision: str = SESSION, **options: Any) -> Client:
    script = tmp_path / "script"
    script.write_bytes(b"\n".join(lines) + b"\n")
    return Client.stdio(
        sys.executable, [SCRIPTED, str(script), revision], mode=revision, request_timeout=30, **options
    )


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 120))


def test_states_that_are_no_task_fail_their_request_and_the_session_goes_on(tmp_path: Path) -> None:
    """A status the spec does not name was taken as a task's status: never terminal, so `wait()` and
    `result()` polled it for ever. A `taskId` that is no string, an answer with no task, another
    task's state (the handle went on following that one) and a result of the wrong shape raised
    KeyError, AttributeError, TypeError or msgspec's ValidationError, or were believed."""
    lines = [
        created(status="bogus"),
        created(task_id=5),
        result({"task": []}),
        created(),
        result({}),
        result(task(task_id="another")),
        result(task(status="paused")),
        result({"content": [], "_meta": []}),
    ]

    async def main() -> None:
        async with client(tmp_path, lines) as session:
            with pytest.raises(McpError, match=r"status 'bogus', .*spec"):
                await session.start_tool_task("t", {})
            with pytest.raises(McpError, match="taskId 5 is no string"):
                await session.start_tool_task("t", {})
            with pytest.raises(McpError, match=r"\[\] is no object"):
                await session.start_tool_task("t", {})
            handle = await session.start_tool_task("t", {})
            with pytest.raises(McpError, match="taskId None is no string"):
                await handle.status()
            with pytest.raises(McpError, match="answered with task 'another'"):
                await handle.status()
            assert handle.task_id == "t1"
            with pytest.raises(McpError, match="status 'paused'"):
                await handle.wait(timeout=10)
            with pytest.raises(McpError, match=r"tasks/result: the server's result is invalid.*_meta"):
                await handle.result(timeout=10)
            await session.ping()  # the session goes on

    run(main())


@pytest.mark.parametrize("poll", [-1000, 0, 1])
def test_a_poll_interval_of_nothing_does_not_make_the_client_poll_without_pause(
    tmp_path: Path, poll: int
) -> None:
    """A negative suggested interval made the wait between polls negative: `wait()` polled as fast as
    the server answered (40 polls in a few milliseconds here, then one more that nobody answered, which
    waited out the request's timeout). Polls are at least 50 ms apart whatever the server suggests,
    so a wait of 0.5 s takes a few of the scripted answers and ends with its own timeout."""
    lines = [created(poll=poll)] + [result(task(poll=poll))] * 40

    async def main() -> None:
        async with client(tmp_path, lines) as session:
            handle = await session.start_tool_task("t", {})
            started = time.monotonic()
            with pytest.raises(TimeoutError, match="still working") as waited:
                await handle.wait(timeout=0.5)
            assert not isinstance(waited.value, RequestTimeout)
            assert time.monotonic() - started < 5
            assert (await handle.status()).status == "working"  # scripted answers are left

    run(main())


def test_a_huge_poll_interval_does_not_stop_the_polling() -> None:
    """A suggested interval of 2**63 ms let the wait between polls double without end: a task would
    have been looked at again after days. The wait stays within the safety net's 30 s."""
    handle: TaskHandle[Any] = TaskHandle(
        None,  # type: ignore[arg-type]  # (`_interval` reads only the task's state)
        TaskInfo(task_id="t", status="working", poll_interval_ms=2**63),
        dict,
    )
    delay = 0.0
    for _ in range(100):
        delay = handle._interval(delay)
    assert delay == 30.0


def test_a_task_asking_more_inputs_than_a_round_may_calls_no_callback(tmp_path: Path) -> None:
    """The input a 2026-07-28 server asks for before a task starts (and while it runs, on `tasks/get`)
    was answered whatever its size: a call of the user's callback per request, ~100,000 for one large
    answer. More than `MAX_INPUT_REQUESTS` fails the request before any callback is called, as for
    any call (`calls`); requests that are no object fail it too."""
    asked: list[dict[str, Any]] = []

    async def elicitation(params: dict[str, Any]) -> dict[str, Any]:
        asked.append(params)
        return {"action": "accept", "content": {}}

    question = {
        "method": "elicitation/create",
        "params": {"message": "?", "requestedSchema": {"type": "object", "properties": {}}},
    }
    too_many = {f"q{i}": question for i in range(MAX_INPUT_REQUESTS + 1)}
    discover = result(
        {
            "capabilities": {"tools": {}},
            "supportedVersions": [STATELESS],
            "resultType": "complete",
            "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "s", "version": "0"}},
        }
    )
    running = {**task(status="input_required", poll=10), "resultType": "task"}
    lines = [
        discover,
        result({"resultType": "input_required", "inputRequests": too_many}),
        result({"resultType": "input_required", "inputRequests": ["q"]}),
        result({**task(poll=10), "resultType": "task"}),
        result({**running, "inputRequests": too_many}),
        result({**running, "inputRequests": "q"}),
    ]

    async def main() -> None:
        async with client(tmp_path, lines, STATELESS, elicitation=elicitation) as session:
            with pytest.raises(McpError, match=f"asked for {MAX_INPUT_REQUESTS + 1} inputs at once"):
                await session.start_tool_task("t", {})
            with pytest.raises(McpError, match="inputRequests is no object"):
                await session.start_tool_task("t", {})
            handle = await session.start_tool_task("t", {})
            with pytest.raises(McpError, match=f"asked for {MAX_INPUT_REQUESTS + 1} inputs at once"):
                await handle.wait(timeout=10)
            with pytest.raises(McpError, match="inputRequests is no object"):
                await handle.wait(timeout=10)
            assert asked == []

    run(main())


def test_a_flood_of_status_notifications_keeps_only_the_latest_states(tmp_path: Path) -> None:
    """Each `notifications/tasks/status` for a watched task was queued until read, without bound: a
    server sending them faster than a wait reads them (while an input callback runs, say) filled the
    client's memory. A few of the latest are kept, the last one sent among them."""
    flood = 5000
    note = {"jsonrpc": "2.0", "method": "notifications/tasks/status"}
    lines = [
        b"!" + json.dumps({**note, "params": {**task(), "statusMessage": f"step {n}"}}).encode()
        for n in range(flood)
    ]
    lines.append(result({}))  # the answer after the flood

    async def main() -> None:
        async with client(tmp_path, lines) as session:
            events = session.task_events.watch("t1")
            await session.request("tools/call", {"name": "t"}, result_type=dict[str, Any])  # after the flood
            assert 0 < events.qsize() <= 16
            states = [events.get_nowait() for _ in range(events.qsize())]
            assert states[-1].status_message == f"step {flood - 1}"

    run(main())


def test_an_end_told_by_notification_is_read_with_its_result(tmp_path: Path) -> None:
    """A 2026-07-28 task whose end reached `wait()` as a `notifications/tasks` (a listen stream open
    for `statuses()`, say) failed `result()` with "ended completed with no result": the result was
    looked for in the last `tasks/get` answer, of the state before. The end is read with its result."""
    discover = result(
        {
            "capabilities": {"tools": {}},
            "supportedVersions": [STATELESS],
            "resultType": "complete",
            "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "s", "version": "0"}},
        }
    )
    done = {"content": [{"type": "text", "text": "done"}], "resultType": "complete"}
    ended = {**task(status="completed", poll=10), "result": done}
    note = {"jsonrpc": "2.0", "method": "notifications/tasks", "params": ended}
    lines = [
        discover,
        result({**task(poll=10), "resultType": "task"}),
        b"!" + json.dumps(note).encode(),  # the end told before the poll's answer
        result({**task(poll=10), "resultType": "complete"}),
        result({**ended, "resultType": "complete"}),
    ]

    async def main() -> None:
        async with client(tmp_path, lines, STATELESS) as session:
            handle = await session.start_tool_task("t", {})
            finished = await handle.result(timeout=10)
            assert finished.content[0].text == "done"

    run(main())
