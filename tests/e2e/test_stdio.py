"""End to end over a real subprocess, for every revision: the test server in tests/servers/full.py.

Two tests also run over Streamable HTTP (parametrized `transport`: every feature, cancellation), so
that the Client is checked to behave the same over both transports, and three are HTTP-only client
features (SSE fallback, SSE polling, x-mcp-header); the rest of the HTTP server is in test_http.py.
Every message either side sends is recorded and validated against the negotiated revision's
(errata-corrected) schema with the `jsonschema` library.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from mcpbind.client import Client
from mcpbind.codegen.pins import published_pins
from mcpbind.errors import InvalidParams, McpError, MethodNotFound, RequestTimeout
from mcpbind.protocol import revisions
from mcpbind.protocol.revisions import module
from mcpbind.server import handlers
from mcpbind.transports.http.client import StreamableHttpTransport
from mcpbind.transports.stdio import StdioClientTransport

from ..http_support import free_port, full_server_over_http, wait_for_port
from ..schema_check import Recorder

SERVER = str(Path(__file__).resolve().parents[1] / "servers" / "full.py")
ALL = list(revisions.ALL)
STATEFUL = list(revisions.STATEFUL)
PUBLISHED = [p.name for p in published_pins()]


def run(coro: Awaitable[Any]) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 60))  # type: ignore[arg-type]


async def answer_elicitation(params: dict[str, Any]) -> dict[str, Any]:
    if params.get("mode") == "url":
        return {"action": "accept"}
    props = params["requestedSchema"]["properties"]
    return {"action": "accept", "content": {"name": "Ada"} if "name" in props else {"age": 36}}


async def answer_sampling(params: dict[str, Any]) -> dict[str, Any]:
    return {"role": "assistant", "content": {"type": "text", "text": "4"}, "model": "test-model"}


async def answer_roots() -> list[dict[str, Any]]:
    return [{"uri": "file:///work", "name": "work"}]


@asynccontextmanager
async def connect(
    mode: str, *args: str, transport: str = "stdio", **options: Any
) -> AsyncIterator[tuple[Client, Recorder]]:
    """A client of tests/servers/full.py, every frame recorded: a subprocess over stdio, or
    (`transport="http"`) the same server under uvicorn over Streamable HTTP."""
    options.setdefault("elicitation", answer_elicitation)
    options.setdefault("sampling", answer_sampling)
    options.setdefault("roots", answer_roots)
    if transport == "http":
        async with full_server_over_http(*args) as url:
            recorder = Recorder(StreamableHttpTransport(url))
            async with Client(recorder, mode=mode, **options) as client:
                yield client, recorder
        return
    recorder = Recorder(StdioClientTransport(sys.executable, [SERVER, *args], stderr="capture"))
    client = Client(recorder, mode=mode, **options)
    async with client:
        yield client, recorder
    assert recorder.inner.process.returncode is not None, "the server process must be gone"


def _messages(frame: bytes) -> list[dict[str, Any]]:
    """The messages of a frame, and (2026-07-28) the input requests its results carry."""
    value = json.loads(frame)
    out = value if isinstance(value, list) else [value]
    inputs = [r for m in out for r in (m.get("result") or {}).get("inputRequests", {}).values()]
    return out + inputs


def text(result: Any) -> str:
    return str(result.content[0].text)


@pytest.mark.parametrize("transport", ["stdio", "http"])
@pytest.mark.parametrize("revision", ALL)
def test_every_feature(revision: str, transport: str) -> None:
    async def main() -> None:
        logs: list[Any] = []
        changed: list[str] = []
        updated: list[str] = []

        async def on_log(params: Any) -> None:
            logs.append(params)

        async def on_changed(kind: str) -> None:
            changed.append(kind)

        async def on_updated(uri: str) -> None:
            updated.append(uri)

        async with connect(
            revision,
            transport=transport,
            log_level="info",
            on_log=on_log,
            on_list_changed=on_changed,
            on_resource_updated=on_updated,
        ) as (client, rec):
            assert client.revision == revision
            assert client.server_info["name"] == "full"
            assert "tools" in client.server_capabilities
            mod = client.module
            assert mod is not None

            tools = await client.list_tools()  # paginated: page_size is 3
            names = [t.name for t in tools]
            assert names[:3] == ["echo", "add", "fail"] and len(names) == len(set(names)) > 10
            add = next(t for t in tools if t.name == "add")
            assert add.input_schema["properties"]["a"] == {"type": "integer"}
            assert text(await client.call_tool("echo", {"text": "hi"})) == "hi"

            added = await client.call_tool("add", {"a": 2, "b": 3})
            assert json.loads(text(added)) == {"total": 5, "terms": [2, 3]}
            if (
                hasattr(mod.CallToolResult, "structured_content")
                or "structured_content" in mod.CallToolResult.__struct_fields__
            ):
                assert added.structured_content == {"total": 5, "terms": [2, 3]}
            bad = await client.call_tool("add", {"a": "two"})
            assert bad.is_error is True and "$.a" in text(bad)
            failed = await client.call_tool("fail", {"message": "nope"})
            assert failed.is_error is True and text(failed) == "nope"
            with pytest.raises(InvalidParams, match="Unknown tool"):
                await client.call_tool("missing", {})

            steps: list[tuple[float, float | None, str | None]] = []

            async def on_progress(p: float, total: float | None, message: str | None) -> None:
                steps.append((p, total, message))

            assert (
                text(await client.call_tool("progress", {"steps": 3}, progress=on_progress)) == "progressed"
            )
            with_message = "message" in mod.ProgressNotificationParams.__struct_encode_fields__
            assert steps == [(i, 3, f"step {i}" if with_message else None) for i in (1, 2, 3)]

            assert text(await client.call_tool("shout", {})) == "logged"
            assert [entry["level"] for entry in logs] == ["warning"]

            # Input from the user, the model and the client: requests (stateful) or MRTR (stateless).
            if "elicitation" in str(mod.ClientCapabilities.__struct_fields__):
                assert text(await client.call_tool("ask", {})) == "accept:Ada:accept:36"
            assert text(await client.call_tool("think", {})) == "model said 4"
            assert text(await client.call_tool("where", {})) == '["file:///work"]'

            hello = await client.read_resource("memo://hello")
            assert hello.contents[0].text == "hello world"
            blob = await client.read_resource("memo://bytes")
            assert blob.contents[0].blob == "AAEC"
            item = await client.read_resource("memo://items/7")
            assert json.loads(item.contents[0].text) == {"item": "7"}
            with pytest.raises(McpError) as missing:
                await client.read_resource("memo://nothing")
            assert missing.value.code == (-32602 if revisions.is_modern(revision) else -32002)
            templates = await client.list_resource_templates()
            assert templates[0].uri_template == "memo://items/{item}"
            assert [r.uri for r in await client.list_resources()] == ["memo://hello", "memo://bytes"]

            prompts = await client.list_prompts()
            assert [(a.name, a.required) for a in prompts[0].arguments] == [("name", True), ("style", False)]
            prompt = await client.get_prompt("greet", {"name": "Bo"})
            assert prompt.messages[0].content.text == "Greet Bo in a plain way."
            if "completion/complete" in mod.REQUESTS:
                done = await client.complete(
                    {"type": "ref/prompt", "name": "greet"}, {"name": "name", "value": "al"}
                )
                assert done.completion.values == ["alice", "albert"]

            if not revisions.is_modern(revision):
                await client.subscribe("memo://hello")
                await client.call_tool("touch", {"uri": "memo://hello"})
                await client.call_tool("add_tool", {"name": "late"})
                await client.ping()
                for _ in range(250):
                    if updated and changed:
                        break
                    await asyncio.sleep(0.02)
                assert updated == ["memo://hello"] and changed == ["tools"]

            with pytest.raises(MethodNotFound):
                await client.request(
                    "resources/subscribe" if revisions.is_modern(revision) else "server/discover", {}
                )

            # The rest of the method table, so that every method of the revision crosses the wire.
            async with client.listen(
                tools=True, prompts=True, resources=True, resource_uris=["memo://hello"]
            ):
                await client.call_tool("add_prompt", {"name": "another"})
                await client.call_tool("add_tool", {"name": "one_more"})
                await client.call_tool("add_resource", {"uri": "memo://more"})
                await client.call_tool("touch", {"uri": "memo://hello"})
                for _ in range(250):
                    if {"prompts", "resources", "tools"} <= set(changed) and "memo://hello" in updated:
                        break
                    await asyncio.sleep(0.02)
            assert {"prompts", "resources"} <= set(changed) and "memo://hello" in updated
            if "resources/unsubscribe" in mod.REQUESTS:
                await client.request("resources/unsubscribe", {"uri": "memo://hello"})
            if "notifications/roots/list_changed" in mod.NOTIFICATIONS:
                await client.notify("notifications/roots/list_changed")
            if "notifications/elicitation/complete" in mod.NOTIFICATIONS:
                assert text(await client.call_tool("visit", {})) == "accept"
            for method in [m for m in mod.REQUESTS if m.startswith("tasks/")]:
                with pytest.raises(MethodNotFound):  # no tasks capability: not offered
                    await client.request(method, {"taskId": "t"} if method != "tasks/list" else {})
            with pytest.raises(RequestTimeout):  # the client gives up and cancels (on stdio, by notification)
                await client.call_tool("slow", {"seconds": 5}, timeout=0.2)
        assert rec.validate(revision) > 40
        seen = {m.get("method") for f in rec.sent + rec.received for m in _messages(f)}
        table = set(mod.REQUESTS) | set(mod.NOTIFICATIONS)
        # Task status notifications belong to the tasks extension, which this server does not offer. A
        # request the server has no handler of its own for can only be one this revision adds (a server
        # registers it with `@server.method`): what an earlier revision has is served.
        served = {"initialize", *handlers.routes(revisions.revision(revision))}  # initialize: the handshake
        unrouted = {m for m, s in mod.REQUESTS.items() if "client_to_server" in s.directions} - served
        earlier = PUBLISHED[: PUBLISHED.index(revision)]
        assert not unrouted & {m for r in earlier for m in module(r).REQUESTS}, sorted(unrouted)
        assert table - seen <= {"notifications/tasks/status"} | unrouted, sorted(table - seen)

    run(main())


@pytest.mark.parametrize("transport", ["stdio", "http"])
@pytest.mark.parametrize("revision", ALL)
def test_cancellation_and_concurrency(revision: str, transport: str) -> None:
    async def main() -> None:
        async with connect(revision, transport=transport) as (client, rec):
            call = asyncio.ensure_future(client.call_tool("slow", {"seconds": 30}))
            await asyncio.sleep(0.3)
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
            for _ in range(100):
                if text(await client.call_tool("cancelled_count", {})) == "1":
                    break
                await asyncio.sleep(0.02)
            assert text(await client.call_tool("cancelled_count", {})) == "1"

            results = await asyncio.gather(*(client.call_tool("echo", {"text": str(i)}) for i in range(100)))
            assert [text(r) for r in results] == [str(i) for i in range(100)]
        rec.validate(revision)

    run(main())


def test_negotiation() -> None:
    async def main() -> None:
        async with connect("auto") as (client, _):
            assert client.revision == revisions.MODERN[-1] and client.stateless
            assert revisions.MODERN[-1] in client.supported_versions
        # server/discover lists them newest first, whatever order the server was given them in.
        async with connect("auto", "--revisions", f"2025-06-18,{revisions.MODERN[-1]},2025-11-25") as (
            client,
            _,
        ):
            assert client.supported_versions == [revisions.MODERN[-1], "2025-11-25", "2025-06-18"]
        async with connect("legacy") as (client, _):
            assert client.revision == "2025-11-25" and not client.stateless
        # A server that speaks only the stateful revisions: the probe fails, the client falls back.
        async with connect("auto", "--revisions", ",".join(STATEFUL)) as (client, rec):
            assert client.revision == "2025-11-25"
            await client.call_tool("echo", {"text": "x"})
        rec.validate("2025-11-25", skip_probe=True)
        # An older server: the client's initialize names its newest revision, the server answers its own.
        async with connect("auto", "--revisions", "2024-11-05,2025-03-26") as (client, rec):
            assert client.revision == "2025-03-26"
        # Listed oldest last, the server still answers its newest.
        async with connect("auto", "--revisions", "2025-06-18,2025-03-26") as (client, rec):
            assert client.revision == "2025-06-18"
        # A pinned client and a server with no revision in common: the error names both sides.
        with pytest.raises(McpError) as caught:
            async with connect("2026-07-28", "--revisions", "2025-11-25"):
                pass
        assert "'2026-07-28'" in caught.value.message and "speaks 2025-11-25" in caught.value.message
        assert caught.value.data == {"supported": ["2025-11-25"], "requested": "2026-07-28"}
        with pytest.raises(McpError) as caught:
            async with connect("2025-06-18", "--revisions", "2025-11-25"):
                pass
        assert "chose protocol version '2025-11-25', not '2025-06-18'" in caught.value.message
        assert caught.value.data == {"requested": "2025-06-18", "chosen": "2025-11-25"}
        with pytest.raises(McpError, match="2026-07-28"):
            async with connect("2025-06-18", "--revisions", "2026-07-28"):
                pass

    run(main())


def test_a_client_pinned_to_a_stateless_revision_names_the_era_a_legacy_server_refuses_it_in(
    tmp_path: Path,
) -> None:
    """A server of the initialize era answers `server/discover` with an error no stateless server
    sends: "auto" falls back to `initialize`; a client pinned to 2026-07-28 fails with an error that
    says what it was pinned to, what the server said, and which revisions to use instead."""
    script = tmp_path / "script"
    script.write_bytes(b'{"jsonrpc":"2.0","id":ID,"error":{"code":-32601,"message":"no such method"}}\n' * 2)
    scripted = [str(Path(__file__).resolve().parent.parent / "servers" / "scripted_stdio.py"), str(script)]

    async def main() -> None:
        with pytest.raises(MethodNotFound) as caught:
            async with Client.stdio(sys.executable, [*scripted, "2025-11-25"], mode="2026-07-28"):
                pass
        message = caught.value.message
        assert "'2026-07-28'" in message and "no such method" in message and "2025-11-25" in message
        async with Client.stdio(sys.executable, [*scripted, "2025-11-25"], mode="auto") as client:
            assert client.revision == "2025-11-25"

    run(main())


def test_no_revision_in_common_fails_naming_both_sides_and_silence_is_bounded() -> None:
    """A server of a newer revision alone: "auto" (after `initialize`, refused too) and a pinned client
    fail at once with errors naming the server's revision and the client's; a server that never
    answers fails a pinned client's probe within `probe_timeout`, saying what it waited for."""
    server = str(Path(__file__).resolve().parent.parent / "servers" / "future_only.py")

    async def main() -> None:
        with pytest.raises(McpError) as caught:
            async with Client.stdio(sys.executable, [server], mode="auto", request_timeout=10):
                pass
        assert "no protocol version in common" in caught.value.message
        assert "2026-12-15" in caught.value.message and revisions.MODERN[-1] in caught.value.message
        assert caught.value.data["supported"] == ["2026-12-15"]
        with pytest.raises(McpError, match="2026-12-15"):
            async with Client.stdio(sys.executable, [server], mode=revisions.MODERN[-1]):
                pass
        with pytest.raises(TimeoutError, match=r"server/discover got no answer within 0\.5 s"):
            async with Client.stdio(
                sys.executable, [server, "--silent"], mode="2026-07-28", probe_timeout=0.5
            ):
                pass

    run(main())


