"""Tasks kept in a real Redis: `RedisTaskStore` itself (records, compare-and-set under a race between two
workers' connections, bounds, TTL, listing), and two workers of `tests/servers/tasks.py` sharing one Redis,
a task created on one polled, fetched, answered and cancelled on the other, in both eras that have tasks
(2025-11-25 core, 2026-07-28 extension), the cancel reaching the code on the worker that runs it."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from mcpbind.client import Client
from mcpbind.errors import McpError
from mcpbind.protocol import revisions
from mcpbind.protocol import tasks as proto
from mcpbind.protocol.tasks import TaskPolicy, TaskRecord
from mcpbind.server import Context, Server, TooManyTasks
from mcpbind.server.tasks import Tasks
from mcpbind.transports.http.client import StreamableHttpTransport
from mcpbind.transports.http.redis import RedisConnection, RedisTaskStore

from ..http_support import BOTH, MODERN, Session, call, initialize, messages_of, request, serve
from ..redis_support import RedisServer
from ..schema_check import Recorder
from ..task_support import hold_anonymous, page_through

SCRIPT = str(Path(__file__).resolve().parents[1] / "servers" / "tasks.py")
SESSION = "2025-11-25"
POLICY = TaskPolicy()


def run(coro: Awaitable[Any], timeout: float = 90) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 20.0) -> None:
    """Poll `check` until it holds (bounded): no fixed sleep racing the server."""
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


def connection(redis_server: RedisServer) -> RedisConnection:
    """A connection (its own pool) under a prefix no other test uses."""
    return RedisConnection(redis_server.url, prefix=f"t{secrets.token_hex(4)}:")


def record(client: str = "c", owner: str = "", ttl_ms: int = 60_000) -> TaskRecord:
    return proto.new_record("tools/call", POLICY, ttl_ms=ttl_ms, owner=owner, client=client)


# -- the store -----------------------------------------------------------------------------------------


def test_records_are_kept_with_their_ttl_and_changed_only_by_compare_and_set(
    redis_server: RedisServer,
) -> None:
    async def main() -> None:
        conn = connection(redis_server)
        store = RedisTaskStore(conn)
        first = record(ttl_ms=100_000)
        await store.create(first, max_per_client=10, max_total=10)
        assert await store.get(first.task_id) == first
        assert 90_000 <= await conn.client.pttl(conn.key("task", first.task_id)) <= 100_000
        done = proto.move(first, "completed", result={"content": [], "isError": False})
        assert await store.replace(first, done)
        assert not await store.replace(first, proto.move(first, "cancelled"))  # stale: refused
        assert await store.get(first.task_id) == done
        # The result is kept as long as the record, which keeps its TTL through the change.
        assert 90_000 <= await conn.client.pttl(conn.key("task", first.task_id)) <= 100_000
        assert await store.get("no-such-task") is None
        await conn.close()

    run(main())


async def gets(conn: RedisConnection) -> int:
    """The GETs Redis has run since its statistics were reset (a script's own included)."""
    stats = await conn.client.info("commandstats")
    return int(stats.get("cmdstat_get", {}).get("calls", 0))


@pytest.mark.parametrize("others", [10, 10_000])
def test_an_anonymous_listing_reads_only_the_callers_records_in_redis(
    redis_server: RedisServer, others: int
) -> None:
    """`tasks/list` of an unauthenticated caller reads its own records in Redis (counted: the GETs Redis
    runs), however many anonymous records other sessions hold, and pages through them all; records
    dropped or expired leave its list."""

    async def main() -> None:
        conn = connection(redis_server)
        store = RedisTaskStore(conn)
        runner = Tasks(store=store)
        mine = await hold_anonymous(store, others)
        await conn.client.config_resetstat()
        assert await page_through(runner, "me", 2, 3) == [r.task_id for r in mine]
        assert await gets(conn) == 3 * len(mine)  # (each page reads the caller's 5)
        # A principal's list and another session's stay apart from it.
        assert await runner.listed(None, 50, "nobody") == ([], None)
        assert await store.visible_to("me", "") == []
        # A dropped record (cancelled, at `max_total`) leaves the list, and its id the index.
        assert await store.replace(mine[0], proto.move(mine[0], "cancelled"))
        fresh = proto.new_record("tools/call", POLICY, client="addr", creator="me")
        await store.create(fresh, max_per_client=others + 10, max_total=others + 5)
        listed = [r.task_id for r in await store.visible_to("", "me")]
        assert sorted(listed) == sorted([r.task_id for r in mine[1:]] + [fresh.task_id])
        assert await conn.client.zcard(conn.key("tasks-created", "me")) == 5
        assert not await conn.client.exists(conn.key("tasks-owner", ""))  # (no index of every one)
        await conn.close()

    run(main(), timeout=300)


def test_an_anonymous_callers_index_follows_the_ttl(redis_server: RedisServer) -> None:
    async def main() -> None:
        conn = connection(redis_server)
        store = RedisTaskStore(conn)
        brief = proto.new_record("tools/call", POLICY, ttl_ms=200, client="c", creator="s")
        kept = proto.new_record("tools/call", POLICY, client="c", creator="s")
        for r in (brief, kept):
            await store.create(r, max_per_client=10, max_total=10)
        assert {r.task_id for r in await store.visible_to("", "s")} == {brief.task_id, kept.task_id}

        async def gone() -> bool:
            return await store.get(brief.task_id) is None

        await eventually(gone)
        assert [r.task_id for r in await store.visible_to("", "s")] == [kept.task_id]
        assert await conn.client.zcard(conn.key("tasks-created", "s")) == 1
        await conn.close()

    run(main())


def test_two_workers_racing_to_end_a_task_one_wins_and_it_stays_as_it_won(redis_server: RedisServer) -> None:
    """Two connections (two pools, as two workers have) move the same records at once: completing and
    cancelling. Exactly one change lands each time, and the record is the winner's."""

    async def main() -> None:
        one, two = connection(redis_server), connection(redis_server)
        two.prefix = one.prefix
        stores = RedisTaskStore(one), RedisTaskStore(two)
        winners = []
        for _ in range(40):
            created = record()
            await stores[0].create(created, max_per_client=100, max_total=1000)
            seen = [await store.get(created.task_id) for store in stores]
            assert seen[0] == seen[1] == created
            completed = proto.move(created, "completed", result={"content": []})
            cancelled = proto.move(created, "cancelled", status_message="cancelled by request")
            outcome = await asyncio.gather(
                stores[0].replace(created, completed), stores[1].replace(created, cancelled)
            )
            assert sorted(outcome) == [False, True], outcome
            won = completed if outcome[0] else cancelled
            assert await stores[1].get(created.task_id) == won
            winners.append(won.status)
            # Terminal: nothing moves it again (the status table), and the store has no path around it.
            with pytest.raises(proto.IllegalTransition):
                proto.move(won, "working")
            assert not await stores[0].replace(created, proto.move(created, "failed"))
        await one.close()
        await two.close()
        assert set(winners) <= {"completed", "cancelled"}

    run(main())


def test_the_bounds_are_counted_in_redis_and_cancelled_tasks_make_room(redis_server: RedisServer) -> None:
    async def main() -> None:
        conn = connection(redis_server)
        store = RedisTaskStore(conn)
        mine = [record("alice") for _ in range(2)]
        for r in mine:
            await store.create(r, max_per_client=2, max_total=3)
        with pytest.raises(TooManyTasks) as info:
            await store.create(record("alice"), max_per_client=2, max_total=3)
        assert info.value.data == {"limit": 2} and "this client" in info.value.message
        # A finished task no longer counts against its client (it still counts in all).
        assert await store.replace(mine[0], proto.move(mine[0], "completed", result={"content": []}))
        third = record("alice")
        await store.create(third, max_per_client=2, max_total=3)
        with pytest.raises(TooManyTasks) as info:
            await store.create(record("bob"), max_per_client=2, max_total=3)
        assert info.value.data == {"limit": 3} and "the server" in info.value.message
        # A cancelled record is dropped to make room for new work.
        assert await store.replace(third, proto.move(third, "cancelled"))
        await store.create(record("bob"), max_per_client=2, max_total=3)
        assert await store.get(third.task_id) is None
        assert await store.get(mine[0].task_id) is not None  # the completed result is kept
        await conn.close()

    run(main())


def test_records_expire_with_their_ttl_and_listing_is_per_owner_oldest_first(
    redis_server: RedisServer,
) -> None:
    async def main() -> None:
        conn = connection(redis_server)
        store = RedisTaskStore(conn)
        kept = [record(owner="alice") for _ in range(3)]
        for r in kept:
            await store.create(r, max_per_client=10, max_total=10)
        await store.create(record(owner="bob"), max_per_client=10, max_total=10)
        brief = record(owner="alice", ttl_ms=200)
        await store.create(brief, max_per_client=10, max_total=10)
        listed = [r.task_id for r in await store.owned_by("alice")]
        expected = sorted([*kept, brief], key=lambda r: (r.created_ms, r.task_id))
        assert listed == [r.task_id for r in expected]

        async def gone() -> bool:
            return await store.get(brief.task_id) is None

        await eventually(gone)
        assert [r.task_id for r in await store.owned_by("alice")] == [
            r.task_id for r in expected if r != brief
        ]
        assert await store.purge(proto.now_ms()) == 1  # its index entry
        assert await conn.client.zcard(conn.key("tasks")) == 4
        await conn.close()

    run(main())


def test_several_workers_without_redis_are_refused_for_tasks_kept_in_memory() -> None:
    from mcpbind.server import Server
    from mcpbind.transports.http.scaleout import check_workers

    def stateless_with_tasks(**options: Any) -> Server:
        server = Server("s", revisions_served=[MODERN], **options)

        @server.tool(task_support="optional")
        async def slow() -> str:
            return "done"

        return server

    check_workers(Server("s", revisions_served=[MODERN]), 2, None)  # no tasks: nothing to share
    with pytest.raises(ValueError, match="cannot share tasks"):
        check_workers(stateless_with_tasks(), 2, None)
    check_workers(stateless_with_tasks(), 1, None)
    check_workers(stateless_with_tasks(), 2, "redis://127.0.0.1:1/0")
    # A shared store of the user's own (this one connects on first use: never here).
    shared = RedisTaskStore(RedisConnection("redis://127.0.0.1:1/0"))
    check_workers(stateless_with_tasks(task_store=shared), 2, None)


# -- two workers ---------------------------------------------------------------------------------------


@contextmanager
def two_workers(redis_url: str, *extra: str) -> Iterator[list[str]]:
    with ExitStack() as stack:
        yield [stack.enter_context(serve(SCRIPT, "--redis", redis_url, *extra)) for _ in range(2)]


async def answer_name(params: Any) -> dict[str, Any]:
    return {"action": "accept", "content": {"name": "Ada"}}


def client_of(url: str, revision: str) -> tuple[Client, Recorder]:
    recorder = Recorder(StreamableHttpTransport(url))
    return Client(recorder, mode=revision, elicitation=answer_name), recorder


async def pid(client: Client) -> int:
    return int((await client.call_tool("pid")).structured_content["result"])


@pytest.mark.parametrize("revision", [SESSION, MODERN])
def test_a_task_made_on_one_worker_is_polled_fetched_and_cancelled_on_another(
    redis_server: RedisServer, revision: str, tmp_path: Path
) -> None:
    async def main(one: str, two: str) -> None:
        first, first_frames = client_of(one, revision)
        second, second_frames = client_of(two, revision)
        async with first, second:
            runs_it = await pid(first)
            assert runs_it != await pid(second)
            started = await first.start_tool_task("slow", {"seconds": 0.5, "text": "from one"})
            assert started.task_id is not None
            there = second.task(started.task_id)
            assert (await there.status()).status == "working"
            # Worker two answers once worker one completes it (2025-11-25 `tasks/result` blocks there).
            assert (await there.result()).content[0].text == "from one"
            assert (await there.status()).status == "completed"
            if revision == SESSION:  # listed for the session that made it, not for another one
                assert started.task_id in [t.task_id for t in await first.list_tasks()]
                assert started.task_id not in [t.task_id for t in await second.list_tasks()]
            # A cancel made on worker two stops the code on worker one.
            marker = tmp_path / f"cancelled-{revision}"
            held = await first.start_tool_task("hold_marked", {"path": str(marker)})
            assert held.task_id is not None
            assert (await second.task(held.task_id).cancel()).status == "cancelled"

            async def stopped() -> bool:
                return marker.exists() and marker.read_text() == str(runs_it)

            await eventually(stopped)

            async def none_running() -> bool:
                return (await first.call_tool("stats")).structured_content["running"] == 0

            await eventually(none_running)
            assert (await held.status()).status == "cancelled"
            if revision == SESSION:
                with pytest.raises(McpError) as info:
                    await held.cancel()  # terminal, on either worker
                assert info.value.code == -32602
        first_frames.validate(revision)
        second_frames.validate(revision)

    with two_workers(redis_server.url) as (one, two):
        run(main(one, two))


def test_an_addresss_sessions_share_one_allowance_on_every_worker(redis_server: RedisServer) -> None:
    """An anonymous client's tasks count against its address (loopback bounded here) in Redis, whichever
    worker serves which of its sessions: a session taken up by another worker from Redis counts there
    against the same address, not against the session alone."""
    bounded = ("--redis", redis_server.url, "--max-per-client", "2", "--bound-loopback")
    with ExitStack() as stack:
        one, two = (stack.enter_context(serve(SCRIPT, *bounded)) for _ in range(2))
        local = httpx.HTTPTransport(local_address="127.0.0.2")
        with httpx.Client(timeout=30, transport=local) as http:

            def opened(url: str) -> Session:
                answer = http.post(url, json=initialize(SESSION), headers={"accept": BOTH})
                assert answer.status_code == 200, answer.text
                session = Session(url, answer.headers["mcp-session-id"], SESSION)
                note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
                assert http.post(url, json=note, headers=session.headers()).status_code == 202
                return session

            def start(url: str, session: Session) -> dict[str, Any]:
                ask = call(2, "only_task", {"seconds": 30}, task={"ttl": 60_000})
                (answer,) = messages_of(http.post(url, json=ask, headers=session.headers()))
                return dict(answer.get("result", answer.get("error")))

            first, second, third = opened(one), opened(two), opened(one)
            held = start(one, first)["task"]["taskId"]
            assert start(two, second)["task"]["status"] == "working"
            assert start(one, third)["data"] == {"limit": 2}  # counted with worker two's
            cancel = request(3, "tasks/cancel", {"taskId": held})
            assert http.post(two, json=cancel, headers=first.headers()).status_code == 200
            # `first`, taken up by worker two, takes the place back: the address's, not its own.
            assert start(two, first)["task"]["status"] == "working"
            refused = start(one, third)
            assert refused["data"] == {"limit": 2} and "address" in refused["message"]


def test_input_for_a_task_reaches_the_worker_that_runs_it_in_2026(redis_server: RedisServer) -> None:
    """`tasks/update` sent to another worker than the one running the task is passed to it."""

    async def main(one: str, two: str) -> None:
        first, _ = client_of(one, MODERN)
        second, recorder = client_of(two, MODERN)
        async with first, second:
            started = await first.start_tool_task("ask_name")
            assert started.task_id is not None
            there = second.task(started.task_id)
            async for info in there.statuses():
                if info.status == "input_required":
                    break
            assert (await there.result()).content[0].text == "hello Ada"  # answered via worker two
        recorder.validate(MODERN)

    with two_workers(redis_server.url) as (one, two):
        run(main(one, two))


def test_tasks_result_on_another_worker_returns_when_the_task_ends_there(redis_server: RedisServer) -> None:
    """Worker two's `tasks/result` is woken by word of the end from worker one: with the fallback re-read
    of the store set to ten minutes, only that word can answer it within the test's time."""

    async def main(one: str, two: str) -> None:
        first, _ = client_of(one, SESSION)
        second, recorder = client_of(two, SESSION)
        async with first, second:
            held = await first.start_tool_task("hold")
            assert held.task_id is not None
            waiting = asyncio.ensure_future(second.task(held.task_id).result())
            try:

                async def blocked() -> bool:  # worker two holds the request, waiting
                    return (await second.call_tool("stats")).structured_content["waiting"] == 1

                await eventually(blocked)
                assert not waiting.done()
                await first.call_tool("release")
                assert (await asyncio.wait_for(waiting, 60)).content[0].text == "released"
            finally:
                waiting.cancel()
        recorder.validate(SESSION)

    with two_workers(redis_server.url, "--peer-wait", "600") as (one, two):
        run(main(one, two))


def test_a_cancel_on_one_worker_racing_completion_on_another_never_undoes_either(
    redis_server: RedisServer,
) -> None:
    """A cancel acknowledged on worker two stays cancelled though worker one's code completes meanwhile;
    a task that completed first refuses the cancel (2025-11-25)."""

    async def main(one: str, two: str) -> None:
        first, _ = client_of(one, SESSION)
        second, _ = client_of(two, SESSION)
        outcomes = set()
        async with first, second:
            for i in range(30):
                # Odd rounds race (a few ms of work); even ones are long enough for the cancel to win.
                seconds = 30.0 if i % 2 == 0 else (i % 6) / 1000
                started = await first.start_tool_task("slow", {"seconds": seconds})
                assert started.task_id is not None
                there = second.task(started.task_id)
                try:
                    acknowledged = (await there.cancel()).status
                except McpError as exc:
                    assert exc.code == -32602
                    acknowledged = "completed"
                final = await started.wait()
                assert final.status == acknowledged, (acknowledged, final.status)
                outcomes.add(final.status)
        assert "cancelled" in outcomes

    with two_workers(redis_server.url) as (one, two):
        run(main(one, two), timeout=180)


def test_input_answered_in_part_on_another_worker_is_taken_before_the_ack_in_2026(
    redis_server: RedisServer,
) -> None:
    """`tasks/update` on the worker not running the task is acked once the running worker has taken the
    responses: the next `tasks/get`, on either worker, lists only the request still pending; a response
    of the wrong shape is refused (-32602) by the worker that got it, and nothing is taken."""
    meta = {revisions.META_CAPABILITIES: {"elicitation": {}, "extensions": {proto.EXTENSION: {}}}}

    async def main(one: str, two: str) -> None:
        first, _ = client_of(one, MODERN)
        second, _ = client_of(two, MODERN)

        async def ask(client: Client, method: str, **params: Any) -> dict[str, Any]:
            answer: dict[str, Any] = await client.request(method, {**params, "_meta": meta}, result_type=Any)
            return answer

        async with first, second:
            started = await first.start_tool_task("two_names")
            task_id = started.task_id
            assert task_id is not None

            async def both_asked() -> bool:
                task = await ask(second, "tasks/get", taskId=task_id)
                return task["status"] == "input_required" and len(task.get("inputRequests") or {}) == 2

            await eventually(both_asked)
            with pytest.raises(McpError) as info:
                await ask(second, "tasks/update", taskId=task_id, inputResponses={"first": {"action": 5}})
            assert info.value.code == -32602
            assert len((await ask(first, "tasks/get", taskId=task_id))["inputRequests"]) == 2
            name = {"action": "accept", "content": {"name": "Ada"}}
            acked = await ask(second, "tasks/update", taskId=task_id, inputResponses={"first": name})
            assert acked["resultType"] == "complete"
            for client in (second, first):
                task = await ask(client, "tasks/get", taskId=task_id)
                assert task["status"] == "input_required"
                assert list(task["inputRequests"]) == ["second"], task
            other = {"action": "accept", "content": {"name": "Bo"}}
            await ask(second, "tasks/update", taskId=task_id, inputResponses={"second": other})
            assert (await second.task(task_id).result()).content[0].text == "Ada and Bo"

    with two_workers(redis_server.url) as (one, two):
        run(main(one, two))


def test_questions_a_task_asks_together_are_stored_together_in_2026(redis_server: RedisServer) -> None:
    """Two questions asked at once (`asyncio.gather`) reach the shared store in one record: a poll, on any
    worker, never finds the task waiting on one of them only. (The store's round trips suspend the
    task, so writing each question as it is asked put one alone in Redis for a moment.)"""
    written: list[TaskRecord] = []

    class Watched(RedisTaskStore):
        async def replace(self, old: TaskRecord, new: TaskRecord) -> bool:
            written.append(new)
            return await super().replace(old, new)

    server = Server("together", "1.0.0", task_policy=TaskPolicy(poll_interval_ms=20))
    schema = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}

    @server.tool(task_support="required")
    async def two_names(ctx: Context) -> str:
        first, second = await asyncio.gather(
            ctx.elicit("First?", schema, key="first"), ctx.elicit("Second?", schema, key="second")
        )
        return f"{(first.content or {}).get('name')} and {(second.content or {}).get('name')}"

    assert server.tasks is not None
    store = Watched(connection(redis_server))
    server.tasks.store = store

    async def main() -> None:
        async with Client.memory(server, mode=MODERN, elicitation=answer_name) as client:
            handle = await client.start_tool_task("two_names")
            assert (await handle.result()).content[0].text == "Ada and Ada"
        await store.connection.close()

    run(main())
    asked = [r for r in written if r.status == "input_required"]
    assert asked, "the task never asked"
    assert sorted(asked[0].input_requests or {}) == ["first", "second"], asked[0]
