"""Hostile calls against the short ways, which answer the usual call of a plain tool ahead of the
general route: a session's (`stateful.early`, `stateful.at_once`), a stateless one
(`StatelessRoute.at_once`) over HTTP, and stdio's (`Server.lanes`, the plain lane). Each hostile
body (deep nesting, huge numbers, repeated keys, NaN, lone surrogates, ids of every JSON type,
`_meta` and `progressToken` of wrong types, params as an array, odd header bytes) must get the answer
the general route gives, and the server must go on serving. As in test_http_at_once, the same bodies
go to three apps (the plain one, one checking its caller, one with a middleware: the general route)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import httpx
from websockets.sync.client import connect

from ..http_support import BOTH, MODERN, SERVERS, initialize, modern, modern_headers, serve
from .test_http_at_once import LEGACY, TOKEN, _answers, _serving

_IDS = [b"true", b"false", b"1.5", b"1.0", b"-0", b"{}", b"[]", b"null", b"1" + b"0" * 30, b"1e400", b'""']
"""Ids of every JSON type (and numbers past 64 bits and past a float)."""


def _hostile(meta: bytes | None) -> list[bytes]:
    """Hostile `tools/call` bodies of the `echo` / `add` tools; `meta`: the stateless `_meta` every
    request carries (None on a session), put last in `params`."""
    extra = b"" if meta is None else b',"_meta":' + meta
    head = b'{"jsonrpc":"2.0","id":%s,"method":"tools/call","params":{'
    deep = b"[" * 5000 + b"]" * 5000

    def body(params: bytes, rid: bytes = b"1", tail: bytes = b"") -> bytes:
        return (head % rid) + params + extra + b"}" + tail + b"}"

    echo = b'"name":"echo","arguments":{"text":"x"}'
    made = [body(echo, rid) for rid in _IDS]
    made += [
        body(echo, deep),  # an id nested past any stack
        body(b'"name":"echo","arguments":{"text":' + deep + b"}"),
        body(b'"name":"echo","arguments":{"text":"x","pad":' + deep + b"}"),  # never read by the tool
        body(b'"name":"add","arguments":{"a":1e400,"b":1}'),
        body(b'"name":"add","arguments":{"a":1' + b"0" * 400 + b',"b":1}'),  # an integer of 401 digits
        body(b'"name":"add","arguments":{"a":-0,"b":1}'),
        body(b'"name":"add","arguments":{"a":NaN,"b":1}'),  # no JSON
        body(b'"name":"add","arguments":{"a":Infinity,"b":1}'),
        body(b'"name":"echo","arguments":{"text":"\\ud800"}'),  # a lone surrogate, escaped
        body(b'"name":"echo","arguments":{"text":"\\udc00\\ud800"}'),
        body(b'"name":"echo","arguments":{"text":"\xed\xa0\x80"}'),  # one encoded (no UTF-8)
        body(b'"name":"ech\\ud800o","arguments":{"text":"x"}'),
        body(b'"name":"echo","name":"add","arguments":{"a":1,"b":2}'),  # repeated keys
        body(b'"name":"echo","arguments":{"text":"x"},"arguments":{"text":"y"}'),
        body(echo, b"1", b',"id":2'),
        body(echo, b"1", b',"method":"tools/list"'),
        body(echo, b"1", b',"jsonrpc":"1.0"'),
        body(echo + b',"_meta":5'),  # `_meta` of wrong types (a stateless one repeated: the last wins)
        body(echo + b',"_meta":[]'),
        body(echo + b',"_meta":null'),
        body(echo + b',"_meta":"x"'),
        body(echo + b',"_meta":{"progressToken":{}}'),  # a progressToken of wrong types
        body(echo + b',"_meta":{"progressToken":[1]}'),
        body(echo + b',"_meta":{"progressToken":true}'),
        body(echo + b',"_meta":{"progressToken":1.5}'),
        body(echo + b',"_meta":{"progressToken":null}'),
        body(echo + b',"_meta":{"progressToken":' + deep + b"}"),
        (head % b"1")[:-1] + b'["echo",{"text":"x"}]}',  # params as an array
        (head % b"1")[:-1] + b'"echo"}',
        (head % b"1")[:-1] + b"null}",
        body(echo) + b" x",  # trailing bytes, another message after it, a byte-order mark before it
        body(echo) + body(echo, b"2"),
        b"\xef\xbb\xbf" + body(echo),
        body(b'"name":"echo","arguments":{"text":"a\x01b"}'),  # a raw control character
        body(b'"name":"echo","arguments":{"text":"a\\u0000b"}'),  # an escaped NUL: text
        body(b'"name":"echo","arguments":{"text":"\xf4\x90\x80\x80"}'),  # past U+10FFFF
        body(b'"name":"","arguments":{}'),
        body(b'"name":"echo","arguments":{"text":"x"},"task":{"ttl":-1}'),
    ]
    if meta is not None:  # (the stateless `_meta` with members repeated, and of wrong types)
        version = b'"io.modelcontextprotocol/protocolVersion":'
        for repeated in (version + b'"2025-11-25"', version + b'"2099-01-01"', version + b"5"):
            made.append((head % b"1") + echo + b',"_meta":' + meta[:-1] + b"," + repeated + b"}}}")
            made.append((head % b"1") + echo + b',"_meta":{' + repeated + b"," + meta[1:] + b"}}")
        capabilities = b'"io.modelcontextprotocol/clientCapabilities":'
        token = b'"progressToken":'
        for repeated in (
            capabilities + b"5",
            capabilities + b'{"sampling":{}}',
            *(token + value for value in (b"{}", b"true", b"1.5", b"null", b"1" + b"0" * 40)),
        ):
            made.append((head % b"1") + echo + b',"_meta":' + meta[:-1] + b"," + repeated + b"}}}")
        made += [
            body(echo + b',"_meta":{"io.modelcontextprotocol/protocolVersion":5}'),
            body(echo + b',"_meta":{"io.modelcontextprotocol/clientCapabilities":[]}'),
            body(echo + b',"_meta":{"io.modelcontextprotocol/clientInfo":"x"}'),
            body(echo + b',"_meta":{"io.modelcontextprotocol/logLevel":7}'),
        ]
    return made


def _alike(seen: list[list[tuple[int, Any]]], sent: list[tuple[bytes, Any]]) -> None:
    """The answers of the three apps are the same, each of them."""
    short, found, general = seen
    for index, (a, b, c) in enumerate(zip(short, found, general, strict=True)):
        assert a == b == c, (index, sent[index][0][:300], a, b, c)


def _sent_twice(bodies: list[bytes], headers: Any) -> list[tuple[bytes, Any]]:
    """Each body twice: a tool's calls are read into its Struct in one pass from its second."""
    return [(body, headers) for body in bodies for _ in range(2)]