def test_mrtr_state_is_sealed() -> None:
    async def main() -> None:
        async with connect("2026-07-28") as (client, _):
            first = await client.request("tools/call", {"name": "ask"})
            assert type(first).__name__ == "InputRequiredResult"
            ((key, request),) = first.input_requests.items()
            assert request.method == "elicitation/create"
            state = first.request_state
            answer = {key: {"action": "accept", "content": {"name": "Eve"}}}
            second = await client.request(
                "tools/call", {"name": "ask", "inputResponses": answer, "requestState": state}
            )
            assert type(second).__name__ == "InputRequiredResult"
            # Tampering with the state, or presenting it for another request, is rejected.
            forged = second.request_state[:-4] + (
                "AAAA" if not second.request_state.endswith("AAAA") else "BBBB"
            )
            for params in (
                {"name": "ask", "requestState": forged},
                {"name": "echo", "arguments": {"text": "x"}, "requestState": second.request_state},
            ):
                with pytest.raises(InvalidParams, match="requestState"):
                    await client.request("tools/call", params)
            ((key2, _),) = second.input_requests.items()
            final = await client.request(
                "tools/call",
                {
                    "name": "ask",
                    "inputResponses": {key2: {"action": "decline"}},
                    "requestState": second.request_state,
                },
            )
            assert final.content[0].text == "accept:Eve:decline:None"
        # Several inputs at once, under the keys the handler chose.
        async with connect("2026-07-28") as (client, _):
            asked = await client.request("tools/call", {"name": "survey"})
            assert sorted(asked.input_requests) == ["animal", "colour", "number"]
            replies = {
                k: {"action": "accept", "content": {"answer": k.upper()}} for k in asked.input_requests
            }
            replies["unasked"] = {"action": "decline"}  # ignored
            done = await client.request(
                "tools/call",
                {"name": "survey", "inputResponses": replies, "requestState": asked.request_state},
            )
            assert done.content[0].text == "COLOUR,ANIMAL,NUMBER"
        # A client without the capability: the server says which capability is missing.
        async with connect("2026-07-28", elicitation=None) as (client, _):
            with pytest.raises(McpError) as info:
                await client.call_tool("ask", {})
            assert info.value.code == -32021

    run(main())


