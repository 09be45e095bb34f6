"""mcpbind's client against servers built with the TypeScript SDK the way its users build them, in the
modes server-everything (test_mcpbind_client.py) does not use:

- `ts_server.mjs`, the 1.x SDK's McpServer behind StreamableHTTPServerTransport, a transport per
  session: SSE answers (the default), JSON answers (`enableJsonResponse`), an event store whose tool
  closes its own SSE stream mid-call (SEP-1699: our client resumes with GET and Last-Event-ID), and
  stateless (no session id). Structured results (every zod shape, in the SDK's draft-07 form),
  progress with total and message, the server's ping and roots/list to us, a session the server
  forgot (404: our client initializes again), and our tasks against its experimental ones
  (tasks/get, tasks/result, input_required, cancel, list).
- `ts_server_v2.mjs`, the 2.x SDK (@modelcontextprotocol/server) serving one factory over HTTP with
  createMcpHandler and over stdio with serveStdio: 2026-07-28 (input by multi-round trip with
  requestState, subscriptions/listen, SSE keep-alive comments), its 2025-era fallbacks, and our
  `auto` negotiation.

Every frame each side sent is validated against the revision the connection negotiated.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from mcpbind.client import Client
from mcpbind.client.outputs import InvalidToolResult
from mcpbind.errors import McpError
from mcpbind.transports.http.client import StreamableHttpTransport
from mcpbind.transports.stdio import StdioClientTransport

from ..schema_check import Recorder
from .common import HERE, NODE, free_port, node_env, require_toolchain, serve

TEST_TIMEOUT = 60.0
ROOTS = [{"uri": "file:///tmp/mcpbind-ts-server", "name": "r"}]


@dataclass
class Seen:
    logs: list[Any] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)

    async def wait(self, what: Any, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not what():
            assert time.monotonic() < deadline, f"not within {timeout} s: {self}"
            await asyncio.sleep(0.02)


@contextmanager
def ts_server(script: str, options: dict[str, Any], log_dir: Path) -> Iterator[str]:
    """`script` (1.x or 2.x) over HTTP on a loopback port; yields its base URL."""
    port = free_port()
    command = [str(NODE), str(HERE / script), json.dumps({"port": port, **options})]
    with serve(command, port, log_dir / f"{script}-{port}.log", env=node_env()):
        yield f"http://127.0.0.1:{port}"


@asynccontextmanager
async def connect(inner: Any, mode: str) -> AsyncIterator[tuple[Client, Seen, Recorder]]:
    seen = Seen()

    async def on_log(params: Any) -> None:
        seen.logs.append(params.get("data") if isinstance(params, dict) else params)

    async def on_changed(kind: str) -> None:
        seen.changed.append(kind)

    async def elicitation(params: dict[str, Any]) -> dict[str, Any]:
        seen.asked.append(params["message"])
        if params["message"] == "Your name?":
            return {"action": "accept", "content": {"name": "mcpbind"}}
        return {"action": "accept", "content": {"ok": True}}

    async def sampling(params: dict[str, Any]) -> dict[str, Any]:
        prompt = params["messages"][0]["content"]["text"]
        return {"role": "assistant", "content": {"type": "text", "text": f"echo {prompt}"}, "model": "m"}

    async def roots() -> list[dict[str, Any]]:
        return ROOTS

    recorder = Recorder(inner)
    client = Client(
        recorder,
        mode=mode,
        on_log=on_log,
        on_list_changed=on_changed,
        elicitation=elicitation,
        sampling=sampling,
        roots=roots,
        request_timeout=20.0,
        probe_timeout=15.0,
    )
    async with client:
        yield client, seen, recorder
    assert client.revision is not None
    recorder.validate(client.revision, skip_probe=True)


def run(test: Any) -> None:
    asyncio.run(asyncio.wait_for(test(), TEST_TIMEOUT))


def text(result: Any) -> str:
    assert result.is_error is not True, result
    return "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")


# -- the 1.x SDK's StreamableHTTPServerTransport, in each of its modes ----------------------------------

V1_MODES = {
    "sse": {},
    "json": {"json": True},
    "events": {"events": True},
    "stateless": {"stateless": True},
}


@pytest.fixture(scope="module")
def v1_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    require_toolchain()
    logs = tmp_path_factory.mktemp("ts_server")
    with (
        ts_server("ts_server.mjs", V1_MODES["sse"], logs) as sse,
        ts_server("ts_server.mjs", V1_MODES["json"], logs) as json_,
        ts_server("ts_server.mjs", V1_MODES["events"], logs) as events,
        ts_server("ts_server.mjs", V1_MODES["stateless"], logs) as stateless,
    ):
        yield {"sse": sse, "json": json_, "events": events, "stateless": stateless}


@pytest.mark.parametrize("mode", list(V1_MODES))
def test_v1_server_structured_and_progress(mode: str, v1_urls: dict[str, str]) -> None:
    """Connected the default way (`auto`: a server/discover probe the 1.x transport refuses, then
    initialize), in each mode of the transport."""

    async def test() -> None:
        async with connect(StreamableHttpTransport(v1_urls[mode] + "/mcp"), "auto") as (client, _, _):
            assert client.revision == "2025-11-25"
            result = await client.call_tool("weather", {"city": "Oslo"})
            assert result.structured_content == {"city": "Oslo", "celsius": 21.5, "conditions": "sunny"}
            tools = {t.name: t for t in await client.list_tools()}
            assert tools["weather"].output_schema["required"] == ["city", "celsius", "conditions"]
            steps: list[tuple[float, float | None, str | None]] = []

            async def progress(value: float, total: float | None, message: str | None) -> None:
                steps.append((value, total, message))

            assert text(await client.call_tool("progress", {"steps": 3}, progress=progress)) == "3 steps"
            if mode == "json":
                # The SDK drops a request's notifications when it answers with JSON.
                assert steps == []
            else:
                assert steps == [(i, 3, f"step {i} of 3") for i in (1, 2, 3)]

    run(test)


@pytest.mark.parametrize("mode", ["sse", "json", "events"])
def test_v1_server_asks_us(mode: str, v1_urls: dict[str, str]) -> None:
    """The server's own requests (ping, roots/list) reach us on the GET stream, whatever the mode."""

    async def test() -> None:
        async with connect(StreamableHttpTransport(v1_urls[mode] + "/mcp"), "2025-11-25") as (client, _, _):
            assert text(await client.call_tool("ping-client", {})).startswith("pong in ")
            assert text(await client.call_tool("roots", {})) == ROOTS[0]["uri"]

    run(test)


