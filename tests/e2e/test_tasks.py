"""Tasks end to end: `tests/servers/tasks.py` in a real subprocess (stdio for 2025-11-25, uvicorn on
loopback for 2026-07-28), driven by mcpbind's `Client` and its `TaskHandle`, every frame validated
against the negotiated revision's schema (`schema_check.Recorder`)."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mcpbind.client import Client, TaskOptions
from mcpbind.errors import McpError
from mcpbind.protocol.tasks import EXTENSION, RELATED_TASK
from mcpbind.transports.http.client import StreamableHttpTransport
from mcpbind.transports.stdio import StdioClientTransport

from ..http_support import MODERN, serve
from ..schema_check import Recorder

SCRIPT = str(Path(__file__).resolve().parent.parent / "servers" / "tasks.py")
SESSION = "2025-11-25"


def run(coro: Awaitable[Any], timeout: float = 60) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def answer_name(params: Any) -> dict[str, Any]:
    return {"action": "accept", "content": {"name": "Ada"}}


def stdio_client(*args: str, **options: Any) -> tuple[Client, Recorder]:
    recorder = Recorder(StdioClientTransport(sys.executable, [SCRIPT, *args]))
    return Client(recorder, mode=SESSION, elicitation=answer_name, **options), recorder


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serve(SCRIPT) as found:
        yield found


def http_client(url: str, **options: Any) -> tuple[Client, Recorder]:
    recorder = Recorder(StreamableHttpTransport(url))
    return Client(recorder, mode=MODERN, elicitation=answer_name, **options), recorder


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 15.0) -> None:
    """Poll `check` until it holds (bounded): no fixed sleep racing the server."""
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


# -- 2025-11-25: tasks in the core, over stdio ----------------------------------------------------------


def test_a_tool_runs_as_a_task_and_its_result_is_typed() -> None:
    async def main() -> None:
        client, recorder = stdio_client()
        async with client:
            caps = client.server_capabilities
            assert caps["tasks"]["requests"]["tools"]["call"] == {}
            # `execution` is 2025-11-25's alone: read in that revision's types, not the newest's.
            tools = {t.name: t for t in (await client.request("tools/list")).tools}
            assert tools["slow"].execution.task_support == "optional"
            assert tools["only_task"].execution.task_support == "required"
            handle = await client.start_tool_task(
                "slow", {"seconds": 0.3, "text": "made"}, TaskOptions(ttl_ms=60_000)
            )
            assert handle.task_id and handle.info is not None and handle.info.status == "working"
            assert handle.info.ttl_ms == 60_000 and handle.info.poll_interval_ms == 50
            seen = [info.status async for info in handle.statuses()]
            assert seen[0] == "working" and seen[-1] == "completed"
            result = await handle.result()
            assert type(result).__name__ == "CallToolResult" and result.content[0].text == "made"
            listed = await client.list_tasks()
            assert [t.status for t in listed if t.task_id == handle.task_id] == ["completed"]
        assert recorder.validate(SESSION) > 5
        # The server told the status change (a notification without the related-task key).
        notes = [m for m in map(_json, recorder.received) if m.get("method") == "notifications/tasks/status"]
        assert notes and all(RELATED_TASK not in n["params"].get("_meta", {}) for n in notes)

    run(main())


def _json(frame: bytes) -> dict[str, Any]:
    import json

    value = json.loads(frame)
    return value if isinstance(value, dict) else {}


def test_task_support_is_enforced_per_tool() -> None:
    async def main() -> None:
        client, _ = stdio_client()
        async with client:
            with pytest.raises(McpError) as info:
                await client.call_tool("only_task")  # required, called plainly
            assert info.value.code == -32601
            with pytest.raises(McpError) as info:
                await client.start_tool_task("plain", {"text": "x"})  # forbidden, asked as a task
            assert info.value.code == -32601
            assert (await client.call_tool("slow", {"seconds": 0})).content[0].text == "done"  # optional

    run(main())


def test_tool_errors_fail_the_task_and_protocol_errors_come_back_from_tasks_result() -> None:
    async def main() -> None:
        client, recorder = stdio_client()
        async with client:
            broken = await client.start_tool_task("broken")
            ended = await broken.wait()
            assert ended.status == "failed"  # 2025-11-25: isError counts as failed
            # The reason is in the status too, for a requestor that stops there (the TS SDK does).
            assert ended.status_message == "it broke"
            assert (await broken.result()).is_error is True
            failure = await client.start_tool_task("protocol_failure")
            ended = await failure.wait()
            assert ended.status == "failed" and ended.status_message == "deliberate protocol error"
            with pytest.raises(McpError) as info:
                await failure.result()
            assert info.value.code == -32603 and info.value.data == {"why": "test"}
            with pytest.raises(McpError) as info:
                await client.task("no-such-task").status()
            assert info.value.code == -32602
        recorder.validate(SESSION)

    run(main())


def test_cancel_reaches_the_running_code_and_a_terminal_task_refuses_it() -> None:
    async def main() -> None:
        client, recorder = stdio_client()
        async with client:
            handle = await client.start_tool_task("hold")
            with pytest.raises(TimeoutError):
                await handle.wait(timeout=0.3)  # still working: the wait gives up, the task goes on
            assert (await handle.status()).status == "working"
            assert (await handle.cancel()).status == "cancelled"
            stats = await client.call_tool("stats")
            assert stats.structured_content["running"] == 0  # the held code was stopped
            assert (await handle.status()).status == "cancelled"
            with pytest.raises(McpError) as info:
                await handle.cancel()
            assert info.value.code == -32602
        recorder.validate(SESSION)

    run(main())


def test_cancel_answers_once_the_code_has_run_its_cleanup() -> None:
    """`tasks/cancel` answers `cancelled` after the cancelled code's own cleanup (which waits) ran."""

    async def main() -> None:
        client, recorder = stdio_client()
        async with client:
            handle = await client.start_tool_task("hold_tidy", {"key": "a"})
            await eventually(lambda: _working(handle))
            assert (await handle.cancel()).status == "cancelled"
            assert (await client.call_tool("tidied")).structured_content == {"result": ["a"]}
            stats = await client.call_tool("stats")
            assert stats.structured_content["running"] == 0
        recorder.validate(SESSION)

    run(main())