async def _raw_session(lines: list[bytes], *args: str, read: int) -> list[dict[str, Any]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        SERVER,
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdin is not None and process.stdout is not None
    for line in lines:
        process.stdin.write(line)
    await process.stdin.drain()
    out = [json.loads(await asyncio.wait_for(process.stdout.readline(), 10)) for _ in range(read)]
    process.stdin.close()
    await asyncio.wait_for(process.wait(), 10)
    return out


def test_bad_input_on_stdin_is_answered_and_serving_goes_on() -> None:
    init = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "raw", "version": "0"},
            },
        }
    )
    lines = [
        init.encode() + b"\n",
        b"{not json\n",
        b"\xff\xfe garbage\n",
        b'{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","argum',  # split line ...
        b'ents":{"text":"joined"}}}\n',  # ... completed later
        b'{"jsonrpc":"2.0","id":3,"method":"no/such"}\n',
        b'{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":5}}\n',
        b'{"jsonrpc":"1.0","id":5,"method":"ping"}\n',
        b'[{"jsonrpc":"2.0","id":6,"method":"ping"}]\n',
        b'{"jsonrpc":"2.0","id":7,"result":{}}\n',
        b'{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"echo","arguments":{"text":"'
        + b"x" * 3000
        + b'"}}}\n',
        b'{"jsonrpc":"2.0","id":9,"method":"ping"}\n',
    ]
    out = run(_raw_session(lines, "--max-line", "2048", read=10))
    by_id = {m.get("id"): m for m in out}
    assert by_id[1]["result"]["protocolVersion"] == "2025-11-25"
    parse_errors = [m for m in out if m.get("error", {}).get("code") == -32700]
    assert len(parse_errors) == 2 and all("id" not in m for m in parse_errors)
    assert by_id[2]["result"]["content"][0]["text"] == "joined"
    assert by_id[3]["error"]["code"] == -32601
    assert by_id[4]["error"]["code"] == -32602 and "$.name" in by_id[4]["error"]["message"]
    assert by_id[5]["error"]["code"] == -32600
    batch_refused = [m for m in out if "batches" in m.get("error", {}).get("message", "")]
    assert len(batch_refused) == 1 and batch_refused[0]["error"]["code"] == -32600  # 2025-03-26 only
    too_long = [m for m in out if "exceeds the limit" in m.get("error", {}).get("message", "")]
    assert len(too_long) == 1 and too_long[0]["error"]["code"] == -32600
    assert by_id[9]["result"] == {}