def _fine(http: httpx.Client, url: str, headers: Any, body: bytes) -> None:
    answer = http.post(url, content=body, headers=headers)
    assert answer.status_code == 200 and b'"hello"' in answer.content, answer.text


def test_hostile_session_calls_are_answered_as_the_general_route_answers_them() -> None:
    with _serving() as urls, httpx.Client(timeout=60) as http:
        seen = []
        for url in urls:
            opened = http.post(url, json=initialize(LEGACY), headers={"accept": BOTH, **TOKEN})
            sid = opened.headers["mcp-session-id"]
            ok = {"accept": BOTH, "content-type": "application/json", **TOKEN}
            ok.update({"mcp-session-id": sid, "mcp-protocol-version": LEGACY})
            notified = {"jsonrpc": "2.0", "method": "notifications/initialized"}
            assert http.post(url, json=notified, headers=ok).status_code == 202
            sent = _sent_twice(_hostile(None), ok)
            # Odd header bytes: a session id and a version that are no text.
            hello = json.dumps({**_echo(9), "params": {"name": "echo", "arguments": {"text": "hello"}}})
            for name, value in (("mcp-session-id", b"\xed\xa0\x80"), ("mcp-protocol-version", b"\xff")):
                sent.append((hello.encode(), [*((k, v) for k, v in ok.items() if k != name), (name, value)]))
            answers = _answers(http, url, sent)
            _fine(http, url, ok, hello.encode())  # (the session lives on)
            seen.append([(status, body.replace(sid.encode(), b"SID")) for status, body in answers])
        _alike(seen, sent)


def _echo(rid: int) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": rid, "method": "tools/call"}


def test_hostile_stateless_calls_are_answered_as_the_general_route_answers_them() -> None:
    hello = modern(9, "tools/call", {"name": "echo", "arguments": {"text": "hello"}})
    meta = json.dumps(hello["params"]["_meta"]).encode()
    headers = {**modern_headers(hello), "content-type": "application/json", **TOKEN}
    with _serving() as urls, httpx.Client(timeout=60) as http:
        seen = []
        for url in urls:
            sent = _sent_twice(_hostile(meta), headers)
            body = json.dumps(hello).encode()
            for name, value in (
                ("mcp-name", b"ech\xed\xa0\x80o"),  # a lone surrogate, encoded (no UTF-8)
                ("mcp-name", b"=?base64?ZWNo7aCAbw==?="),  # the same, in base64
                ("mcp-name", b"\xff"),
                ("mcp-method", b"tools/call\xff"),
                ("mcp-protocol-version", b"\xed\xa0\x80"),
            ):
                odd = [*((k, v) for k, v in headers.items() if k != name), (name, value)]
                sent += [(body, odd)] * 2
            answers = _answers(http, url, sent)
            _fine(http, url, headers, body)
            seen.append(answers)
        _alike(seen, sent)