async def _working(handle: Any) -> bool:
    return bool((await handle.status()).status == "working")


@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_elicitation_inside_a_task_carries_the_related_task(transport: str, url: str) -> None:
    """Over HTTP the request reaches the client on the session's own stream: the call that started
    the task was answered long before."""

    async def main() -> None:
        if transport == "stdio":
            client, recorder = stdio_client()
        else:
            recorder = Recorder(StreamableHttpTransport(url))
            client = Client(recorder, mode=SESSION, elicitation=answer_name)
        async with client:
            handle = await client.start_tool_task("ask_name")
            assert (await handle.result()).content[0].text == "hello Ada"
        recorder.validate(SESSION)
        asks = [m for m in map(_json, recorder.received) if m.get("method") == "elicitation/create"]
        assert asks and asks[0]["params"]["_meta"][RELATED_TASK] == {"taskId": handle.task_id}

    run(main())


def test_the_bounds_refuse_a_task_with_a_clear_error() -> None:
    async def main() -> None:
        client, _ = stdio_client("--max-per-client", "2")
        async with client:
            held = [await client.start_tool_task("hold") for _ in range(2)]
            with pytest.raises(McpError) as info:
                await client.start_tool_task("hold")
            assert info.value.code == -32000 and "Too many tasks" in info.value.message
            assert info.value.data == {"limit": 2}
            for handle in held:
                await handle.cancel()
            await (await client.start_tool_task("slow", {"seconds": 0})).wait()  # room again
            assert (await client.call_tool("plain", {"text": "alive"})).content[0].text == "alive"

    run(main())