_FILE_SERVER = """
import sys
from mcpbind.server import Server

server = Server("files", "1")


@server.tool()
def echo(text: str) -> str:
    return text


server.run_stdio(uvloop=sys.argv[1] == "uvloop")
"""


@pytest.mark.parametrize("loop", ["uvloop", "asyncio"])
@pytest.mark.parametrize("stdout", ["file", "devnull"])
def test_stdin_and_stdout_may_be_files(tmp_path: Path, loop: str, stdout: str) -> None:
    """`server < requests.jsonl > answers.jsonl`: the event loop cannot watch a regular file or
    /dev/null (epoll refuses them; uvloop aborts the process), so the server reads and writes them
    directly, answers everything, and exits cleanly at the end of its input."""
    import subprocess

    requests = tmp_path / "requests.jsonl"
    initialize = {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "f", "version": "0"},
    }
    lines = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": initialize},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        *(
            {
                "jsonrpc": "2.0",
                "id": 2 + i,
                "method": "tools/call",
                "params": {"name": "echo", "arguments": {"text": f"line {i}"}},
            }
            for i in range(50)
        ),
        "not json",
    ]
    requests.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))
    answers = tmp_path / "answers.jsonl"
    with requests.open("rb") as stdin, answers.open("wb") as out:
        done = subprocess.run(
            [sys.executable, "-c", _FILE_SERVER, loop],
            stdin=stdin,
            stdout=out if stdout == "file" else subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=60,
        )
    assert done.returncode == 0, done.stderr.decode()
    if stdout == "devnull":
        return
    got = [json.loads(line) for line in answers.read_text().splitlines()]
    assert got[0]["result"]["protocolVersion"] == "2025-11-25"
    texts = {m["id"]: m["result"]["content"][0]["text"] for m in got[1:] if "result" in m}
    assert texts == {2 + i: f"line {i}" for i in range(50)}
    assert got[-1]["error"]["code"] == -32700  # the line that is no JSON, answered too


