"""Tasks without I/O: the status table as properties, records, their wire forms, and the in-memory store
(bounds, expiry, compare-and-set) run on an event loop with no socket."""

from __future__ import annotations

import asyncio
import re
import sys
from types import FrameType
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcpbind.client.task_receiver import ClientTasks
from mcpbind.errors import McpError
from mcpbind.protocol import tasks
from mcpbind.protocol.tasks import (
    RELATED_TASK,
    TERMINAL,
    TRANSITIONS,
    IllegalTransition,
    TaskPolicy,
    TaskRecord,
)
from mcpbind.server import MemoryTaskStore, TooManyTasks
from mcpbind.server import tasks as server_tasks

from ..task_support import hold_anonymous, page_through

STATUSES = list(TRANSITIONS)
# What the 2025-11-25 text allows, written out here apart from the table under test.
ALLOWED = {
    ("working", "input_required"),
    ("working", "completed"),
    ("working", "failed"),
    ("working", "cancelled"),
    ("input_required", "working"),
    ("input_required", "completed"),
    ("input_required", "failed"),
    ("input_required", "cancelled"),
}


def record(now: int | None = None, **changes: Any) -> TaskRecord:
    base = tasks.new_record("tools/call", TaskPolicy(), now=now)
    return msgspec.structs.replace(base, **changes)


def test_the_table_is_the_specs() -> None:
    table = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
    assert table == ALLOWED
    assert TERMINAL == {"completed", "failed", "cancelled"}


@given(st.lists(st.sampled_from(STATUSES), max_size=30))
@settings(max_examples=300)
def test_no_forbidden_transition_ever_happens(attempts: list[str]) -> None:
    current = record()
    assert current.status == "working"  # every task begins there
    history = [current.status]
    for target in attempts:
        before = current
        try:
            current = tasks.move(current, target)
        except IllegalTransition:
            assert current is before  # a refused move changes nothing
            assert (before.status, target) not in ALLOWED
            assert before.status in TERMINAL or before.status != target  # a live task may stay put
            continue
        if current.status != before.status:
            assert (before.status, current.status) in ALLOWED
        else:
            assert before.status not in TERMINAL  # staying put is for live tasks only
        history.append(current.status)
    # Once terminal, always the same terminal status.
    terminal = [i for i, s in enumerate(history) if s in TERMINAL]
    if terminal:
        assert len(set(history[terminal[0] :])) == 1


def test_a_move_keeps_time_moving_forward() -> None:
    moved = tasks.move(record(now=1_000), "completed", now=500)  # a clock that went back
    assert moved.updated_ms == 1_000 and moved.status == "completed"


def test_ttl_policy_and_expiry() -> None:
    policy = TaskPolicy(default_ttl_ms=10, max_ttl_ms=100)
    assert (
        policy.ttl(None) == 10 and policy.ttl(0) == 10 and policy.ttl(50) == 50 and policy.ttl(10**9) == 100
    )
    r = tasks.new_record("tools/call", policy, ttl_ms=50, now=1_000)
    assert not r.expired(1_049) and r.expired(1_050)


def test_ids_are_unguessable_and_unique() -> None:
    ids = {tasks.new_record("tools/call", TaskPolicy()).task_id for _ in range(1000)}
    assert len(ids) == 1000 and all(len(i) >= 20 for i in ids)


def test_the_two_wire_forms() -> None:
    done = tasks.move(record(), "completed", now=2_000, result={"content": []})
    core = tasks.core_task(done)
    assert core["ttl"] == done.ttl_ms and core["pollInterval"] == done.poll_ms and "result" not in core
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", core["createdAt"])
    detailed = tasks.detailed_task(done)
    assert detailed["resultType"] == "complete" and detailed["result"] == {"content": []}
    assert "ttl" not in detailed and detailed["ttlMs"] == done.ttl_ms
    created = tasks.detailed_task(done, created=True)
    assert created["resultType"] == "task" and "result" not in created
    failed = tasks.move(record(), "failed", error={"code": -32603, "message": "x"})
    assert tasks.detailed_task(failed)["error"]["code"] == -32603 and "result" not in tasks.detailed_task(
        failed
    )
    parked = tasks.move(record(), "input_required", input_requests={"k": {"method": "elicitation/create"}})
    assert tasks.detailed_task(parked)["inputRequests"] == {"k": {"method": "elicitation/create"}}
    encoded = msgspec.json.decode(msgspec.json.encode(tasks.CreatedTask.of(record())))
    assert encoded["resultType"] == "task" and encoded["content"] == [] and "task" not in encoded