def test_a_task_expires_with_its_ttl() -> None:
    async def main() -> None:
        client, _ = stdio_client()
        async with client:
            handle = await client.start_tool_task("slow", {"seconds": 0}, TaskOptions(ttl_ms=300))
            assert handle.info is not None and handle.info.ttl_ms == 300
            await handle.wait()

            async def gone() -> bool:
                try:
                    await handle.status()
                except McpError as exc:
                    assert exc.code == -32602
                    return True
                return False

            await eventually(gone)
            assert handle.task_id not in [t.task_id for t in await client.list_tasks()]
            # Code still running at the end of its TTL is stopped.
            await client.start_tool_task("hold", options=TaskOptions(ttl_ms=300))

            async def stopped() -> bool:
                return (await client.call_tool("stats")).structured_content["running"] == 0

            await eventually(stopped)

    run(main())


def test_cancel_racing_completion_never_leaves_a_cancelled_task_completed() -> None:
    """Whichever wins, the loser changes nothing: a cancel acknowledged stays cancelled; a task that
    completed first refuses the cancel."""

    async def main() -> None:
        client, _ = stdio_client()
        outcomes = set()
        async with client:
            for i in range(40):
                handle = await client.start_tool_task("slow", {"seconds": (i % 8) / 1000})
                try:
                    acknowledged = await handle.cancel()
                except McpError as exc:
                    assert exc.code == -32602
                    final = await handle.wait()
                    assert final.status == "completed"
                    outcomes.add("completed")
                    continue
                assert acknowledged.status in ("cancelled", "completed")
                final = await handle.wait()
                assert final.status == acknowledged.status
                outcomes.add(final.status)
        assert "cancelled" in outcomes

    run(main(), timeout=120)


def test_a_new_client_polls_a_task_another_started() -> None:
    async def main() -> None:
        with serve(SCRIPT) as url:
            async with Client.http(url, mode=SESSION) as first:
                handle = await first.start_tool_task("slow", {"seconds": 0.3, "text": "survived"})
                task_id = handle.task_id
            assert task_id is not None
            async with Client.http(url, mode=SESSION) as second:
                again = second.task(task_id)
                assert (await again.result()).content[0].text == "survived"
                assert (await again.status()).status == "completed"

    run(main())


def test_a_thousand_tasks_at_once_in_bounded_memory() -> None:
    async def main() -> None:
        client, _ = stdio_client("--trace", "--max-per-client", "2000")
        async with client:
            before = (await client.call_tool("stats")).structured_content["traced"]
            handles = await asyncio.gather(*(client.start_tool_task("hold") for _ in range(1000)))
            held = (await client.call_tool("stats")).structured_content
            assert held["running"] == 1000
            per_task = (held["traced"] - before) / 1000
            assert per_task < 32_000, f"{per_task:.0f} bytes per running task"
            await client.call_tool("release")

            async def drained() -> bool:
                return (await client.call_tool("stats")).structured_content["running"] == 0

            await eventually(drained, timeout=60)
            kept = (await client.call_tool("stats")).structured_content["traced"] - before
            assert kept / 1000 < 8_000, f"{kept / 1000:.0f} bytes per finished task kept"  # its record
            results = await asyncio.gather(*(h.result() for h in handles[:50]))
            assert {r.content[0].text for r in results} == {"released"}

    run(main(), timeout=180)


# -- 2026-07-28: the tasks extension, over HTTP -------------------------------------------------------------