@pytest.mark.parametrize("loop", ["uvloop", "asyncio"])
@pytest.mark.parametrize("stdout", ["pipe", "file"])
def test_large_answers_are_framed_whole(tmp_path: Path, loop: str, stdout: str) -> None:
    """A large answer is written beside its newline rather than copied to join one (and small ones
    batched as before): every answer arrives as one whole line, in the order of the requests, whether
    stdout is a pipe or a file."""
    import subprocess

    initialize = {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "f", "version": "0"},
    }
    sizes = [10, 70 * 1024, 5, 1 << 20, 3, 64 * 1024, 64 * 1024 - 1]
    texts = [
        "".join(chr(97 + (i + k) % 26) for k in range(26)) * (n // 26) + "z" * (n % 26)
        for i, n in enumerate(sizes)
    ]
    lines = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": initialize},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        *(
            {
                "jsonrpc": "2.0",
                "id": 2 + i,
                "method": "tools/call",
                "params": {"name": "echo", "arguments": {"text": t}},
            }
            for i, t in enumerate(texts)
        ),
    ]
    data = "".join(json.dumps(x) + "\n" for x in lines).encode()
    answers = tmp_path / "answers.jsonl"
    with answers.open("wb") as out:
        done = subprocess.run(
            [sys.executable, "-c", _FILE_SERVER, loop],
            input=data,
            stdout=out if stdout == "file" else subprocess.PIPE,
            stderr=subprocess.PIPE,
            timeout=120,
        )
    assert done.returncode == 0, done.stderr.decode()
    raw = answers.read_bytes() if stdout == "file" else done.stdout
    assert raw.endswith(b"\n")
    got = [json.loads(line) for line in raw.split(b"\n")[:-1]]
    assert [m["id"] for m in got] == list(range(1, 2 + len(texts)))
    assert [m["result"]["content"][0]["text"] for m in got[1:]] == texts


