"""Every user coroutine runs from its first step to its end in one task of its own (`mcpbind.aio.own`),
over every transport and in both eras.

The server (tests/servers/own_task.py) runs over stdio and HTTP (uvicorn) and WebSocket (its own
server) in a process of its own, and in this one through `Client.memory`. Its handlers use anyio
cancel scopes and task groups across a wait, httpx against a loopback HTTP server, `asyncio.timeout`s
that expire, and check that `asyncio.current_task()` is the same before and after a wait and has ended
once the request is answered (a read loop's or a connection's task would not have). The client's
sampling and elicitation callbacks check the same in the client. A cancelled call cancels its tool
alone; a session's end cancels its tools in flight.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anyio
import pytest

from mcpbind.client import Client

from ..http_support import SERVERS, free_port, load_script, serve_command

SCRIPT = str(SERVERS / "own_task.py")
ERAS = ["2025-11-25", "2026-07-28"]
TRANSPORTS = ["memory", "stdio", "http", "websocket"]
TIMEOUT = 30
PREFIX = "io.modelcontextprotocol/"

own_task: Any = load_script(SCRIPT, "own_task_server")


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"hello"
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def loopback() -> Iterator[str]:
    """A plain HTTP server on the loopback interface, in a thread: what the `fetch` tool gets."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        thread.join(10)


CLIENT_TASKS: list[asyncio.Task[Any]] = []


async def _checked_here() -> None:
    """The client's side of the checks (`own_task.checked`), failing the callback if they fail."""
    task = asyncio.current_task()
    assert task is not None
    CLIENT_TASKS.append(task)
    with anyio.fail_after(10):
        await asyncio.sleep(0.001)
    async with anyio.create_task_group() as group:
        group.start_soon(asyncio.sleep, 0.001)
    assert asyncio.current_task() is task


async def _sampling(params: dict[str, Any]) -> dict[str, Any]:
    await _checked_here()
    return {"role": "assistant", "content": {"type": "text", "text": "sampled"}, "model": "m"}


async def _elicitation(params: dict[str, Any]) -> dict[str, Any]:
    await _checked_here()
    return {"action": "accept", "content": {"name": "Ada"}}


@asynccontextmanager
async def _client(transport: str, era: str, middleware: bool = False) -> AsyncIterator[Client]:
    options: dict[str, Any] = {"mode": era, "sampling": _sampling, "elicitation": _elicitation}
    extra = ("--middleware",) if middleware else ()
    if transport == "memory":
        async with Client.memory(own_task.build(middleware), **options) as client:
            yield client
    elif transport == "stdio":
        async with Client.stdio(sys.executable, [SCRIPT, "--stdio", *extra], **options) as client:
            yield client
    else:
        port = free_port()
        with _serving(port, f"--{transport}", *extra):
            if transport == "http":
                client = Client.http(f"http://127.0.0.1:{port}/mcp", **options)
            else:
                client = Client.websocket(f"ws://127.0.0.1:{port}/mcp", **options)
            async with client:
                yield client


@contextmanager
def _serving(port: int, flag: str, *extra: str) -> Iterator[None]:
    with serve_command(port, SCRIPT, flag, str(port), *extra):
        yield


def _text(result: Any) -> str:
    assert not result.is_error, result
    return str(result.content[0].text)


async def _calls(client: Client, url: str) -> None:
    assert _text(await client.call_tool("same", {})) == "same"
    assert _text(await client.call_tool("scoped_first_step", {})) == "ok"
    assert _text(await client.call_tool("expire", {})) == "timed out"
    failed = await client.call_tool("expire_unhandled", {})
    assert failed.is_error  # the tool's own failure; the connection lives on:
    assert _text(await client.call_tool("same", {})) == "same"
    assert _text(await client.call_tool("fetch", {"url": url})) == "200 hello"
    # A few at once: each in a task of its own.
    outcomes = await asyncio.gather(*(client.call_tool("same", {}) for _ in range(8)))
    assert [_text(outcome) for outcome in outcomes] == ["same"] * 8
    read = await client.read_resource("own://same")
    assert read.contents[0].text == "same"  # type: ignore[union-attr]
    prompt = await client.get_prompt("prompt")
    assert prompt.messages[0].content.text == "same"  # type: ignore[union-attr]
    CLIENT_TASKS.clear()
    assert _text(await client.call_tool("ask", {})) == "sampled Ada"
    assert len(CLIENT_TASKS) == 2 and all(task.done() for task in CLIENT_TASKS)
    assert len(set(CLIENT_TASKS)) == 2
    # Every task a handler ran in has ended: none was the transport's.
    ended = (await client.call_tool("recorded", {})).structured_content
    assert isinstance(ended, dict) and ended["result"] and all(ended["result"]), ended


@pytest.mark.parametrize("era", ERAS)
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_user_coroutines_own_their_task(transport: str, era: str, loopback: str) -> None:
    async def run() -> None:
        async with asyncio.timeout(TIMEOUT), _client(transport, era) as client:
            await _calls(client, loopback)

    asyncio.run(run())


@pytest.mark.parametrize("era", ERAS)
@pytest.mark.parametrize("transport", ["memory", "stdio"])
def test_middleware_owns_its_task(transport: str, era: str, loopback: str) -> None:
    async def run() -> None:
        async with asyncio.timeout(TIMEOUT), _client(transport, era, middleware=True) as client:
            await _calls(client, loopback)

    asyncio.run(run())


