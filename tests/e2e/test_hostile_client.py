"""The client against servers that misbehave: each a real process (tests/servers/hostile_http.py, a raw
HTTP/1.1 server on 127.0.0.1, and tests/servers/hostile_stdio.py, a stdio subprocess).

What is pinned down: a refused probe ends at once; a timeout fires on time whatever the pipe; answers
over the configured limits fail their request with an error that names the limit (and nothing is
read whole); a stream that ends without the answer fails at once; one unreadable message fails its
request (or is logged and skipped) and the session goes on.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from mcpbind.client import Client
from mcpbind.errors import McpError, RequestTimeout
from mcpbind.transports.http.client import DEFAULT_MAX_RECONNECT_DELAY, StreamableHttpTransport
from mcpbind.transports.http.http11 import HttpClient
from mcpbind.transports.stdio import MAX_STDERR, StdioClientTransport

from ..auth_support import serving
from ..http_support import free_port, wait_for_port

SERVERS = Path(__file__).resolve().parents[1] / "servers"
HOSTILE_HTTP = str(SERVERS / "hostile_http.py")
HOSTILE_STDIO = str(SERVERS / "hostile_stdio.py")
REVISION = "2025-11-25"


PROBE = 25.0
"""The era probe's timeout where a test says a connect does not wait it out: far above `AT_ONCE`."""
AT_ONCE = 8.0
"""What "at once" means here: far below any timeout the step could wait out (`PROBE`, a request's),
not a speed target a loaded machine cannot keep (bounds of 1 s failed under load)."""
LATE = 5.0
"""How late a timeout may fire on a loaded machine and still be "on time" (not stuck)."""


def run(coro: Awaitable[Any], limit: float = 30) -> Any:
    return asyncio.run(asyncio.wait_for(coro, limit))  # type: ignore[arg-type]


@asynccontextmanager
async def hostile_http(mode: str, size: int = 0) -> AsyncIterator[str]:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, HOSTILE_HTTP, "--http", str(port), "--mode", mode, "--size", str(size)
    )
    try:
        await wait_for_port(port)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 10)


def stdio_client(behaviour: str, size: int = 0, **options: Any) -> Client:
    """A client of hostile_stdio.py misbehaving as `behaviour` says (pinned to 2025-11-25 unless
    `mode` is given)."""
    options.setdefault("mode", REVISION)
    return Client.stdio(sys.executable, [HOSTILE_STDIO, behaviour, str(size)], **options)


# -- the era probe -------------------------------------------------------------------------------


def test_a_probe_refused_with_http_400_and_a_null_id_falls_back_at_once() -> None:
    """Servers on the TypeScript SDK refuse `server/discover` before `initialize` with HTTP 400 and
    a JSON-RPC error whose id is null: that ends the probe, not the probe timeout (15 s over HTTP)."""

    async def main() -> None:
        async with hostile_http("ts-probe") as url:
            started = time.monotonic()
            async with Client.http(url, probe_timeout=PROBE) as client:
                assert time.monotonic() - started < AT_ONCE  # the probe was not waited out
                assert client.revision == REVISION
                assert await client.list_tools() == []

    run(main())


def test_a_probe_refused_with_a_null_id_over_stdio_falls_back_at_once() -> None:
    async def main() -> None:
        started = time.monotonic()
        async with stdio_client("null-id-probe", mode="auto", probe_timeout=PROBE) as client:
            assert time.monotonic() - started < AT_ONCE  # the probe was not waited out (spawn included)
            assert client.revision == REVISION
            assert await client.list_tools() == []

    run(main())


# -- timeouts --------------------------------------------------------------------------------------


def test_a_timeout_fires_on_time_when_the_server_stops_reading_stdin() -> None:
    """The server reads nothing after `initialize`: a large request fills the pipe, and neither its
    send nor the cancellation after it may outlast the request's timeout."""

    async def main() -> None:
        async with stdio_client("stop-reading", request_timeout=1.0) as client:
            for _ in range(2):  # the second finds the pipe already full
                started = time.monotonic()
                with pytest.raises(RequestTimeout):
                    await client.request("ping", {"_meta": {"pad": "x" * 2_000_000}})
                # Not stuck on the full pipe (which would wait until the test's own limit).
                assert time.monotonic() - started < 1.0 + LATE
            started = time.monotonic()
            with pytest.raises(RequestTimeout):
                await client.request("ping", timeout=0.5)
            assert time.monotonic() - started < 0.5 + LATE

    run(main())


