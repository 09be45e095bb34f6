"""The client against a hostile SERVER over stdio (tests/servers/scripted_stdio.py answers each request with
the next scripted line): answers of every wrong shape, through the client's short path for answers and
the full one, fail their own request with an `McpError` and the session goes on; notifications whose
members have the wrong types never reach the user's typed callbacks, and log no handler failure."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from mcpbind.client import Client
from mcpbind.client.calls import MAX_INPUT_REQUESTS, MAX_LISTED, UnexpectedResult
from mcpbind.errors import McpError, RequestTimeout

from ..http_support import SERVERS

SCRIPTED = str(SERVERS / "scripted_stdio.py")
REVISION = "2025-11-25"
DEEP = b"[" * 5000 + b"]" * 5000


def result(body: bytes) -> bytes:
    return b'{"jsonrpc":"2.0","id":ID,"result":' + body + b"}"


def error(body: bytes) -> bytes:
    return b'{"jsonrpc":"2.0","id":ID,"error":' + body + b"}"


HOSTILE_ANSWERS = [
    result(b'{"content":"x"}'),
    result(b'{"content":[{"type":"text","text":1}]}'),
    result(b'{"content":[{"type":{"a":1}}]}'),
    result(b'{"content":[{"type":"text","text":"\\ud800"}]}'),  # a lone surrogate
    result(b'{"content":[{"type":"text","text":"a\x00b"}]}'),  # a raw NUL in a string
    result(b'{"content":[{"type":"text","text":"\xff"}]}'),  # no UTF-8
    result(b'{"content":[],"structuredContent":1e400}'),
    result(b'{"content":[],"isError":"yes"}'),
    result(b'{"content":[],"_meta":[]}'),
    result(b"[]"),
    result(b"null"),
    result(b'"x"'),
    result(b'{"content":[' + DEEP + b"]}"),
    result(b'{"content":[{"type":"text","text":"' + b"x" * 2_000_000 + b'"}], "structuredContent": 1e400}'),
    error(b'{"code":1e400,"message":"x"}'),
    error(b'{"code":"x","message":1}'),
    error(b'"boom"'),
    error(b'{"code":-32600,"message":"x","data":' + DEEP + b"}"),
    b'{"jsonrpc":"1.0","id":ID,"result":{"content":[]}}',
    b'{"jsonrpc":"2.0","id":ID,"result":{"content":[]}',  # cut short
]
GARBAGE = b"\x00\x00"
"""No id to be read: the request it was sent for can only time out."""


def run(coro: Awaitable[Any]) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 120))  # type: ignore[arg-type]


def scripted(tmp_path: Path, lines: list[bytes], **options: Any) -> Client:
    script = tmp_path / "script"
    script.write_bytes(b"\n".join(line.replace(b"\n", b" ") for line in lines) + b"\n")
    return Client.stdio(sys.executable, [SCRIPTED, str(script), REVISION], mode=REVISION, **options)


def test_hostile_answers_fail_their_own_request_and_the_session_goes_on(tmp_path: Path) -> None:
    async def main() -> None:
        async with scripted(tmp_path, [*HOSTILE_ANSWERS, GARBAGE], request_timeout=30) as client:
            for _ in HOSTILE_ANSWERS:
                with pytest.raises(McpError):
                    await client.call_tool("t", {})
                await client.ping()  # the session goes on
            with pytest.raises(RequestTimeout):
                await client.call_tool("t", {}, timeout=1.0)
            await client.ping()

    run(main())


INVALID_ANSWERS = [
    (b'{"jsonrpc":"2.0","id":ID,"result":{"content":[]},"error":{"code":1,"message":"m"}}', "both"),
    (b'{"jsonrpc":"2.0","error":{"code":1,"message":"m"},"id":ID,"result":{"content":[]}}', "both"),
    (b'{"jsonrpc":"2.0","id":ID}', "neither"),
]


def test_an_answer_with_both_result_and_error_or_neither_fails_its_request(tmp_path: Path) -> None:
    """An answer carrying both `result` and `error` was taken as a result (the call returned); one
    with neither waited out the request's timeout. Each is an invalid response: its request fails at
    once with a McpError that says so (-32600), and the session goes on."""

    async def main() -> None:
        async with scripted(tmp_path, [line for line, _ in INVALID_ANSWERS], request_timeout=30) as client:
            for _, why in INVALID_ANSWERS:
                with pytest.raises(McpError, match=f"invalid.*: .*{why}") as failed:
                    await client.call_tool("t", {})
                assert failed.value.code == -32600
                await client.ping()  # the session goes on

    run(main())


def test_hostile_notifications_never_reach_typed_callbacks(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    progress: list[tuple[Any, ...]] = []
    updated: list[Any] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, total, message))

    async def on_updated(uri: str) -> None:
        updated.append(uri)

    def note(params: bytes, method: bytes = b"notifications/progress") -> bytes:
        return b'!{"jsonrpc":"2.0","method":"' + method + b'","params":' + params + b"}"

    lines = [
        note(b'{"progressToken":TOKEN,"progress":"x"}'),
        note(b'{"progressToken":TOKEN,"progress":1,"total":{"a":1}}'),
        note(b'{"progressToken":TOKEN,"progress":1,"message":["m"]}'),
        note(b'{"progressToken":TOKEN,"progress":true}'),
        note(b'{"progressToken":{"a":1},"progress":1}'),  # an unhashable token
        note(b'{"progressToken":[1],"progress":1}'),
        note(b"[1,2]"),  # params that are no object
        note(b"[]", b"notifications/message"),
        note(b'{"uri":1}', b"notifications/resources/updated"),
        note(b"[]", b"notifications/resources/updated"),
        note(b'{"progressToken":TOKEN,"progress":2,"total":4,"message":"half"}'),  # an honest one
        result(b'{"content":[]}'),
    ]
    callback: Callable[..., Awaitable[None]] = on_updated

    async def main() -> None:
        async with scripted(tmp_path, lines, on_resource_updated=callback) as client:
            answer = await client.call_tool("t", {}, progress=on_progress)
            assert answer.content == []
            await client.ping()

    with caplog.at_level(logging.WARNING):
        run(main())
    assert progress == [(2, 4, "half")]
    assert updated == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


def test_a_stateless_call_that_asks_for_input_without_end_is_bounded() -> None:
    """A 2026-07-28 server whose tool answers every retry with another InputRequiredResult
    (tests/servers/endless_input.py, over stdio): the client answers a bounded number of rounds, then
    the call fails with an McpError that says so; the user's callback is not asked for ever, and the
    connection goes on."""
    asked: list[dict[str, Any]] = []

    async def elicitation(params: dict[str, Any]) -> dict[str, Any]:
        asked.append(params)
        return {"action": "accept", "content": {"answer": "x"}}

    async def main() -> None:
        command = [str(SERVERS / "endless_input.py")]
        async with Client.stdio(
            sys.executable, command, mode="2026-07-28", elicitation=elicitation, request_timeout=30
        ) as client:
            with pytest.raises(McpError, match="still needed input after 16 rounds"):
                await client.call_tool("nag", {})
            assert len(asked) == 16
            assert [tool.name for tool in await client.list_tools()] == ["nag"]

    run(main())


def test_a_round_asking_for_too_many_inputs_calls_no_callback(tmp_path: Path) -> None:
    """A 2026-07-28 InputRequiredResult with more than `MAX_INPUT_REQUESTS` input requests fails its
    call with an McpError that says the server asked too much, before any callback is called (one
    large result could otherwise call the user's elicitation callback ~100,000 times); a round of
    exactly `MAX_INPUT_REQUESTS` is answered, and the session goes on."""
    asked: list[dict[str, Any]] = []

    async def elicitation(params: dict[str, Any]) -> dict[str, Any]:
        asked.append(params)
        return {"action": "accept", "content": {"answer": "x"}}

    def needs(count: int) -> bytes:
        question = {
            "method": "elicitation/create",
            "params": {"message": "?", "requestedSchema": {"type": "object", "properties": {}}},
        }
        requests = {f"q{i}": question for i in range(count)}
        return result(json.dumps({"resultType": "input_required", "inputRequests": requests}).encode())

    discover = result(
        b'{"capabilities":{"tools":{}},"supportedVersions":["2026-07-28"],"resultType":"complete",'
        b'"_meta":{"io.modelcontextprotocol/serverInfo":{"name":"s","version":"0"}}}'
    )
    done = result(b'{"content":[],"resultType":"complete"}')
    lines = [discover, needs(MAX_INPUT_REQUESTS + 1), needs(MAX_INPUT_REQUESTS), done]
    script = tmp_path / "script"
    script.write_bytes(b"\n".join(lines) + b"\n")

    async def main() -> None:
        async with Client.stdio(
            sys.executable,
            [SCRIPTED, str(script), "2026-07-28"],
            mode="2026-07-28",
            elicitation=elicitation,
            request_timeout=30,
        ) as client:
            with pytest.raises(McpError, match=f"asked for {MAX_INPUT_REQUESTS + 1} inputs at once"):
                await client.call_tool("t", {})
            assert asked == []
            await client.call_tool("t", {})
            assert len(asked) == MAX_INPUT_REQUESTS

    run(main())


def test_pages_without_end_are_bounded(tmp_path: Path) -> None:
    """A listing of every page ends with an McpError, not with the client's memory full, when the
    server's cursors loop (the same one again, however large) or never end (a new one each time, each
    page full of items: past `MAX_LISTED` items); the session goes on."""

    def page(count: int, cursor: str, start: int = 0) -> bytes:
        tools = [{"name": f"t{start + i}", "inputSchema": {"type": "object"}} for i in range(count)]
        return result(json.dumps({"tools": tools, "nextCursor": cursor}).encode())

    def tasks_page(cursor: str) -> bytes:
        stamp = "2025-01-01T00:00:00Z"
        task = {"taskId": "t", "status": "working", "createdAt": stamp, "lastUpdatedAt": stamp, "ttl": None}
        return result(json.dumps({"tasks": [task], "nextCursor": cursor}).encode())

    big = "c" * 1_000_000
    looping = [page(1, big), page(1, "other"), page(1, big), tasks_page("same"), tasks_page("same")]
    endless = [page(30_000, f"n{i}", 30_000 * i) for i in range(MAX_LISTED // 30_000 + 1)]

    async def main() -> None:
        async with scripted(tmp_path, [*looping, *endless], request_timeout=30) as client:
            with pytest.raises(McpError, match="pages loop"):
                await client.list_tools()
            await client.ping()
            with pytest.raises(McpError, match="tasks/list: the server's pages loop"):
                await client.list_tasks()
            await client.ping()
            with pytest.raises(McpError, match=f"more than {MAX_LISTED} items"):
                await client.list_tools()
            await client.ping()

    run(main())


@pytest.mark.parametrize("mode", ["auto", REVISION])
def test_a_server_choosing_a_version_of_its_own_is_quoted_clipped(tmp_path: Path, mode: str) -> None:
    """A server whose `initialize` answer names a version no revision has, 100 kB long: the client
    refuses it (it speaks none such) with its error quoting that version cut short with its length,
    and its `data.chosen` clipped (both carried the whole value: the message, its repr)."""
    chosen = "v" * 100_000
    script = tmp_path / "script"
    script.write_bytes(b"\n")

    async def main() -> None:
        client = Client.stdio(sys.executable, [SCRIPTED, str(script), chosen], mode=mode)
        with pytest.raises(McpError) as refused:
            async with client:
                pass
        assert "(100000 characters)" in refused.value.message and len(refused.value.message) < 400
        assert refused.value.data["chosen"] == f"{chosen[:1024]}... (100000 characters)"

    run(main())


def test_a_result_of_a_kind_of_its_own_is_quoted_clipped(tmp_path: Path) -> None:
    """A 2026-07-28 result whose `resultType` is a kind of the server's own, 100 kB long: the call fails
    with an error quoting it cut short with its length (it carried the whole value), the result kept."""
    kind = "k" * 100_000
    discover = result(
        b'{"capabilities":{"tools":{}},"supportedVersions":["2026-07-28"],"resultType":"complete",'
        b'"_meta":{"io.modelcontextprotocol/serverInfo":{"name":"s","version":"0"}}}'
    )
    odd = result(json.dumps({"content": [], "resultType": kind}).encode())
    script = tmp_path / "script"
    script.write_bytes(b"\n".join([discover, odd]) + b"\n")

    async def main() -> None:
        command = [SCRIPTED, str(script), "2026-07-28"]
        async with Client.stdio(sys.executable, command, mode="2026-07-28", request_timeout=30) as client:
            with pytest.raises(UnexpectedResult) as unexpected:
                await client.call_tool("t", {})
            assert "(100000 characters)" in unexpected.value.message
            assert len(unexpected.value.message) < 400 and unexpected.value.result["resultType"] == kind

    run(main())