async def _cancelled(client: Client, expected: list[str]) -> None:
    """Until the server says exactly these `hold` calls were cancelled (5 s at most)."""
    for _ in range(100):
        said = (await client.call_tool("cancelled", {})).structured_content
        assert isinstance(said, dict)
        if sorted(said["result"]) == sorted(expected):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"cancelled: {said['result']}, expected {expected}")


@pytest.mark.parametrize("era", ERAS)
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_cancelling_a_call_cancels_its_tool_alone(transport: str, era: str) -> None:
    own_task.CANCELLED.clear()
    asyncio.run(_cancelling(transport, era))


async def _cancelling(transport: str, era: str) -> None:
    async with asyncio.timeout(TIMEOUT), _client(transport, era) as client:
        first = asyncio.ensure_future(client.call_tool("hold", {"name": "first"}))
        second = asyncio.ensure_future(client.call_tool("hold", {"name": "second"}))
        await asyncio.sleep(0.5)
        first.cancel()
        await _cancelled(client, ["first"])
        assert not second.done()
        assert _text(await client.call_tool("same", {})) == "same"
        second.cancel()
        await _cancelled(client, ["first", "second"])


@pytest.mark.parametrize("era", ERAS)
def test_session_end_cancels_tools_in_flight(era: str) -> None:
    own_task.CANCELLED.clear()
    own_task.STARTED.clear()
    asyncio.run(_ending(era))


async def _ending(era: str) -> None:
    async with asyncio.timeout(TIMEOUT):
        async with _client("memory", era) as client:
            call = asyncio.ensure_future(client.call_tool("hold", {"name": "ending"}))
            started = own_task.STARTED.setdefault("ending", asyncio.Event())
            await started.wait()
        await asyncio.gather(call, return_exceptions=True)
        for _ in range(100):
            if own_task.CANCELLED == ["ending"]:
                break
            await asyncio.sleep(0.02)
        assert own_task.CANCELLED == ["ending"]


def test_async_generator_functions_are_refused_at_registration() -> None:
    """An `async def` that yields gives an async generator, no coroutine and no value: each call would
    fail as an internal error, so registering one as a tool, prompt or resource is refused."""
    from mcpbind.server import Server

    server = Server("generators", "1.0.0")

    async def stream() -> AsyncIterator[str]:
        yield "a"

    with pytest.raises(TypeError, match="async generator"):
        server.tool()(stream)
    with pytest.raises(TypeError, match="async generator"):
        server.prompt()(stream)
    with pytest.raises(TypeError, match="async generator"):
        server.resource("gen://static")(stream)
    with pytest.raises(TypeError, match="async generator"):
        server.resource("gen://{name}")(stream)
    # Nothing was registered by the refusals; a coroutine function still is.

    async def value() -> str:
        return "a"

    server.tool()(value)
    assert [tool.name for tool in asyncio.run(_listed(server))] == ["value"]


async def _listed(server: Any) -> Any:
    async with Client.memory(server) as client:
        return await client.list_tools()


@pytest.mark.parametrize("era", ERAS)
def test_a_cancelled_call_gets_no_answer_though_its_tool_returns(era: str) -> None:
    """A tool that catches its cancellation and returns still sees its request cancelled: the peer
    asked for no answer, and gets none (over stdio, where every answer would show)."""
    import json
    import subprocess

    meta = {
        f"{PREFIX}protocolVersion": era,
        f"{PREFIX}clientInfo": {"name": "raw", "version": "1"},
        f"{PREFIX}clientCapabilities": {},
    }

    def line(message: dict[str, Any]) -> bytes:
        return (json.dumps({"jsonrpc": "2.0", **message}) + "\n").encode()

    def call(rid: int, name: str, arguments: dict[str, Any]) -> bytes:
        params: dict[str, Any] = {"name": name, "arguments": arguments}
        if era == "2026-07-28":
            params["_meta"] = meta
        return line({"id": rid, "method": "tools/call", "params": params})

    server = subprocess.Popen(
        [sys.executable, SCRIPT, "--stdio"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert server.stdin is not None and server.stdout is not None
    try:
        if era != "2026-07-28":
            hello = {"protocolVersion": era, "capabilities": {}, "clientInfo": meta[f"{PREFIX}clientInfo"]}
            server.stdin.write(line({"id": 1, "method": "initialize", "params": hello}))
            server.stdin.write(line({"method": "notifications/initialized"}))
        # Read in order, and a call answered in between: the tool waits in its task when the
        # cancellation is read.
        server.stdin.write(call(2, "swallow", {"name": "swallowed"}))
        server.stdin.write(call(4, "cancelled", {}))
        server.stdin.flush()
        answers: dict[Any, Any] = {}
        while 4 not in answers:
            answer = json.loads(server.stdout.readline())
            answers[answer.get("id")] = answer
        server.stdin.write(line({"method": "notifications/cancelled", "params": {"requestId": 2}}))
        server.stdin.flush()
        while "swallowed" not in str(answers.get(3)):
            server.stdin.write(call(3, "cancelled", {}))
            server.stdin.flush()
            while 3 not in answers:
                answer = json.loads(server.stdout.readline())
                answers[answer.get("id")] = answer
            if "swallowed" not in str(answers[3]):
                del answers[3]
        rest = server.communicate(timeout=TIMEOUT)[0]  # (its end of input: the server ends)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    ids = [*answers, *(json.loads(text).get("id") for text in rest.splitlines() if text.strip())]
    assert 2 not in ids, ids