def test_the_extension_creates_and_inlines_in_2026(url: str) -> None:
    async def main() -> None:
        client, recorder = http_client(url)
        async with client:
            assert client.server_capabilities["extensions"] == {EXTENSION: {}}
            assert "tasks" not in client.server_capabilities
            # A client that does not declare the extension gets a plain answer from an optional tool...
            assert (await client.call_tool("slow", {"seconds": 0, "text": "sync"})).content[0].text == "sync"
            # ...and -32021 from a tool that runs only as a task.
            with pytest.raises(McpError) as info:
                await client.call_tool("only_task")
            assert info.value.code == -32021
            assert info.value.data["requiredCapabilities"]["extensions"] == {EXTENSION: {}}
            handle = await client.start_tool_task("slow", {"seconds": 0.2, "text": "inlined"})
            assert handle.task_id is not None
            assert (await handle.result()).content[0].text == "inlined"
            # A tool error is completed with isError here (failed is for protocol errors).
            broken = await client.start_tool_task("broken")
            assert (await broken.wait()).status == "completed"
            assert (await broken.result()).is_error is True
            failure = await client.start_tool_task("protocol_failure")
            ended = await failure.wait()
            assert ended.status == "failed" and ended.status_message == "deliberate protocol error"
            with pytest.raises(McpError) as info:
                await failure.result()
            assert info.value.code == -32603
            held = await client.start_tool_task("hold")
            assert (await held.cancel()).status == "cancelled"
            assert (await held.cancel()).status == "cancelled"  # idempotent in the extension
            with pytest.raises(McpError) as info:
                await client.list_tasks()
            assert info.value.code == -32601
        recorder.validate(MODERN)

    run(main())


def test_the_anonymous_allowance_is_said_to_be_shared_in_2026() -> None:
    """Without authentication, the stateless wire's clients share one `max_per_client`: the refusal says
    so to a client that holds no task itself (a session's says the client has its limit)."""

    async def main(url: str) -> None:
        first, _ = http_client(url)
        second, _ = http_client(url)
        async with first, second:
            held = [await first.start_tool_task("hold") for _ in range(2)]
            with pytest.raises(McpError) as info:
                await second.start_tool_task("hold")
            assert info.value.code == -32000 and info.value.data == {"limit": 2}
            assert "the anonymous clients of this server share one limit of 2" in info.value.message
            assert "this client has its limit" not in info.value.message
            for handle in held:
                await handle.cancel()

    with serve(SCRIPT, "--max-per-client", "2") as url:
        run(main(url))


def test_input_required_is_answered_with_tasks_update_in_2026(url: str) -> None:
    async def main() -> None:
        client, recorder = http_client(url)
        async with client:
            handle = await client.start_tool_task("ask_name")
            statuses = []
            async for info in handle.statuses():
                statuses.append(info.status)
                if info.status == "input_required":
                    break
            assert statuses[-1] == "input_required"
            # An answer of the wrong shape is refused, and the task still waits for a good one.
            caps = {"elicitation": {}, "extensions": {EXTENSION: {}}}
            bad = {
                "taskId": handle.task_id,
                "inputResponses": {"name": {"action": 42}},
                "_meta": {"io.modelcontextprotocol/clientCapabilities": caps},
            }
            with pytest.raises(McpError) as info:
                await client.request("tasks/update", bad)
            assert info.value.code == -32602
            assert (await handle.status()).status == "input_required"
            assert (await handle.result()).content[0].text == "hello Ada"  # wait() answers the input
            # Input gathered before the task begins (multi round-trip input, then the task).
            deferred = await client.start_tool_task("name_then_task")
            assert deferred.task_id is not None
            assert (await deferred.result()).content[0].text == "task for Ada"
        recorder.validate(MODERN)

    run(main())


@pytest.mark.parametrize("revision", [SESSION, MODERN])
def test_a_task_is_its_principals_alone(revision: str) -> None:
    def as_user(url: str, token: str) -> Client:
        async def auth() -> str:
            return token

        return Client(StreamableHttpTransport(url, auth=auth), mode=revision, elicitation=answer_name)

    async def main() -> None:
        with serve(SCRIPT, "--users", "alice-token=alice,bob-token=bob") as url:
            async with as_user(url, "alice-token") as alice, as_user(url, "bob-token") as bob:
                handle = await alice.start_tool_task("hold")
                assert handle.task_id is not None
                for attempt in (bob.task(handle.task_id).status(), bob.task(handle.task_id).cancel()):
                    with pytest.raises(McpError) as info:
                        await attempt
                    assert info.value.code == -32602  # as if there were no such task
                if revision == SESSION:
                    assert handle.task_id not in [t.task_id for t in await bob.list_tasks()]
                    assert handle.task_id in [t.task_id for t in await alice.list_tasks()]
                assert (await handle.status()).status == "working"
                assert (await handle.cancel()).status == "cancelled"

    run(main())