# -- limits ---------------------------------------------------------------------------------------


async def ping_padded(client: Client, size: int) -> Any:
    """A `ping` the hostile server answers with `size` bytes of padding (plus ~60 bytes of JSON)."""
    return await client.request("ping", meta={"size": size})


@pytest.mark.parametrize("mode", ["huge-json", "huge-sse"])
def test_an_http_answer_over_max_message_fails_its_request(mode: str) -> None:
    """A JSON body or an SSE event just over `max_message` fails its request with an error naming
    the limit; one just under is read; the session goes on."""

    async def main() -> None:
        async with hostile_http(mode) as url:
            async with Client.http(url, mode=REVISION, max_message=100_000) as client:
                assert await ping_padded(client, 99_000) is not None
                with pytest.raises(McpError, match=r"exceeds the limit of 100000 bytes"):
                    await ping_padded(client, 100_000)
                assert await client.list_tools() == []

    run(main())


@pytest.mark.parametrize(
    ("mode", "size", "limit"), [("huge-headers", 65_000, "bytes"), ("many-headers", 255, "headers")]
)
def test_response_heads_over_the_limits_fail_fast(mode: str, size: int, limit: str) -> None:
    async def main() -> None:
        async with hostile_http(mode, size) as url:
            http = HttpClient(max_header_bytes=64 * 1024, max_headers=256)
            transport = StreamableHttpTransport(url, client=http)
            async with Client(transport, mode=REVISION) as client:
                started = time.monotonic()
                with pytest.raises(McpError, match=rf"exceeds .*{limit}"):
                    await client.ping()
                assert time.monotonic() - started < AT_ONCE  # not the request's timeout (60 s)
                assert await client.list_tools() == []
            await http.close()

    run(main())


def test_repeated_headers_cost_linear_time() -> None:
    """Within the limits, many repeated headers are joined once, not once per header."""

    async def main() -> None:
        async with hostile_http("many-headers", 200_000) as url:
            http = HttpClient(max_header_bytes=1 << 24, max_headers=1_000_000)
            started = time.process_time()  # this process's CPU (the client's), not the loaded machine's
            async with http.request(
                "POST", url, {"content-type": "application/json"}, b'{"jsonrpc":"2.0","id":1,"method":"ping"}'
            ) as response:
                await response.read()
                assert response.headers["x-pad"].count("y") == 200_000
            assert time.process_time() - started < 2.0
            await http.close()

    run(main())


def test_a_stdio_line_over_max_line_fails_its_request() -> None:
    """A line just over `max_line` is dropped unread, and the request it answers fails at once with
    an error naming the limit, whether the id comes first or last; one just under is read."""

    async def main() -> None:
        for mode in ("huge-line", "huge-line-id-last"):
            async with stdio_client(mode, max_line=100_000, request_timeout=10) as client:
                assert await ping_padded(client, 99_000) is not None
                started = time.monotonic()
                with pytest.raises(McpError, match=r"exceeds the client's limit of 100000 bytes"):
                    await ping_padded(client, 100_000)
                assert time.monotonic() - started < 5
                assert await client.list_tools() == []

    run(main())


# -- streams that end early ------------------------------------------------------------------------


def test_an_sse_stream_that_ends_without_answer_or_event_id_fails_at_once() -> None:
    async def main() -> None:
        async with hostile_http("sse-no-answer") as url:
            async with Client.http(url, mode=REVISION, request_timeout=25) as client:
                started = time.monotonic()
                with pytest.raises(McpError, match="stream without the answer"):
                    await client.ping()
                assert time.monotonic() - started < AT_ONCE  # not the request's timeout
                assert await client.list_tools() == []

    run(main())


# -- unreadable messages ---------------------------------------------------------------------------


