"""The WebSocket transport end to end: the full test server (tests/servers/websocket.py) in its own
process, under uvicorn (`/mcp` takes POSTs and upgrades alike) and on its own server (`run_websocket`),
against `Client.websocket` and raw `websockets` clients.

What must hold, on both drivers: every feature in both eras; the subprotocol `mcp`; the same Host,
Origin and token checks as HTTP on the upgrade; hostile text answered with JSON-RPC errors while the
connection goes on; binary frames (1003), invalid UTF-8 (1007), oversized messages (1009) and a
client that does not read (1008) ending that connection alone; abrupt disconnects cancelling what
they started; 1,000 concurrent calls on one connection; 200 connections at once.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import given
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from mcpbind.client import Client
from mcpbind.errors import SessionClosed

from ..hostile import fuzz, messages, parse_error_expected
from ..http_support import MODERN, SERVERS, free_port, serve

SCRIPT = str(SERVERS / "websocket.py")
LEGACY = "2025-11-25"
MAX_MESSAGE = 64 * 1024
MAX_SEND_QUEUE = 256 * 1024
TOKEN = "let-me-in"
TIMEOUT = 30.0


@contextmanager
def _start(*args: str) -> Iterator[str]:
    """The server in its own process (`--standalone`: on the websockets server), its ws:// URL."""
    limits = ("--max-message", str(MAX_MESSAGE), "--max-send-queue", str(MAX_SEND_QUEUE))
    with serve(SCRIPT, *args, *limits) as http_url:
        yield "ws" + http_url.removeprefix("http")


DRIVERS = {"asgi": ("--asgi",), "uvicorn": (), "standalone": ("--standalone",)}


@pytest.fixture(scope="module", params=sorted(DRIVERS))
def url(request: pytest.FixtureRequest) -> Iterator[str]:
    with _start(*DRIVERS[request.param]) as ws_url:
        yield ws_url


def refused(url: str, **kwargs: Any) -> InvalidStatus:
    """The refusal of an upgrade the server must refuse."""
    with pytest.raises(InvalidStatus) as refusal, raw(url, **kwargs):
        pass
    return refusal.value


def raw(url: str, **kwargs: Any) -> ClientConnection:
    kwargs.setdefault("subprotocols", ["mcp"])
    return connect(url, open_timeout=10, close_timeout=5, compression=None, **kwargs)


def rpc(conn: ClientConnection, message: dict[str, Any]) -> dict[str, Any]:
    """Send a request, return its answer (notifications on the way are skipped)."""
    conn.send(json.dumps(message))
    while True:
        got = json.loads(conn.recv(timeout=TIMEOUT))
        if got.get("id") == message["id"] and "method" not in got:
            return got  # type: ignore[no-any-return]


def initialize(conn: ClientConnection) -> None:
    answer = rpc(
        conn,
        {
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {
                "protocolVersion": LEGACY,
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "0"},
            },
        },
    )
    assert answer["result"]["protocolVersion"] == LEGACY
    conn.send(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))


def close_code(conn: ClientConnection) -> int | None:
    """Read until the server closes; its close code."""
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            conn.recv(timeout=TIMEOUT)
    frame = closed.value.rcvd
    return None if frame is None else frame.code


# -- both eras, every feature, through Client.websocket ------------------------------------------------