def test_the_memory_store_bounds_per_client_and_in_all() -> None:
    async def main() -> None:
        store = MemoryTaskStore()
        policy = TaskPolicy()

        def new(client: str) -> TaskRecord:
            return tasks.new_record("tools/call", policy, client=client)

        made = [new("a") for _ in range(2)]
        for r in made:
            await store.create(r, max_per_client=2, max_total=3)
        with pytest.raises(TooManyTasks) as info:
            await store.create(
                tasks.new_record("tools/call", policy, client="a"), max_per_client=2, max_total=3
            )
        assert info.value.data == {"limit": 2}
        # A finished task no longer counts against its client...
        assert await store.replace(made[0], tasks.move(made[0], "cancelled"))
        await store.create(new("a"), max_per_client=2, max_total=3)
        # ...but the store is full: a cancelled one makes room, a completed one is kept for its TTL.
        done = tasks.move(made[1], "completed")
        assert await store.replace(made[1], done)
        await store.create(new("b"), max_per_client=2, max_total=3)
        assert await store.get(made[0].task_id) is None and await store.get(done.task_id) == done
        with pytest.raises(TooManyTasks) as info:
            await store.create(
                tasks.new_record("tools/call", policy, client="c"), max_per_client=2, max_total=3
            )
        assert info.value.data == {"limit": 3}

    asyncio.run(main())


def _lines_run(call: Any) -> int:
    """The lines of `mcpbind.server.tasks` run by one call of a store method that never waits (the
    memory store's), driven with no event loop; what it raises is raised."""
    run = 0
    filename = server_tasks.__file__

    def count(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal run
        if event == "line":
            run += 1
        return count

    def enter(frame: FrameType, event: str, arg: object) -> Any:
        return count if frame.f_code.co_filename == filename else None

    sys.settrace(enter)
    try:
        call().send(None)
    except StopIteration:
        pass
    finally:
        sys.settrace(None)
    return run


def test_a_create_does_the_same_work_whatever_the_store_holds() -> None:
    """Counted in lines run, not timed: a create that walked the records (to count a client's
    unfinished tasks, or to find expired or cancelled ones at `max_total`) would run lines per record."""
    policy = TaskPolicy()

    def work(held: int) -> tuple[int, int, int]:
        store = MemoryTaskStore()
        for n in range(held):
            r = tasks.new_record("tools/call", policy, client="busy" if n < 3 else f"c{n}")
            asyncio.run(store.create(r, max_per_client=3, max_total=held + 2))
        cancelled = asyncio.run(store.get(next(iter(store._records))))
        assert cancelled is not None
        asyncio.run(store.replace(cancelled, tasks.move(cancelled, "cancelled")))

        def create(client: str, max_total: int) -> Any:
            r = tasks.new_record("tools/call", policy, client=client)
            return lambda: store.create(r, max_per_client=3, max_total=max_total)

        accepted = _lines_run(create("fresh", held + 2))
        # At `max_total`: the one cancelled record makes room; then none is left to.
        making_room = _lines_run(create("other", held + 1))
        with pytest.raises(TooManyTasks) as info:
            _lines_run(create("more", held + 1))
        assert info.value.data == {"limit": held + 1}
        # "busy" made 3, one of them cancelled since: one more, and it is at its limit.
        _lines_run(create("busy", held + 9))
        with pytest.raises(TooManyTasks) as info:
            _lines_run(create("busy", held + 9))
        assert info.value.data == {"limit": 3}
        return accepted, making_room, len(store)

    small, large = work(100), work(10_000)
    assert small[:2] == large[:2], (small, large)
    assert (small[2], large[2]) == (102, 10_002)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "create",
                    "create_expired",
                    "working",
                    "input_required",
                    "completed",
                    "cancelled",
                    "get",
                    "purge",
                ]
            ),
            st.integers(0, 3),
        ),
        max_size=60,
    )
)
def test_the_memory_stores_counts_follow_its_records(steps: list[tuple[str, int]]) -> None:
    """Whatever creates, changes, reads and purges come, the store's counts are those of its records:
    unfinished ones per client, the cancelled ones, and an expiry entry for each record."""
    policy = TaskPolicy()
    store = MemoryTaskStore()
    made: list[TaskRecord] = []

    async def step(kind: str, n: int) -> None:
        if kind.startswith("create"):
            at = tasks.now_ms() - 10 if kind == "create_expired" else None
            r = tasks.new_record("tools/call", policy, ttl_ms=5, client=f"c{n}", now=at)
            r = msgspec.structs.replace(r, ttl_ms=5 if at is not None else 60_000)
            try:
                await store.create(r, max_per_client=2, max_total=4)
            except TooManyTasks:
                return
            made.append(r)
        elif kind == "purge":
            await store.purge(tasks.now_ms())
        elif made:
            current = await store.get(made[n % len(made)].task_id)
            if current is not None and kind != "get" and tasks.can_move(current.status, kind):
                assert await store.replace(current, tasks.move(current, kind))

    for kind, n in steps:
        asyncio.run(step(kind, n))
        held = store._records
        active: dict[str, int] = {}
        for r in held.values():
            if not r.terminal:
                active[r.client] = active.get(r.client, 0) + 1
        assert store._active == active
        assert set(store._cancelled) == {k for k, r in held.items() if r.status == "cancelled"}
        assert {(r.expires_ms(), k) for k, r in held.items()} <= set(store._expiry)
        assert len(held) <= 4