def test_unreadable_stdio_lines_fail_only_their_own_request(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        async with stdio_client("bad-lines", request_timeout=10) as client:
            with pytest.raises(McpError, match="could not be read: invalid UTF-8"):
                await client.ping()
            assert await client.list_tools() == []
        async with stdio_client("deep-answer", request_timeout=10) as client:
            started = time.monotonic()
            # The core reads deep nesting as a parse error (no RecursionError escapes it): the cause
            # travels in the message.
            with pytest.raises(McpError, match=r"could not be read: .*nested too deeply"):
                await client.ping()
            assert time.monotonic() - started < 5
            assert await client.list_tools() == []
        async with stdio_client("truncated", request_timeout=10) as client:
            started = time.monotonic()
            with pytest.raises(McpError, match="could not be read: Parse error"):
                await client.ping()
            assert time.monotonic() - started < 5
            assert await client.list_tools() == []

    with caplog.at_level(logging.WARNING, logger="mcpbind"):
        run(main())
    skipped = [r for r in caplog.records if "could not be read" in r.getMessage()]
    assert len(skipped) >= 2  # the two notifications, one line each


def test_log_notifications_the_schema_forbids_reach_no_log_callback() -> None:
    """No level, a level of no name, no data: skipped (the callback was handed them, and one that
    reads `params["level"]`, as its type says it may, failed); the one that is right is handed on."""
    logged: list[dict[str, Any]] = []

    async def on_log(params: dict[str, Any]) -> None:
        logged.append(params)

    async def main() -> None:
        async with stdio_client("bad-logs", request_timeout=10, on_log=on_log) as client:
            await client.ping()
            for _ in range(500):  # (the notifications are handed on by the reading task)
                if logged:
                    break
                await asyncio.sleep(0.01)
            assert await client.list_tools() == []

    run(main())
    assert logged == [{"level": "info", "data": "ok"}]


def test_unreadable_http_answers_fail_only_their_own_request() -> None:
    async def main() -> None:
        async with hostile_http("bad-events") as url:
            async with Client.http(url, mode=REVISION, request_timeout=10) as client:
                with pytest.raises(McpError, match="could not be read"):
                    await client.ping()
                assert await client.list_tools() == []
        async with hostile_http("deep-json", 100_000) as url:
            async with Client.http(url, mode=REVISION, request_timeout=10) as client:
                started = time.monotonic()
                with pytest.raises(McpError, match="could not be read"):
                    await client.ping()
                assert time.monotonic() - started < 5
                assert await client.list_tools() == []

    run(main())


def test_a_json_body_that_is_no_json_fails_its_request_at_once() -> None:
    """A 200 whose Content-Type says JSON but whose body is not (an SSE event, here) names no id: it
    still answers its POST, whose request fails at once (it waited out its timeout), and the session
    goes on."""

    async def main() -> None:
        async with hostile_http("type-lie") as url:
            async with Client.http(url, mode=REVISION, request_timeout=PROBE) as client:
                started = time.monotonic()
                with pytest.raises(McpError, match="answer to ping could not be read: its HTTP 200 body"):
                    await client.ping()
                assert time.monotonic() - started < AT_ONCE
                assert await client.list_tools() == []

    run(main())


@pytest.mark.parametrize(
    ("mode", "size", "error"),
    [
        ("sse-as-json", 0, "ended the answer's stream without the answer"),
        ("empty-200", 0, "HTTP 200 with no body, where the answer to ping was due"),
        ("redirect-loop", 0, "more than 5 redirects"),
        ("sse-comments", 200_000, "ended the answer's stream without the answer"),
        ("sse-long-comment", 32 << 20, "an event exceeds the limit of 16777216 bytes"),
        ("sse-no-data", 0, "could not be resumed"),
        ("wrong-id", 0, "answers no request of its POST"),
        ("float-id", 0, "answers no request of its POST"),
        ("error-wrong-id", 0, "answers no request of its POST"),
        ("empty-batch", 0, "answers no request of its POST"),
        ("notification", 0, "answers no request of its POST"),
        ("accepted", 0, "HTTP 202 with no body, where the answer to ping was due"),
        ("redirect-ftp", 0, "a redirect to 'ftp://127.0.0.1/mcp'"),
        ("redirect-port", 0, "Port out of range"),
    ],
)
def test_answers_that_lie_or_say_nothing_fail_their_request_at_once(
    mode: str, size: int, error: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Answers whose head lies about their body, or whose body carries no answer (another id, no
    answer at all, a 202, a redirect to nowhere): each fails its request at once with what went
    wrong (a comment line longer than the limit is not read whole), logs no failure of the client's
    own, and the session goes on."""

    async def main() -> None:
        async with hostile_http(mode, size) as url:
            async with Client.http(url, mode=REVISION, request_timeout=PROBE) as client:
                started = time.monotonic()
                with pytest.raises(McpError, match=error):
                    await client.ping()
                assert time.monotonic() - started < AT_ONCE
                assert await client.list_tools() == []

    with caplog.at_level(logging.ERROR, logger="mcpbind"):
        run(main(), 60)
    assert not caplog.records, [r.getMessage() for r in caplog.records]


@pytest.mark.parametrize(
    "mode", ["type-case", "sse-type-case", "sse-bom", "sse-retry-digits", "sse-other-events"]
)
def test_odd_answers_the_rules_allow_are_read(mode: str, caplog: pytest.LogCaptureFixture) -> None:
    """`Application/JSON` is `application/json` (RFC 9110, 8.3.1); a stream may open with a byte
    order mark, a `retry` may have any number of digits, and events of other types than `message`
    are no messages (WHATWG event streams): the answer is read, and nothing is logged as a failure
    or a malformed message."""

    async def main() -> None:
        async with hostile_http(mode) as url:
            async with Client.http(url, mode=REVISION, request_timeout=PROBE) as client:
                await client.ping()

    with caplog.at_level(logging.WARNING, logger="mcpbind"):
        run(main(), 60)
    assert not caplog.records, [r.getMessage() for r in caplog.records]


# -- arguments ---------------------------------------------------------------------------------------


def test_captured_stderr_keeps_only_its_end() -> None:
    """A server that writes without end on stderr cannot fill the memory of a client that captures
    it: the client keeps the last `MAX_STDERR` bytes, which end with what the server wrote last."""
    flood = 64 << 20

    async def main() -> None:
        async with stdio_client("stderr-flood", flood, stderr="capture", request_timeout=PROBE) as client:
            await client.ping()
            transport = client.transport
            assert isinstance(transport, StdioClientTransport)
            for _ in range(200):  # (stderr is its own pipe: its end may come after the answer)
                if transport.stderr_text.endswith("the end\n"):
                    break
                await asyncio.sleep(0.05)
            assert transport.stderr_text.endswith("chatter \nthe end\n")
            assert len(transport.stderr_text) <= MAX_STDERR
            assert len(transport._stderr) <= 2 * MAX_STDERR  # what it holds, not only what it shows

    run(main(), 120)


def test_stdio_stderr_must_be_a_known_choice() -> None:
    with pytest.raises(ValueError, match="stderr"):
        Client.stdio(sys.executable, ["-c", "pass"], stderr="captured")
    with pytest.raises(TypeError, match="stderr"):
        Client.stdio(sys.executable, ["-c", "pass"], stderr=2)  # type: ignore[arg-type]
    for choice in (None, "inherit", "capture", "devnull"):
        assert isinstance(
            Client.stdio(sys.executable, ["-c", "pass"], stderr=choice).transport, StdioClientTransport
        )


async def sse_started(scope: dict[str, Any], receive: Any, send: Any) -> bool:
    """For an ASGI app: the request read and an SSE response begun (200), if `scope` is HTTP's."""
    if scope["type"] != "http":
        return False
    await receive()
    head = [(b"content-type", b"text/event-stream")]
    await send({"type": "http.response.start", "status": 200, "headers": head})
    return True


def test_a_server_flooding_a_response_before_the_client_reads_fills_no_more_than_the_unread_bound() -> None:
    """A server answering a POST with a flood of events while nothing takes them yet (a transport used
    before `deliver_to`, or read with `read()` by a caller busy elsewhere) grew the transport's queue
    without limit. The response is read on only while under `max_unread` bytes wait, so the server's
    writes wait instead, and every message still comes, in order, once they are read."""
    note = b'{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"%s"}}'
    count, size = 400, 64 * 1024
    sent: list[int] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if not await sse_started(scope, receive, send):
            return
        for i in range(count):
            data = note % (b"%08d" % i + b"x" * size)
            await send({"type": "http.response.body", "body": b"data: " + data + b"\n\n", "more_body": True})
            sent.append(i)
        answer = b'data: {"jsonrpc":"2.0","id":1,"result":{}}\n\n'
        await send({"type": "http.response.body", "body": answer})

    with serving(app) as origin:

        async def main() -> None:
            bound = 256 * 1024
            transport = StreamableHttpTransport(origin + "/mcp", get_stream=False, max_unread=bound)
            await transport.start()
            try:
                await transport.write(b'{"jsonrpc":"2.0","id":1,"method":"ping"}')
                await asyncio.sleep(1.5)  # the server sends as fast as it may; nobody reads
                assert transport.unread <= bound + size + 200, transport.unread
                assert len(sent) < count  # its writes wait: 25 MB were not all taken
                for i in range(count):
                    data = await asyncio.wait_for(transport.read(), 30)
                    assert data is not None and b'"%08d' % i in data
                assert await asyncio.wait_for(transport.read(), 30) == b'{"jsonrpc":"2.0","id":1,"result":{}}'
            finally:
                await transport.close()

        asyncio.run(main())
    assert len(sent) == count


def test_a_servers_retry_delay_is_capped_when_a_stream_is_resumed() -> None:
    """A server's SSE `retry` may say up to 11 days; the client waited that long (its request's
    timeout, in fact) before resuming a stream that ended without its answer. The delay is capped at
    `max_reconnect_delay` (30 s by default): here 0.3 s, and the answer comes by the resumed GET."""
    assert DEFAULT_MAX_RECONNECT_DELAY <= 60
    gets: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if not await sse_started(scope, receive, send):
            return
        if scope["method"] == "POST":  # an event id and an 11-day retry, then the end: no answer
            await send({"type": "http.response.body", "body": b"id: e1\nretry: 950400000\ndata:\n\n"})
        else:
            gets.append(dict(scope["headers"]).get(b"last-event-id", b"").decode())
            answer = b'id: e2\ndata: {"jsonrpc":"2.0","id":1,"result":{}}\n\n'
            await send({"type": "http.response.body", "body": answer})

    with serving(app) as origin:

        async def main() -> None:
            transport = StreamableHttpTransport(origin + "/mcp", get_stream=False, max_reconnect_delay=0.3)
            await transport.start()
            try:
                started = time.monotonic()
                await transport.write(b'{"jsonrpc":"2.0","id":1,"method":"ping"}')
                answer = await asyncio.wait_for(transport.read(), PROBE)
                assert answer == b'{"jsonrpc":"2.0","id":1,"result":{}}'
                assert time.monotonic() - started < AT_ONCE
                assert gets == ["e1"]
            finally:
                await transport.close()

        asyncio.run(main())


def test_the_client_sets_the_reconnection_cap_and_the_close_timeout() -> None:
    """`Client.http(max_reconnect_delay=)` and `Client.websocket(close_timeout=)` reach their transports
    (the cap and the close handshake's wait are the client's to choose, not only a transport's)."""
    from mcpbind.client import Client

    http = Client.http("http://127.0.0.1:9/mcp", max_reconnect_delay=0.25).transport
    assert isinstance(http, StreamableHttpTransport) and http.max_reconnect_delay == 0.25
    default = Client.http("http://127.0.0.1:9/mcp").transport
    assert isinstance(default, StreamableHttpTransport)
    assert default.max_reconnect_delay == DEFAULT_MAX_RECONNECT_DELAY
    ws = Client.websocket("ws://127.0.0.1:9/mcp", close_timeout=0.5).transport
    assert getattr(ws, "options", {}).get("close_timeout") == 0.5
    assert "close_timeout" not in getattr(Client.websocket("ws://127.0.0.1:9/mcp").transport, "options", {})