@pytest.mark.parametrize("mode", ["legacy", MODERN, "auto"])
def test_features_both_eras(url: str, mode: str) -> None:
    async def tour() -> None:
        logs: list[Any] = []
        updated: list[str] = []
        changed: list[str] = []
        steps: list[float] = []

        async def sampling(params: Any) -> dict[str, Any]:
            return {"role": "assistant", "content": {"type": "text", "text": "4"}, "model": "m"}

        async def elicitation(params: Any) -> dict[str, Any]:
            return {"action": "accept", "content": {"name": "ada", "age": 36}}

        async def roots() -> list[dict[str, Any]]:
            return [{"uri": "file:///tmp/a"}]

        async def on_log(params: Any) -> None:
            logs.append(params)

        async def on_updated(uri: str) -> None:
            updated.append(uri)

        async def on_changed(kind: str) -> None:
            changed.append(kind)

        async with Client.websocket(
            url,
            mode=mode,
            sampling=sampling,
            elicitation=elicitation,
            roots=roots,
            on_log=on_log,
            on_resource_updated=on_updated,
            on_list_changed=on_changed,
            log_level="debug",
        ) as client:
            assert client.revision == (LEGACY if mode == "legacy" else MODERN)
            echo = await client.call_tool("echo", {"text": "hi"})
            assert echo.content[0].text == "hi"
            tools = await client.list_tools()  # three pages of three
            assert {"echo", "flood", "filler_4"} <= {t.name for t in tools}
            assert (await client.call_tool("think", {})).content[0].text == "model said 4"
            assert (await client.call_tool("ask", {})).content[0].text == "accept:ada:accept:36"
            assert (await client.call_tool("where", {})).structured_content == {"result": ["file:///tmp/a"]}
            await client.call_tool("shout", {})
            assert {"data": {"loud": True}, "level": "warning", "logger": "full"} in logs, logs

            async def on_progress(progress: float, total: float | None, message: str | None) -> None:
                steps.append(progress)

            result = await client.call_tool("progress", {"steps": 3}, progress=on_progress)
            assert result.content[0].text == "progressed"
            assert steps == [1, 2, 3]
            assert (await client.read_resource("memo://hello")).contents[0].text == "hello world"
            assert (await client.get_prompt("greet", {"name": "ada"})).messages
            if mode == "legacy":
                await client.subscribe("memo://hello")
                await client.call_tool("touch", {"uri": "memo://hello"})
                await client.call_tool("add_tool", {"name": "late"})
                for _ in range(200):
                    if updated and changed:
                        break
                    await asyncio.sleep(0.05)
                assert updated == ["memo://hello"] and "tools" in changed, (updated, changed)

    asyncio.run(asyncio.wait_for(tour(), 120))


# -- the upgrade: subprotocol, Host, Origin, token ------------------------------------------------------


def test_subprotocol_mcp(url: str) -> None:
    with raw(url) as conn:
        assert conn.subprotocol == "mcp"
        initialize(conn)
        assert rpc(conn, {"jsonrpc": "2.0", "id": 1, "method": "ping"})["result"] == {}
    with raw(url, subprotocols=None) as conn:  # none offered: served as MCP
        assert conn.subprotocol is None
        initialize(conn)
    assert refused(url, subprotocols=["graphql-ws"]).response.status_code == 400


def test_compression_offered(url: str, request: pytest.FixtureRequest) -> None:
    """A client offering per-message deflate (browsers and Node's `ws` do) is served: under uvicorn
    with it (uvicorn's `ws_per_message_deflate`, on by default), on `run_websocket` without."""
    with connect(url, open_timeout=10, close_timeout=5, subprotocols=["mcp"], compression="deflate") as conn:
        initialize(conn)
        extensions = conn.response.headers.get("Sec-WebSocket-Extensions") or ""
        driver = request.node.callspec.params["url"]
        assert ("permessage-deflate" in extensions) == (driver != "standalone")
        text = "compressible " * 500
        answer = rpc(
            conn,
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "tools/call",
                "params": {"name": "echo", "arguments": {"text": text}},
            },
        )
        assert answer["result"]["content"][0]["text"] == text


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Origin": "http://evil.example"}, 403),
        ({"Origin": "http://localhost:1234"}, 101),
    ],
)
def test_origin_and_host_checked(url: str, headers: dict[str, str], status: int) -> None:
    if status == 101:
        with raw(url, additional_headers=headers) as conn:
            initialize(conn)
        return
    response = refused(url, additional_headers=headers).response
    assert response.status_code == status
    assert b"not allowed" in response.body


def upgrade_status(url: str, fields: list[tuple[str, str]]) -> int:
    """The status of an upgrade written by hand, `fields` (Host included) in the order given."""
    host, port = url.removeprefix("ws://").split("/")[0].split(":")
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        "GET /mcp HTTP/1.1",
        *(f"{name}: {value}" for name, value in fields),
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Protocol: mcp",
    ]
    with socket.create_connection((host, int(port)), timeout=TIMEOUT) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = b""
        while b"\r\n" not in head:
            chunk = sock.recv(4096)
            assert chunk, head
            head += chunk
    return int(head.split(b" ", 2)[1])