def test_v1_server_withdraws_its_question(v1_urls: dict[str, str]) -> None:
    """We cancel a call while the server waits on our elicitation callback: the SDK cancels its own
    request too (notifications/cancelled for the elicitation's id, 0 here), and our callback is
    cancelled rather than left running to answer a question nobody waits for."""

    async def test() -> None:
        entered = asyncio.Event()
        outcome: list[str] = []

        async def waits(params: dict[str, Any]) -> dict[str, Any]:
            entered.set()
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                outcome.append("cancelled")
                raise
            return {"action": "accept", "content": {}}

        recorder = Recorder(StreamableHttpTransport(v1_urls["sse"] + "/mcp"))
        async with Client(recorder, mode="2025-11-25", elicitation=waits, request_timeout=20.0) as client:
            call = asyncio.ensure_future(client.call_tool("ask", {}))
            await asyncio.wait_for(entered.wait(), 10)
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
            deadline = time.monotonic() + 10
            while not outcome and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            assert outcome == ["cancelled"]
            withdrawn = [json.loads(f) for f in recorder.received if b'"notifications/cancelled"' in f]
            asked = [json.loads(f) for f in recorder.received if b'"elicitation/create"' in f]
            assert [w["params"]["requestId"] for w in withdrawn] == [asked[0]["id"]]
            assert text(await client.call_tool("weather", {"city": "Oslo"}))  # the session goes on
        # We never answered the withdrawn question.
        assert not [f for f in recorder.sent if b'"result"' in f and b'"action"' in f]

    run(test)


def test_v1_server_zod_shapes(v1_urls: dict[str, str], caplog: pytest.LogCaptureFixture) -> None:
    """A structured result of every zod shape (tuple, record, union, discriminated union, nullable,
    optional, default, literal, bounded int, email, datetime, nested tuples), its outputSchema in
    the SDK's draft-07 form: our client compiles it (no "results go unchecked"), the result holds,
    and a wrong tuple member is refused."""

    async def test() -> None:
        async with connect(StreamableHttpTransport(v1_urls["sse"] + "/mcp"), "2025-11-25") as (client, _, _):
            await client.list_tools()  # (what our client checks results against)
            result = await client.call_tool("shapes", {})
            assert result.is_error is not True, result
            structured = result.structured_content
            assert structured["tuple"] == [1, "one"] and structured["tagged"] == {"kind": "b", "b": "bee"}
            assert structured["nested"] == {"deep": {"deeper": [[True]]}}
            # The same with the tuple's second member a number: refused, at that member.
            with pytest.raises(InvalidToolResult, match=r"\$\.tuple\[1\]"):
                await client.call_tool("shapes", {"broken": True})

    run(test)
    assert "cannot be compiled" not in caplog.text, caplog.text