def test_compare_and_set_refuses_a_stale_writer() -> None:
    async def main() -> None:
        store = MemoryTaskStore()
        r = record()
        await store.create(r, max_per_client=10, max_total=10)
        cancelled = tasks.move(r, "cancelled")
        assert await store.replace(r, cancelled)
        assert not await store.replace(r, tasks.move(r, "completed"))  # completion lost the race
        assert (await store.get(r.task_id)) == cancelled

    asyncio.run(main())


def test_expired_records_are_gone_and_purged() -> None:
    async def main() -> None:
        store = MemoryTaskStore()
        old = tasks.new_record("tools/call", TaskPolicy(), ttl_ms=1, owner="p", now=tasks.now_ms() - 10)
        fresh = tasks.new_record("tools/call", TaskPolicy(), owner="p")
        for r in (fresh, old):  # (a create drops what expired before it: `old` is stored last)
            await store.create(r, max_per_client=10, max_total=10)
        assert [r.task_id for r in await store.owned_by("p")] == [fresh.task_id]
        assert await store.owned_by("q") == []
        assert await store.purge(tasks.now_ms()) == 1
        assert await store.get(old.task_id) is None and len(store) == 1

    asyncio.run(main())


def test_a_task_the_client_runs_past_its_ttl_is_stopped_and_its_waiting_result_answered() -> None:
    """A callback of the server's task that never ended (a question nobody answers) ran on after its
    TTL, and the server's `tasks/result` waiting on it was never answered: when an expired record was
    dropped, the event it waited on was dropped with it, unset. At the TTL the callback is cancelled,
    the record dropped, and the waiting `tasks/result` answered: no such task (-32602)."""

    async def main() -> None:
        receiver = ClientTasks()
        stopped = asyncio.Event()

        async def unanswered() -> Any:
            try:
                await asyncio.Event().wait()
            finally:
                stopped.set()

        task_id = receiver.start("elicitation/create", 200, unanswered)["task"]["taskId"]
        waiting = asyncio.ensure_future(receiver.answer("tasks/result", {"taskId": task_id}))
        with pytest.raises(McpError, match="Task not found") as info:
            await asyncio.wait_for(waiting, 10)
        assert info.value.code == -32602
        await asyncio.wait_for(stopped.wait(), 10)
        assert (await receiver.answer("tasks/list", {}))["tasks"] == []

    asyncio.run(main())


def test_the_client_runs_the_servers_tasks() -> None:
    """`ClientTasks`, as `InputCallbacks` uses it for a task-augmented elicitation (2025-11-25)."""

    async def main() -> None:
        receiver = ClientTasks()
        release = asyncio.Event()

        async def slow() -> dict[str, Any]:
            await release.wait()
            return {"action": "accept", "content": {"name": "Ada"}}

        created = receiver.start("elicitation/create", 60_000, slow)
        task_id = created["task"]["taskId"]
        assert created["task"]["status"] == "working" and created["task"]["ttl"] == 60_000
        assert (await receiver.answer("tasks/get", {"taskId": task_id}))["status"] == "working"
        waiting = asyncio.ensure_future(receiver.answer("tasks/result", {"taskId": task_id}))
        release.set()
        result = await waiting  # tasks/result blocked until the task ended
        assert result["content"] == {"name": "Ada"}
        assert result["_meta"][RELATED_TASK] == {"taskId": task_id}
        with pytest.raises(McpError) as info:
            await receiver.answer("tasks/cancel", {"taskId": task_id})  # terminal: refused
        assert info.value.code == -32602

        never = asyncio.Event()

        async def held() -> Any:
            await never.wait()

        other = receiver.start("sampling/createMessage", None, held)["task"]["taskId"]
        cancelled = await receiver.answer("tasks/cancel", {"taskId": other})
        assert cancelled["status"] == "cancelled"
        listed = await receiver.answer("tasks/list", {})
        assert {t["taskId"]: t["status"] for t in listed["tasks"]} == {
            task_id: "completed",
            other: "cancelled",
        }
        with pytest.raises(McpError) as info:
            await receiver.answer("tasks/result", {"taskId": other})
        with pytest.raises(McpError) as info:
            await receiver.answer("tasks/get", {"taskId": "nope"})
        assert info.value.code == -32602

    asyncio.run(main())