def test_a_host_or_origin_sent_twice_is_refused(url: str) -> None:
    """A Host not allowed is 403 (a client library adds its own Host: written by hand). Only the
    last of two Host (or Origin) lines was checked against what is allowed: an upgrade naming another
    host first, then this one, was accepted. RFC 9112 3.2: more than one Host is a 400; a user agent
    sends no more than one Origin (RFC 6454 7.3). As for a POST (test_hostile_http_fields.py)."""
    here = ("Host", url.removeprefix("ws://").split("/")[0])
    assert upgrade_status(url, [here]) == 101
    assert upgrade_status(url, [("Host", "evil.example:80")]) == 403
    for fields in (
        [("Host", "evil.example"), here],
        [here, here],
        [here, ("Origin", "http://evil.example"), ("Origin", "http://localhost:1234")],
    ):
        assert upgrade_status(url, fields) == 400, fields
    assert upgrade_status(url, [here, ("Origin", "http://localhost:1234")]) == 101


@pytest.mark.parametrize("driver", sorted(DRIVERS))
def test_bearer_token_on_upgrade(driver: str) -> None:
    with _start(*DRIVERS[driver], "--token", TOKEN) as url:
        response = refused(url).response
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert refused(url, additional_headers={"Authorization": "Bearer wrong"}).response.status_code == 401

        async def call() -> str:
            async def auth() -> str:
                return TOKEN

            async with Client.websocket(url, auth=auth, mode=MODERN) as client:
                return str((await client.call_tool("echo", {"text": "in"})).content[0].text)

        assert asyncio.run(call()) == "in"


@pytest.mark.parametrize("driver", sorted(DRIVERS))
def test_an_oauth_resource_server_guards_the_upgrade(driver: str) -> None:
    """With `HttpSecurity(auth=ProtectedResource(...))` (not `verify_token`), an upgrade was served
    with no credential at all: any client called every tool over WebSocket while the same endpoint's
    POSTs got 401. Now the upgrade is admitted by the resource server as a request is (401 and its
    challenge without a usable token), and the caller is `ctx.principal` on the connection."""
    with _start(*DRIVERS[driver], "--token", TOKEN, "--resource") as url:
        response = refused(url).response
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer resource_metadata=")
        wrong = refused(url, additional_headers={"Authorization": "Bearer wrong"}).response
        assert wrong.status_code == 401 and 'error="invalid_token"' in wrong.headers["WWW-Authenticate"]

        async def call() -> str:
            async def auth() -> str:
                return TOKEN

            async with Client.websocket(url, auth=auth, mode=LEGACY) as client:
                return str((await client.call_tool("caller")).structured_content["result"])

        assert asyncio.run(call()) == "tester"


@pytest.mark.parametrize("driver", sorted(DRIVERS))
def test_a_connection_ends_when_its_token_expires(driver: str) -> None:
    """The token was checked once, at the upgrade, and the connection served on past its `exp`. Now
    it ends then, with 1008 "the access token has expired"; a token with no `exp` keeps it open."""
    with _start(*DRIVERS[driver], "--token", TOKEN, "--resource") as url:
        lasting = raw(url, additional_headers={"Authorization": f"Bearer {TOKEN}"})
        short = raw(url, additional_headers={"Authorization": f"Bearer {TOKEN}-expiring-in-4"})
        with lasting, short:
            with pytest.raises(ConnectionClosed) as closed:
                initialize(short)
                for n in range(1000):  # (bounded: the close comes after about 4 s)
                    rpc(short, {"jsonrpc": "2.0", "id": 10 + n, "method": "ping"})
                    time.sleep(0.05)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 1008
            assert closed.value.rcvd.reason == "the access token has expired"
            initialize(lasting)
            assert rpc(lasting, {"jsonrpc": "2.0", "id": 2, "method": "ping"})["result"] == {}


def test_other_paths_refused(url: str) -> None:
    assert refused(url.replace("/mcp", "/other")).response.status_code == 404


def test_frames_of_every_length(url: str) -> None:
    """A frame says its length in 7 bits, in 16 or in 64 (from 126 bytes, from 64 KiB): messages of
    each length arrive whole (an answer, or a progress notification as large), and the connection
    goes on."""
    with raw(url) as conn:
        initialize(conn)
        for rid, size in enumerate((0, 1, 40, 60, 125, 126, 1000, 65_400, 65_535, 65_536, 70_000), 1):
            text = "x" * size
            if size < 1000:
                assert rpc(conn, _call(rid, "echo", {"text": text}))["result"]["content"][0]["text"] == text
                continue
            conn.send(json.dumps(_call(rid, "flood", {"count": 1, "size": size}, progressToken=rid)))
            note = json.loads(conn.recv(timeout=TIMEOUT))
            assert note["method"] == "notifications/progress" and note["params"]["message"] == text
            assert json.loads(conn.recv(timeout=TIMEOUT))["id"] == rid
        assert rpc(conn, {"jsonrpc": "2.0", "id": 99, "method": "ping"})["result"] == {}