# -- 2025-11-25: the server as requestor (task-augmented sampling and elicitation to the client) -------


async def answer_sampling(params: Any) -> dict[str, Any]:
    return {"role": "assistant", "content": {"type": "text", "text": "42"}, "model": "test-model"}


def _methods(frames: list[bytes], method: str) -> list[dict[str, Any]]:
    return [m for m in map(_json, frames) if m.get("method") == method]


@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_the_server_asks_the_client_for_sampling_as_a_task(transport: str, url: str) -> None:
    """`ctx.sample(..., as_task=True)`: the request carries `task`, our client answers CreateTaskResult
    and runs its callback as a task, the server polls tasks/get and fetches tasks/result."""

    async def main() -> None:
        if transport == "stdio":
            recorder = Recorder(StdioClientTransport(sys.executable, [SCRIPT]))
        else:
            recorder = Recorder(StreamableHttpTransport(url))
        client = Client(recorder, mode=SESSION, sampling=answer_sampling, elicitation=answer_name)
        async with client:
            result = await client.call_tool("sample_as_task")
            assert result.content[0].text == "model said 42"
            # The same from inside a task of the server's own.
            handle = await client.start_tool_task("elicit_as_task")
            assert (await handle.result()).content[0].text == "hello Ada (accept)"
        recorder.validate(SESSION)
        asks = _methods(recorder.received, "sampling/createMessage")
        assert len(asks) == 1 and "task" in asks[0]["params"]
        sent = map(_json, recorder.sent)
        created = [m for m in sent if m.get("id") == asks[0]["id"] and "method" not in m]
        client_task = created[0]["result"]["task"]["taskId"]
        fetched = _methods(recorder.received, "tasks/result")
        assert {m["params"]["taskId"] for m in fetched} >= {client_task}
        assert _methods(recorder.received, "tasks/get")  # it polled before it fetched
        elicits = _methods(recorder.received, "elicitation/create")
        assert elicits and "task" in elicits[0]["params"]
        assert elicits[0]["params"]["_meta"][RELATED_TASK] == {"taskId": handle.task_id}

    run(main())


def test_a_cancelled_tool_cancels_the_clients_task() -> None:
    """Cancellation reaches the running code on both sides: the server's task is cancelled, its
    handler stops, and the client's sampling task it waited on is cancelled with tasks/cancel."""

    async def main() -> None:
        started, stopped = asyncio.Event(), asyncio.Event()

        async def slow_model(params: Any) -> dict[str, Any]:
            started.set()
            try:
                await asyncio.Event().wait()
            finally:
                stopped.set()
            raise AssertionError("unreachable")

        recorder = Recorder(StdioClientTransport(sys.executable, [SCRIPT]))
        async with Client(recorder, mode=SESSION, sampling=slow_model) as client:
            handle = await client.start_tool_task("sample_as_task")
            await asyncio.wait_for(started.wait(), 30)
            assert (await handle.cancel()).status == "cancelled"
            await asyncio.wait_for(stopped.wait(), 30)  # the client's callback was stopped
            await eventually(lambda: _has(recorder, "tasks/cancel"))
        recorder.validate(SESSION)

    run(main())


async def _has(recorder: Recorder, method: str) -> bool:
    return bool(_methods(recorder.received, method))


def test_as_task_needs_the_clients_declaration() -> None:
    """A client that runs no tasks (`run_tasks=False`) is not asked for one: the tool fails with the
    missing capability named, and nothing is sent to the client."""

    async def main() -> None:
        recorder = Recorder(StdioClientTransport(sys.executable, [SCRIPT]))
        async with Client(recorder, mode=SESSION, sampling=answer_sampling, run_tasks=False) as client:
            with pytest.raises(McpError) as info:
                await client.call_tool("sample_as_task")
            assert "tasks.requests.sampling.createMessage" in info.value.message
        recorder.validate(SESSION)
        assert not _methods(recorder.received, "sampling/createMessage")

    run(main())