@pytest.mark.parametrize("mode", ["sse", "json"])
def test_v1_server_tasks(mode: str, v1_urls: dict[str, str]) -> None:
    """Our tasks against the 1.x SDK's (its experimental API, an InMemoryTaskStore): a task-augmented
    tools/call, tasks/get polled to the end, tasks/result; a task that ends failed with its tool
    error; one that asks us (input_required: its elicitation comes with tasks/result); tasks/cancel;
    tasks/list; and the SDK's refusal of a plain call to a task-only tool."""

    async def test() -> None:
        async with connect(StreamableHttpTransport(v1_urls[mode] + "/mcp"), "2025-11-25") as (
            client,
            seen,
            _,
        ):
            assert client.server_capabilities["tasks"]["requests"] == {"tools": {"call": {}}}
            done = await client.start_tool_task("delay", {"ms": 200})
            assert (await done.wait()).status == "completed"
            assert text(await done.result()) == "waited 200 ms"
            failed = await client.start_tool_task("delay", {"ms": 50, "fail": True})
            assert (await failed.wait()).status == "failed"
            outcome = await failed.result()
            assert outcome.is_error is True and outcome.content[0].text == "delay failed"
            asks = await client.start_tool_task("confirm-task", {})
            assert text(await asks.result()) == f"confirmed=true in {asks.task_id}"
            assert seen.asked == ["Confirm?"]
            held = await client.start_tool_task("delay", {"ms": 30_000})
            assert (await held.cancel()).status == "cancelled"
            listed = {t.task_id: t.status for t in await client.list_tasks()}
            want = {done.task_id: "completed", failed.task_id: "failed", asks.task_id: "completed"}
            assert listed.items() >= {**want, held.task_id: "cancelled"}.items()
            refused = await client.call_tool("delay", {"ms": 1})
            assert refused.is_error is True and "requires task augmentation" in refused.content[0].text

    run(test)


def test_v1_server_closes_the_stream_and_we_resume(v1_urls: dict[str, str]) -> None:
    """SEP-1699: the tool closes its SSE stream mid-call; we reconnect with GET and Last-Event-ID after
    the server's `retry`, and get the message sent while we were away, then the answer."""

    async def test() -> None:
        inner = StreamableHttpTransport(v1_urls["events"] + "/mcp")
        async with connect(inner, "2025-11-25") as (client, seen, _):
            await client.set_level("info")
            assert text(await client.call_tool("polling", {})) == "polled"
            await seen.wait(lambda: len(seen.logs) >= 2)
            assert seen.logs == ["before the stream closed", "while the client was away"]

    run(test)


@pytest.mark.parametrize("mode", ["sse", "events"])
def test_v1_server_forgets_the_session(mode: str, v1_urls: dict[str, str]) -> None:
    """The server forgets every session (as after a restart): the next request gets 404 for our
    session id, and our client initializes a new session and goes on."""

    async def test() -> None:
        async with connect(StreamableHttpTransport(v1_urls[mode] + "/mcp"), "2025-11-25") as (client, _, rec):
            text(await client.call_tool("weather", {"city": "Oslo"}))
            old = rec.session_id
            urllib.request.urlopen(
                urllib.request.Request(v1_urls[mode] + "/expire", method="POST"), timeout=10
            )
            result = await client.call_tool("weather", {"city": "Bergen"})
            assert result.structured_content["city"] == "Bergen"
            assert rec.session_id not in (None, old)
            initializes = [f for f in rec.sent if b'"method":"initialize"' in f]
            assert len(initializes) == 2

    run(test)


# -- the 2.x SDK: createMcpHandler (HTTP) and serveStdio ---------------------------------------------------


@pytest.fixture(scope="module")
def v2_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_toolchain()
    # SSE comment frames (keep-alives) every 25 ms on every stream, between the events we read.
    with ts_server("ts_server_v2.mjs", {"keepAliveMs": 25}, tmp_path_factory.mktemp("ts_server_v2")) as url:
        yield url + "/mcp"


def v2_transport(transport: str, url: str) -> Any:
    if transport == "stdio":
        return StdioClientTransport(
            str(NODE), [str(HERE / "ts_server_v2.mjs"), '{"stdio": true}'], stderr="capture"
        )
    return StreamableHttpTransport(url)