def test_batches_where_the_revision_has_them() -> None:
    init = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-03-26",
                "capabilities": {},
                "clientInfo": {"name": "raw", "version": "0"},
            },
        }
    )
    batch = json.dumps(
        [
            {"jsonrpc": "2.0", "id": 2, "method": "ping"},
            {"jsonrpc": "2.0", "method": "notifications/initialized"},
            {
                "jsonrpc": "2.0",
                "id": 3,
                "method": "tools/call",
                "params": {"name": "echo", "arguments": {"text": "b"}},
            },
        ]
    )
    out = run(_raw_session([init.encode() + b"\n", batch.encode() + b"\n"], read=2))
    assert isinstance(out[1], list)
    assert sorted(m["id"] for m in out[1]) == [2, 3]


def test_stateless_change_notifications_flow_on_a_listen_stream() -> None:
    async def main() -> None:
        changed: list[str] = []
        updated: list[str] = []

        async def on_changed(kind: str) -> None:
            changed.append(kind)

        async def on_updated(uri: str) -> None:
            updated.append(uri)

        async with connect("2026-07-28", on_list_changed=on_changed, on_resource_updated=on_updated) as (
            client,
            rec,
        ):
            async with client.listen(tools=True, resource_uris=["memo://hello"]):
                await client.call_tool("touch", {"uri": "memo://hello"})
                await client.call_tool("touch", {"uri": "memo://other"})
                await client.call_tool("add_tool", {"name": "later"})
                for _ in range(250):
                    if updated and changed:
                        break
                    await asyncio.sleep(0.02)
            assert updated == ["memo://hello"] and changed == ["tools"]
            # After the stream closes, nothing more arrives.
            await client.call_tool("add_tool", {"name": "even_later"})
            await client.call_tool("echo", {"text": "x"})
            assert changed == ["tools"]
        rec.validate("2026-07-28")

    run(main())