# -- 2026-07-28: status notifications on a subscriptions/listen stream ---------------------------------


def test_statuses_come_as_notifications_on_a_listen_stream_in_2026(url: str) -> None:
    """`TaskHandle.statuses()` opens `subscriptions/listen` with the task's id: every change arrives as
    `notifications/tasks` (the whole task, the result inlined at the end), and nothing is polled after
    the first look (the safety poll is 30 s away)."""

    async def main() -> None:
        client, recorder = http_client(url)
        async with client:
            first_key = key = f"listen-{time.monotonic_ns()}"
            handle = await client.start_tool_task("latched", {"key": key})
            seen = []
            async for info in handle.statuses():
                seen.append(info.status)
                if len(seen) == 1:
                    await client.call_tool("open_latch", {"key": key})
            assert seen == ["working", "completed"]
            # A cancel made elsewhere (another client, by id) reaches the stream too.
            key = f"cancel-{time.monotonic_ns()}"
            second = await client.start_tool_task("latched", {"key": key})
            statuses = second.statuses()
            assert (await anext(statuses)).status == "working"
            other, _ = http_client(url)
            async with other:
                await other.task(second.task_id or "").cancel()
            assert (await anext(statuses)).status == "cancelled"
            await statuses.aclose()
        recorder.validate(MODERN)
        sent = list(map(_json, recorder.sent))
        listens = [m for m in sent if m.get("method") == "subscriptions/listen"]
        assert [m["params"]["notifications"] for m in listens] == [
            {"taskIds": [handle.task_id]},
            {"taskIds": [second.task_id]},
        ]
        gets = [m for m in sent if m.get("method") == "tasks/get"]
        assert len(gets) == 2  # one first look per handle: the rest came as notifications
        notes = _methods(recorder.received, "notifications/tasks")
        first = [n["params"] for n in notes if n["params"]["taskId"] == handle.task_id]
        assert first[-1]["status"] == "completed"
        assert first[-1]["result"]["content"][0]["text"] == f"latch {first_key} opened"
        assert all("io.modelcontextprotocol/subscriptionId" in n["params"]["_meta"] for n in notes)
        acks = _methods(recorder.received, "notifications/subscriptions/acknowledged")
        assert acks[0]["params"]["notifications"] == {"taskIds": [handle.task_id]}

    run(main())


def test_task_notifications_need_the_extension_and_follow_only_ones_own_tasks(url: str) -> None:
    async def main() -> None:
        client, recorder = http_client(url)
        async with client:
            with pytest.raises(McpError) as info:  # no extension declared in this request's capabilities
                await client.request("subscriptions/listen", {"notifications": {"taskIds": ["x"]}})
            assert info.value.code == -32021
            assert info.value.data["requiredCapabilities"] == {"extensions": {EXTENSION: {}}}
        recorder.validate(MODERN)

    run(main())


def test_the_clients_failed_task_comes_back_as_the_requests_own_error() -> None:
    """The client's sampling callback fails with an MCP error: its task ends `failed`, `tasks/result`
    answers that error exactly (code, message, data), and the handler that asked gets it."""

    async def no_model(params: Any) -> dict[str, Any]:
        raise McpError("no model here", code=-32042, data={"why": "test"})

    async def main() -> None:
        recorder = Recorder(StdioClientTransport(sys.executable, [SCRIPT]))
        async with Client(recorder, mode=SESSION, sampling=no_model) as client:
            with pytest.raises(McpError) as info:
                await client.call_tool("sample_as_task")
            assert info.value.code == -32042 and "no model here" in info.value.message
        recorder.validate(SESSION)
        answers = [m for m in map(_json, recorder.sent) if "error" in m]
        assert answers[-1]["error"] == {"code": -32042, "message": "no model here", "data": {"why": "test"}}

    run(main())