# -- hostile input --------------------------------------------------------------------------------------


def test_garbage_text_answered_and_connection_goes_on(url: str) -> None:
    with raw(url) as conn:
        initialize(conn)
        for rid, text in enumerate(["not json", "{", "[]", '{"jsonrpc": "2.0"}', '{"id": 1}', "null", " "]):
            conn.send(text)
            answer = json.loads(conn.recv(timeout=TIMEOUT))
            assert answer["error"]["code"] in (-32700, -32600), (text, answer)
            assert rpc(conn, {"jsonrpc": "2.0", "id": 100 + rid, "method": "ping"})["result"] == {}


def test_a_request_id_that_is_no_string_or_integer_gets_invalid_request(url: str) -> None:
    """An id 1.5 (or 1e400, read as infinity) was taken and echoed; now -32600 with no id, and the
    connection goes on."""
    with raw(url) as conn:
        initialize(conn)
        for n, rid in enumerate(["1.5", "1.0", "1e400", "true", "{}", "[1]"]):
            conn.send('{"jsonrpc":"2.0","id":' + rid + ',"method":"ping"}')
            answer = json.loads(conn.recv(timeout=TIMEOUT))
            assert answer["error"]["code"] == -32600 and answer.get("id") is None, (rid, answer)
            assert rpc(conn, {"jsonrpc": "2.0", "id": 200 + n, "method": "ping"})["result"] == {}


def test_hostile_messages_fuzzed(url: str) -> None:
    """Hostile messages (tests/hostile.py) as text frames: each gets JSON-RPC errors or answers, never a
    closed connection, and a ping after it is answered."""
    with raw(url) as conn:
        initialize(conn)
        methods = ["ping", "tools/call", "tools/list", "initialize", "notifications/cancelled"]
        pings = iter(range(10**6, 10**7))

        @fuzz(60)
        @given(messages(methods, batches=False))
        def check(data: bytes) -> None:
            text = data.decode("utf-8", errors="replace")
            conn.send(text)
            ping = next(pings)
            conn.send(json.dumps({"jsonrpc": "2.0", "id": ping, "method": "ping"}))
            answers = []
            while True:
                got = json.loads(conn.recv(timeout=TIMEOUT))
                if isinstance(got, dict) and got.get("id") == ping and "method" not in got:
                    break
                answers.append(got)
            if text.strip() and parse_error_expected(text.encode()):
                assert any(a.get("error", {}).get("code") == -32700 for a in answers if isinstance(a, dict))

        check()


def test_binary_frame_closes_1003(url: str) -> None:
    with raw(url) as conn:
        initialize(conn)
        conn.send(b'{"jsonrpc": "2.0", "id": 1, "method": "ping"}')
        assert close_code(conn) == 1003
    with raw(url) as conn:  # the server serves on
        initialize(conn)


def test_invalid_utf8_closes_1007(url: str) -> None:
    with raw(url) as conn:
        initialize(conn)
        conn.send(b'{"jsonrpc": "2.0", "id": 1, "method": "\xff"}', text=True)
        assert close_code(conn) == 1007
    with raw(url) as conn:
        initialize(conn)