_STDIO_SERVER = """
import sys
from mcpbind.server import Server

server = Server("short-ways")

@server.tool()
def echo(text: str) -> str:
    return text

@server.tool()
def add(a: int, b: int) -> int:
    return a + b

if sys.argv.pop(1) == "general":
    async def passing(call, next):
        return await next(call)
    server.add_middleware(passing)
server.run()
"""


def _after(n: int, init: bytes | None) -> bytes:
    """What follows line `n` so that its answers are known to be all there: a ping, or on 2026-07-28
    (which has none) a tools/list naming its version."""
    if init is None:
        return json.dumps(modern(f"p{n}", "tools/list")).encode()
    return b'{"jsonrpc":"2.0","id":"p%d","method":"ping"}' % n


def _stdio_answers(
    kind: str, lines: list[bytes], init: bytes | None, command: list[str] | None = None
) -> list[Any]:
    """Each line's answers from a stdio server (`kind`: its plain lane, or the general route behind a
    middleware; or `command`), read line by line, a ping after each (so that every line's answers
    are known)."""
    process = subprocess.Popen(
        command or [sys.executable, "-c", _STDIO_SERVER, kind],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None and process.stderr is not None
    seen: list[Any] = []
    try:
        if init is not None:
            process.stdin.write(init + b"\n" + b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
            process.stdin.flush()
            process.stdout.readline()
        for n, line in enumerate(lines):
            process.stdin.write(line + b"\n" + _after(n, init) + b"\n")
            process.stdin.flush()
            got = []
            while True:
                out = process.stdout.readline()
                assert out, process.stderr.read().decode()
                message = json.loads(out)
                if isinstance(message, dict) and message.get("id") == f"p{n}":
                    break
                got.append(message)
            seen.append(got)
    finally:
        process.stdin.close()
        process.wait(30)
    stderr = process.stderr.read().decode()
    assert process.returncode == 0 and "Traceback" not in stderr, stderr
    return seen


def test_hostile_stdio_calls_are_answered_as_the_general_route_answers_them() -> None:
    hello = modern(9, "tools/call", {"name": "echo", "arguments": {"text": "hello"}})
    stateless = [line for line in _hostile(json.dumps(hello["params"]["_meta"]).encode()) for _ in range(2)]
    session = [line for line in _hostile(None) for _ in range(2)]
    init = json.dumps(initialize(LEGACY)).encode()
    for lines, start in ((stateless, None), (session, init)):
        lane, general = (_stdio_answers(kind, lines, start) for kind in ("lane", "general"))
        for index, (a, b) in enumerate(zip(lane, general, strict=True)):
            assert a == b, (index, lines[index][:200], a, b)
    assert MODERN  # (the stateless lines name the newest revision)


def _ws_answers(url: str, lines: list[bytes], init: bytes | None) -> list[Any]:
    """As `_stdio_answers`, over a WebSocket (each line a text frame)."""
    seen: list[Any] = []
    with connect(url, open_timeout=10, close_timeout=5, compression=None, subprotocols=["mcp"]) as conn:
        if init is not None:
            conn.send(init.decode())
            conn.recv(timeout=30)
            conn.send('{"jsonrpc":"2.0","method":"notifications/initialized"}')
        for n, line in enumerate(lines):
            conn.send(line.decode())
            conn.send(_after(n, init).decode())
            got = []
            while True:
                message = json.loads(conn.recv(timeout=30))
                if isinstance(message, dict) and message.get("id") == f"p{n}":
                    break
                got.append(message)
            seen.append(got)
    return seen


def test_hostile_websocket_messages_are_answered_as_over_stdio() -> None:
    """The same server (full.py) over a WebSocket (mcpbind's own connection under uvicorn) and over
    stdio: every hostile message that is text (a frame that is no UTF-8 is the WebSocket's to refuse)
    gets the same answers, and the connection goes on."""
    hello = modern(9, "tools/call", {"name": "echo", "arguments": {"text": "hello"}})
    meta = json.dumps(hello["params"]["_meta"]).encode()
    init = json.dumps(initialize(LEGACY)).encode()
    command = [sys.executable, str(SERVERS / "full.py")]
    with serve(str(SERVERS / "websocket.py")) as http_url:
        url = "ws" + http_url.removeprefix("http")
        for start, hostile in ((None, _hostile(meta)), (init, _hostile(None))):
            lines = [line for line in hostile if _is_text(line) for _ in range(2)]
            over_ws = _ws_answers(url, lines, start)
            over_stdio = _stdio_answers("", lines, start, command)
            assert sum(1 for got in over_ws if got) > len(lines) // 2, over_ws  # (each answered)
            for index, (a, b) in enumerate(zip(over_ws, over_stdio, strict=True)):
                assert a == b, (index, lines[index][:200], a, b)


def _is_text(line: bytes) -> bool:
    try:
        line.decode()
    except UnicodeDecodeError:
        return False
    return True