def test_task_capabilities_follow_the_tools_that_run_as_tasks() -> None:
    from mcpbind.server import Server

    server = Server("caps")

    @server.tool()
    async def plain() -> str:
        return ""

    assert "tasks" not in server.capabilities() and "extensions" not in server.capabilities()

    @server.tool(task_support="optional")
    async def long() -> str:
        return ""

    caps = server.capabilities()
    assert caps["tasks"] == {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}
    assert caps["extensions"] == {tasks.EXTENSION: {}}
    server.remove_tool("long")
    assert "tasks" not in server.capabilities()


# -- the extension's listen member (2026-07-28) --------------------------------------------------------


def test_the_envelope_era_listen_request_carries_task_ids_and_the_session_era_is_untouched() -> None:
    from mcpbind import wire
    from mcpbind.protocol import revisions

    modern = revisions.revision("2026-07-28")
    params_type = modern.served["subscriptions/listen"].params_type
    meta = {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"},
    }
    wanted = {"taskIds": ["a", "b"], "toolsListChanged": True}
    decoded = wire.decoder(params_type).decode(msgspec.json.encode({"_meta": meta, "notifications": wanted}))
    assert wire.to_builtins(decoded.notifications) == wanted  # kept both ways, the core's members too
    assert isinstance(decoded.notifications, modern.module.SubscriptionFilter)
    with pytest.raises(msgspec.ValidationError):  # and checked: ids are strings
        wire.decoder(params_type).decode(
            msgspec.json.encode({"_meta": meta, "notifications": {"taskIds": [1]}})
        )
    assert modern.requests["tools/call"] is modern.module.REQUESTS["tools/call"]
    session = revisions.revision("2025-11-25")
    assert session.requests is session.module.REQUESTS


class CountedRecords(dict[str, TaskRecord]):
    """A store's records that count how many are read (by key, or by walking them)."""

    reads = 0

    def __getitem__(self, task_id: str) -> TaskRecord:
        self.reads += 1
        return super().__getitem__(task_id)

    def get(self, task_id: str, default: Any = None) -> Any:
        self.reads += 1
        return super().get(task_id, default)

    def values(self) -> Any:
        self.reads += len(self)
        return super().values()


@pytest.mark.parametrize("others", [10, 10_000])
def test_an_anonymous_listing_reads_only_the_callers_records(others: int) -> None:
    """`tasks/list` of an unauthenticated caller reads its own records, however many anonymous records
    other sessions hold (it read them all once, and kept the caller's), and pages through them all."""

    async def main() -> None:
        store = MemoryTaskStore()
        runner = server_tasks.Tasks(store=store)
        mine = await hold_anonymous(store, others)
        counted = store._records = CountedRecords(store._records)
        assert await page_through(runner, "me", 2, 3) == [r.task_id for r in mine]
        assert counted.reads == 3 * len(mine), counted.reads  # (each page reads the caller's 5)
        theirs = {task_id for task_id, r in dict.items(counted) if r.creator == "other-1"}
        counted.reads = 0
        page, cursor = await runner.listed(None, others, "other-1")
        assert {r.task_id for r in page} == theirs and cursor is None
        assert counted.reads == len(theirs)
        assert (await runner.listed(None, 50, "nobody")) == ([], None)

    asyncio.run(main())


def test_listing_stays_per_caller_as_records_go() -> None:
    """The listing index follows records dropped (cancelled, at `max_total`) and expired: a caller's
    list never shows another's record, nor one that is gone; principals and sessions are apart."""

    async def main() -> None:
        store = MemoryTaskStore()
        policy = TaskPolicy()
        by_p = tasks.new_record("tools/call", policy, owner="p", client="p")
        anon = tasks.new_record("tools/call", policy, client="p", creator="p")  # (a session named "p")
        old = tasks.new_record("tools/call", policy, ttl_ms=1, creator="s", now=tasks.now_ms() - 10)
        for r in (by_p, anon, old):
            await store.create(r, max_per_client=10, max_total=3)
        assert [r.task_id for r in await store.visible_to("p", "")] == [by_p.task_id]
        assert [r.task_id for r in await store.visible_to("", "p")] == [anon.task_id]
        assert await store.visible_to("", "s") == []  # expired: not listed
        cancelled = tasks.move(anon, "cancelled")
        assert await store.replace(anon, cancelled)
        assert [r.status for r in await store.visible_to("", "p")] == ["cancelled"]
        fresh = tasks.new_record("tools/call", policy, client="q", creator="q")
        await store.create(fresh, max_per_client=10, max_total=2)  # drops `old` (expired), `cancelled`
        assert await store.visible_to("", "p") == [] and await store.visible_to("", "s") == []
        assert [r.task_id for r in await store.visible_to("", "q")] == [fresh.task_id]
        assert store._seen.keys() == {("p", ""), ("", "q")}

    asyncio.run(main())