def test_oversized_message_closes_1009(url: str) -> None:
    with raw(url, max_size=None) as conn:
        initialize(conn)
        big = json.dumps(
            {"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"_meta": {"x": "y" * MAX_MESSAGE}}}
        )
        conn.send(big)
        assert close_code(conn) == 1009
    with raw(url) as conn:
        initialize(conn)
        fits = "y" * (MAX_MESSAGE // 2)
        echo = {"name": "echo", "arguments": {"text": fits}}
        answer = rpc(conn, {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": echo})
        assert answer["result"]["content"][0]["text"] == fits


def _call(rid: int, name: str, arguments: dict[str, Any], **meta: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"name": name, "arguments": arguments}
    if meta:
        params["_meta"] = meta
    return {"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": params}


def _tool_value(conn: ClientConnection, rid: int, name: str) -> Any:
    return rpc(conn, _call(rid, name, {}))["result"]["structuredContent"]["result"]


def test_slow_reader_closed_1008(url: str) -> None:
    """A client that stops reading while the server sends: the server queues at most MAX_SEND_QUEUE
    bytes for it, then closes with 1008; it serves other connections throughout."""
    with raw(url, max_queue=1) as watcher:
        initialize(watcher)
        before = _tool_value(watcher, 1, "overflows")
        with raw(url, max_queue=1) as slow:
            initialize(slow)
            # 40 MB of progress, far over what loopback sockets and the send queue hold.
            slow.send(json.dumps(_call(1, "flood", {"count": 4000, "size": 10_000}, progressToken="p")))
            for rid in range(2, 600):
                if _tool_value(watcher, rid, "overflows") > before:
                    break
                assert rpc(watcher, {"jsonrpc": "2.0", "id": f"p{rid}", "method": "ping"})["result"] == {}
            else:
                raise AssertionError("the server never gave up on the client that does not read")
            assert close_code(slow) == 1008


def test_abrupt_disconnect_cancels_its_requests(url: str) -> None:
    with raw(url) as watcher:
        initialize(watcher)
        before = _tool_value(watcher, 1, "cancelled_count")
        with raw(url) as conn:
            initialize(conn)
            conn.send(json.dumps(_call(1, "slow", {"seconds": 60, "tag": "gone"})))
            for rid in range(2, 400):
                if rpc(watcher, _call(rid, "started", {"tag": "gone"}))["result"]["structuredContent"][
                    "result"
                ]:
                    break
            conn.socket.shutdown(2)  # no close frame: the TCP connection just ends
        for rid in range(400, 800):
            if _tool_value(watcher, rid, "cancelled_count") > before:
                break
            assert rpc(watcher, {"jsonrpc": "2.0", "id": f"p{rid}", "method": "ping"})["result"] == {}
        else:
            raise AssertionError("the request of the connection that dropped was never cancelled")


def test_client_sees_server_close() -> None:
    """The client's side: a request waiting when the server goes away fails with SessionClosed."""

    async def run(url: str) -> None:
        async with Client.websocket(url, mode="legacy") as client:
            waiting = asyncio.ensure_future(client.call_tool("slow", {"seconds": 60}))
            await asyncio.sleep(0)
            assert client.transport.connection is not None  # type: ignore[attr-defined]
            await client.transport.connection.close()  # type: ignore[attr-defined]
            with pytest.raises(SessionClosed):
                await asyncio.wait_for(waiting, TIMEOUT)

    with _start("--standalone") as url:
        asyncio.run(run(url))


# -- concurrency ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["legacy", MODERN])
def test_thousand_concurrent_calls(url: str, mode: str) -> None:
    async def run() -> None:
        async with Client.websocket(url, mode=mode) as client:
            results = await asyncio.gather(*(client.call_tool("add", {"a": i, "b": 1}) for i in range(1000)))
            assert [r.structured_content["total"] for r in results] == [i + 1 for i in range(1000)]

    asyncio.run(asyncio.wait_for(run(), 120))


def test_two_hundred_connections(url: str) -> None:
    async def one(i: int, everyone: asyncio.Barrier) -> int:
        async with Client.websocket(url, mode="legacy" if i % 2 else MODERN) as client:
            await everyone.wait()  # all 200 connected at once before any call
            result = await client.call_tool("add", {"a": i, "b": 0})
            return int(result.structured_content["total"])

    async def run() -> None:
        everyone = asyncio.Barrier(200)
        assert await asyncio.gather(*(one(i, everyone) for i in range(200))) == list(range(200))

    asyncio.run(asyncio.wait_for(run(), 180))


# -- the example server ---------------------------------------------------------------------------------

EXAMPLE = str(SERVERS.parent.parent / "examples" / "everything_server.py")


@pytest.mark.parametrize("transport", ["http", "websocket"])
def test_example_server_takes_upgrades(transport: str) -> None:
    """`everything_server.py --transport http --port N` serves ws://127.0.0.1:N/mcp beside its POSTs
    (and `--transport websocket` with no ASGI server)."""
    port = free_port()
    command = [sys.executable, EXAMPLE, "--transport", transport, "--port", str(port)]
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    url = f"ws://127.0.0.1:{port}/mcp"

    async def run() -> None:
        for _ in range(300):
            if process.poll() is not None:
                raise AssertionError(f"the example exited with {process.returncode}")
            try:
                async with Client.websocket(url, mode=MODERN) as client:
                    result = await client.call_tool("test_simple_text", {})
                    assert result.content[0].text
                    return
            except OSError:
                await asyncio.sleep(0.05)
        raise AssertionError("the example did not come up")

    try:
        asyncio.run(asyncio.wait_for(run(), 60))
    finally:
        process.terminate()
        process.wait(10)


# -- below the library: a hand-made client that breaks the WebSocket protocol -----------------------------


class _Bare:
    """A WebSocket client written by hand on a socket: the upgrade, then frames as the test makes them."""

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("ws://").split("/")[0].split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=TIMEOUT)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET /mcp HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                "Sec-WebSocket-Protocol: mcp\r\n\r\n"
            ).encode()
        )
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self.buf += self._recv()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head

    def _recv(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError
        return chunk

    def frame(self) -> tuple[int, bytes]:
        """The next frame from the server: (opcode, payload)."""
        while len(self.buf) < 2:
            self.buf += self._recv()
        size, at = self.buf[1] & 0x7F, 2
        if size == 126:
            while len(self.buf) < 4:
                self.buf += self._recv()
            size, at = struct.unpack("!H", self.buf[2:4])[0], 4
        elif size == 127:
            while len(self.buf) < 10:
                self.buf += self._recv()
            size, at = struct.unpack("!Q", self.buf[2:10])[0], 10
        while len(self.buf) < at + size:
            self.buf += self._recv()
        opcode, payload = self.buf[0] & 0x0F, self.buf[at : at + size]
        self.buf = self.buf[at + size :]
        return opcode, payload

    def close_code(self) -> int | None:
        """Frames until the server's close frame: its code (None: the connection ended without one)."""
        try:
            while True:
                opcode, payload = self.frame()
                if opcode == 0x8:
                    return int(struct.unpack("!H", payload[:2])[0])
        except (EOFError, ConnectionResetError):
            return None

    def close(self) -> None:
        self.sock.close()


def test_unmasked_frame_closes_1002(url: str) -> None:
    """A client's frames must be masked (RFC 6455 5.1): an unmasked one is a protocol error."""
    bare = _Bare(url)
    try:
        body = b'{"jsonrpc":"2.0","id":1,"method":"ping"}'
        bare.sock.sendall(bytes([0x81, len(body)]) + body)  # FIN + text, no mask bit
        assert bare.close_code() == 1002
    finally:
        bare.close()


@pytest.mark.parametrize("driver", sorted(DRIVERS))
def test_keepalive_drops_a_silent_client(driver: str) -> None:
    """The server pings; a client that never answers is dropped once the pong is overdue."""
    with _start(*DRIVERS[driver], "--ping", "0.5") as url:
        bare = _Bare(url)
        try:
            opcode, _ = bare.frame()
            assert opcode == 0x9  # a ping, which this client leaves unanswered
            started = time.monotonic()
            assert bare.close_code() in (1011, None)  # "keepalive ping timeout", or just dropped
            assert time.monotonic() - started < TIMEOUT
        finally:
            bare.close()
        with raw(url) as conn:  # an answering client stays (several ping intervals)
            initialize(conn)
            for rid in range(1, 4):
                time.sleep(0.6)
                assert rpc(conn, {"jsonrpc": "2.0", "id": rid, "method": "ping"})["result"] == {}


@pytest.mark.parametrize("driver", ["asgi", "uvicorn", "run_http"])
def test_uvicorn_shutdown_closes_open_connections(driver: str) -> None:
    """uvicorn stopping (SIGTERM) closes each open connection with a close code that says so (its own
    layer's 1012, mcpbind's 1001 as `run_websocket`'s), and the process ends within its graceful
    shutdown. `run_http` (the example server) serves upgrades on mcpbind's own connection."""
    port = free_port()
    command = [sys.executable, SCRIPT, *DRIVERS.get(driver, ()), "--http", str(port)]
    if driver == "run_http":
        command = [sys.executable, EXAMPLE, "--transport", "http", "--port", str(port)]
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                conn = raw(f"ws://127.0.0.1:{port}/mcp")
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, "the server did not start"
                time.sleep(0.05)
        with conn:
            initialize(conn)
            process.terminate()
            assert close_code(conn) == (1012 if driver == "asgi" else 1001)
        assert process.wait(TIMEOUT) in (0, -15)  # (uvicorn re-raises the SIGTERM it handled)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)