def test_auto_falls_back_when_the_probe_gets_no_answer() -> None:
    async def main() -> None:
        async with connect("auto", "--revisions", "2025-11-25", "--ignore-probe", probe_timeout=0.5) as (
            client,
            rec,
        ):
            assert client.revision == "2025-11-25"
            assert text(await client.call_tool("echo", {"text": "late"})) == "late"
        rec.validate("2025-11-25", skip_probe=True)

    run(main())


def test_the_client_cache_honours_ttl_and_list_changes() -> None:
    async def main() -> None:
        async with connect("2026-07-28", "--list-ttl", "60000") as (client, rec):

            def lists_sent() -> int:
                return sum(b'"method":"tools/list"' in frame for frame in rec.sent)

            first = await client.list_tools()
            pages = lists_sent()
            assert pages == -(-len(first) // 3)  # page_size 3
            assert [t.name for t in await client.list_tools()] == [t.name for t in first]
            assert lists_sent() == pages  # fresh for 60 s: served from the cache
            async with client.listen(tools=True):
                await client.call_tool("add_tool", {"name": "brand_new"})
                for _ in range(250):
                    if any(t.name == "brand_new" for t in await client.list_tools()):
                        break
                    await asyncio.sleep(0.02)
            assert lists_sent() > pages  # the change notification emptied the cache
            assert any(t.name == "brand_new" for t in await client.list_tools())
        async with connect("2026-07-28") as (client, rec):
            tools = await client.list_tools()
            await client.list_tools()  # ttlMs 0: always fetched again
            assert sum(b'"method":"tools/list"' in frame for frame in rec.sent) == 2 * -(-len(tools) // 3)

    run(main())


def test_stateless_errors_name_what_is_wrong() -> None:
    meta = {
        "io.modelcontextprotocol/protocolVersion": "1999-01-01",
        "io.modelcontextprotocol/clientCapabilities": {},
    }
    lines = [
        b'{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}\n',
        json.dumps({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {"_meta": meta}}).encode()
        + b"\n",
    ]
    out = {m["id"]: m for m in run(_raw_session(lines, read=2))}
    assert out[1]["error"]["code"] == -32602 and "protocol version" in out[1]["error"]["message"]
    assert out[2]["error"]["code"] == -32022
    assert out[2]["error"]["data"] == {"supported": sorted(ALL, reverse=True), "requested": "1999-01-01"}
    init = {
        "jsonrpc": "2.0",
        "id": 3,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "raw", "version": "0"},
        },
    }
    (answer,) = run(_raw_session([json.dumps(init).encode() + b"\n"], "--revisions", "2026-07-28", read=1))
    assert answer["error"]["code"] == -32601 and "2026-07-28" in answer["error"]["message"]