@pytest.mark.parametrize("transport", ["http", "stdio"])
def test_v2_server_modern(transport: str, v2_url: str) -> None:
    """2026-07-28 against the 2.x SDK: structured output, progress, logs at the level we ask, input by
    multi-round trip (two rounds, the server's requestState carried back), sampling and roots."""

    async def test() -> None:
        async with connect(v2_transport(transport, v2_url), "2026-07-28") as (client, seen, _):
            assert client.revision == "2026-07-28"
            assert client.server_info["name"] == "mcpbind-interop-ts-server-v2"
            result = await client.call_tool("weather", {"city": "Oslo"})
            assert result.structured_content == {"city": "Oslo", "celsius": 21.5, "conditions": "sunny"}
            steps: list[tuple[float, float | None, str | None]] = []

            async def progress(value: float, total: float | None, message: str | None) -> None:
                steps.append((value, total, message))

            await client.call_tool("progress", {"steps": 2}, progress=progress)
            assert steps == [(1, 2, "step 1 of 2"), (2, 2, "step 2 of 2")]
            await client.set_level("info")
            assert text(await client.call_tool("log", {})) == "logged"
            await seen.wait(lambda: len(seen.logs) >= 2)
            assert seen.logs == ["first", "third"]  # "debug" is below the level asked for
            assert text(await client.call_tool("signup", {})) == "mcpbind: signed up"
            assert seen.asked == ["Your name?", "Sign up mcpbind?"]
            assert text(await client.call_tool("sample", {"prompt": "hi"})) == "sampled: echo hi"
            assert text(await client.call_tool("roots", {})) == ROOTS[0]["uri"]
            with pytest.raises(McpError):
                await client.ping()  # no ping in 2026-07-28: refused before anything is sent

    run(test)


def test_v2_server_listen_and_keepalives(v2_url: str) -> None:
    """subscriptions/listen on createMcpHandler: a change the server publishes reaches us, on a stream
    that carried keep-alive comments a while (a slow call's stream carries them too), and evicts the
    tools/list our client cached for the server's ttlMs."""

    async def test() -> None:
        async with connect(v2_transport("http", v2_url), "2026-07-28") as (client, seen, recorder):

            def listings() -> int:
                return sum(b'"method":"tools/list"' in f for f in recorder.sent)

            # The server's ttlMs (a minute) lets the second listing come from our cache...
            first = {t.name for t in await client.list_tools()}
            assert {t.name for t in await client.list_tools()} == first and listings() == 1
            steps: list[float] = []

            async def progress(value: float, total: float | None, message: str | None) -> None:
                steps.append(value)

            assert text(await client.call_tool("slow", {"ms": 300}, progress=progress)) == "slept 300 ms"
            assert steps == [0]
            async with client.listen(tools=True):
                await asyncio.sleep(0.3)
                assert text(await client.call_tool("change", {})) == "changed"
                await seen.wait(lambda: "tools" in seen.changed)
            # ...until the server says the list changed.
            assert {t.name for t in await client.list_tools()} == first and listings() == 2

    run(test)


@pytest.mark.parametrize("transport", ["http", "stdio"])
def test_v2_server_auto_and_legacy(transport: str, v2_url: str) -> None:
    """`auto` settles on 2026-07-28 with the 2.x server; pinned to 2025-11-25 we get its 2025-era
    serving (over stdio the same tools, asking us with requests of their own)."""

    async def test() -> None:
        async with connect(v2_transport(transport, v2_url), "auto") as (client, _, _):
            assert client.revision == "2026-07-28"
            assert text(await client.call_tool("echo", {"text": "a"})) == "echo: a"
        async with connect(v2_transport(transport, v2_url), "2025-11-25") as (client, _, _):
            assert client.revision == "2025-11-25"
            assert text(await client.call_tool("echo", {"text": "b"})) == "echo: b"
            result = await client.call_tool("weather", {"city": "Rome"})
            assert result.structured_content["city"] == "Rome"
            await client.ping()
            if transport == "stdio":
                assert text(await client.call_tool("signup", {})) == "mcpbind: signed up"
                assert text(await client.call_tool("roots", {})) == ROOTS[0]["uri"]

    run(test)


@pytest.mark.parametrize(
    ("transport", "mode"), [("http", "2026-07-28"), ("stdio", "2026-07-28"), ("stdio", "2025-11-25")]
)
def test_v2_server_sees_our_cancel(transport: str, mode: str, v2_url: str) -> None:
    """We cancel a call: the 2.x server's handler sees its request's abort signal (it counts them).
    (Not over HTTP at 2025-11-25: createMcpHandler serves that era statelessly, an instance per
    request, so a later notifications/cancelled finds no call to cancel; the TS client fares alike.)"""

    async def test() -> None:
        async with connect(v2_transport(transport, v2_url), mode) as (client, _, _):
            before = text(await client.call_tool("aborted", {}))
            running = asyncio.Event()

            async def progress(value: float, total: float | None, message: str | None) -> None:
                running.set()

            call = asyncio.ensure_future(client.call_tool("wait", {}, progress=progress))
            await asyncio.wait_for(running.wait(), 10)  # the handler runs in the server
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
            wanted = f"aborted={int(before.split('=')[1]) + 1}"
            deadline = time.monotonic() + 10
            while (now := text(await client.call_tool("aborted", {}))) != wanted:
                assert time.monotonic() < deadline, f"the server saw no cancel: {now}, wanted {wanted}"
                await asyncio.sleep(0.05)

    run(test)