def test_http_falls_back_to_the_2024_11_05_sse_transport() -> None:
    async def main() -> None:
        port = free_port()
        legacy = str(Path(__file__).resolve().parents[1] / "servers" / "legacy_sse.py")
        process = await asyncio.create_subprocess_exec(sys.executable, legacy, str(port))
        try:
            await wait_for_port(port)
            for mode in ("auto", "legacy", "2024-11-05"):
                rec = Recorder(StreamableHttpTransport(f"http://127.0.0.1:{port}/sse"))
                async with Client(rec, mode=mode) as client:
                    assert client.revision == "2024-11-05"
                    assert text(await client.call_tool("echo", {"text": "old"})) == "old"
                    assert [t.name for t in await client.list_tools()][:2] == ["echo", "add"]
        finally:
            process.terminate()
            await asyncio.wait_for(process.wait(), 10)

    run(main())


def test_sse_polling_resumes_with_last_event_id() -> None:
    async def main() -> None:
        async with connect("2025-11-25", transport="http") as (client, rec):
            steps: list[float] = []

            async def on_progress(p: float, total: float | None, message: str | None) -> None:
                steps.append(p)

            assert text(await client.call_tool("poll", {}, progress=on_progress)) == "polled"
            assert steps == [1, 2]
            assert sum(frame.startswith(b'{"jsonrpc":"2.0","id"') for frame in rec.received) >= 1
        rec.validate("2025-11-25")

    run(main())


def test_x_mcp_header_arguments_are_mirrored_and_checked() -> None:
    async def main() -> None:
        async with connect("2026-07-28", transport="http") as (client, rec):
            await client.list_tools()
            for region in ("eu-west", "Zürich", " padded ", "=?base64?literal?="):
                assert text(await client.call_tool("locate", {"region": region})) == f"{region} x1"
            sent = [h for h in rec.inner.param_headers.get("locate", {})]
            assert sent == ["Region"]
            # A raw request: without the header, or with one that disagrees, the server refuses (400).
            import httpx

            meta = {
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {},
            }
            body = {
                "jsonrpc": "2.0",
                "id": 9,
                "method": "tools/call",
                "params": {"name": "locate", "arguments": {"region": "eu"}, "_meta": meta},
            }
            headers = {
                "accept": "application/json, text/event-stream",
                "mcp-protocol-version": "2026-07-28",
                "mcp-method": "tools/call",
                "mcp-name": "locate",
            }
            async with httpx.AsyncClient() as raw:
                for extra in ({}, {"mcp-param-region": "us"}):
                    answer = await raw.post(rec.inner.url, json=body, headers={**headers, **extra})
                    assert answer.status_code == 400 and answer.json()["error"]["code"] == -32020
                ok = await raw.post(rec.inner.url, json=body, headers={**headers, "mcp-param-region": "eu"})
                assert ok.status_code == 200 and ok.json()["result"]["content"][0]["text"] == "eu x1"
            # A name that looks like the Base64 sentinel is itself sent Base64-encoded.
            assert (await client.call_tool("echo", {"text": "=?base64?aGk=?="})).content[
                0
            ].text == "=?base64?aGk=?="
        rec.validate("2026-07-28")

    run(main())
