"""The usual calls answered with no coroutine but the ASGI entry's (`stateful.at_once`,
`StatelessRoute.at_once`) must be answered as the general route answers them.

The same messages, valid and not, with the same headers and hostile variations of them, go to three apps
of the same tools: the plain one (the short way, taken from `HttpApp.__call__`), one whose caller is
checked (`verify_token`: a session's call is tried by `post`, once its session is found), and one with a
middleware that passes every call on (no call is answered in one step: the general route, a connection
and its peer). Every answer (status and body) must be the same on all three.
"""

from __future__ import annotations

import asyncio
import base64
import decimal
import inspect
import json
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from typing import Any

import httpx

from mcpbind.server import Context, Server
from mcpbind.server.middleware import Call, Next
from mcpbind.transports.http import HttpApp, HttpSecurity, stateful

from ..http_support import (
    BOTH,
    MODERN,
    call,
    initialize,
    modern,
    modern_headers,
    region_schema,
    request,
    serve_in_process,
)

LEGACY = "2025-11-25"
TOKEN = {"authorization": "Bearer t"}


def _server() -> Server:
    server = Server("at-once", "1.0.0")

    @server.tool()
    def echo(text: str) -> str:
        """Say `text` back."""
        return text

    @server.tool()
    async def add(a: int, b: int) -> int:
        """Add."""
        return a + b

    @server.tool()
    def broken(text: str) -> str:
        """Fail."""
        raise ValueError(f"broken: {text}")

    @server.tool()
    def keyed(table: dict[int, str]) -> str:
        """Keys that JSON writes as text: read as ints by a decode, refused by a conversion."""
        return ",".join(f"{k}={v}" for k, v in sorted(table.items()))

    @server.tool()
    async def money(amount: decimal.Decimal) -> str:
        """A Decimal: `1e400` decodes as one, and converts (read as a float first) as none."""
        return str(amount)

    @server.tool()
    async def shout(text: str) -> Any:
        """A coroutine function that cannot wait (run to its end in its first step): says `text` back,
        or fails, or returns text no encoder writes (a lone surrogate), or a number, as `text` says."""
        if text == "fail":
            raise ValueError("shout: fail")
        if text == "lone":
            return "\ud800"
        if text == "number":
            return 7
        return text

    @server.tool()
    async def noted(text: str, ctx: Context) -> str:
        """Report progress, then say `text` back: not one step (it takes a Context)."""
        await ctx.progress(1, 1)
        return text

    @server.tool()
    async def seen(count: int, ctx: Context, table: dict[int, str] | None = None) -> str:
        """What a tool that takes a Context sees of its call: its arguments read, and the request's
        `_meta` whole (keys no schema declares too)."""
        await ctx.progress(1, 1)
        return json.dumps([count, sorted((table or {}).items()), sorted(ctx.meta.items())])

    @server.tool()
    async def later(text: str) -> str:
        """Wait once, then say `text` back (carried on by a task)."""
        await asyncio.sleep(0)
        return text

    @server.tool(input_schema=region_schema())
    def locate(region: str) -> str:
        """`region` mirrored in an `Mcp-Param-Region` header on the stateless wire."""
        return f"at {region}"

    @server.tool()
    async def hold(name: str) -> str:
        """Wait until released (at most 30 s)."""
        HELD.append(name)
        for _ in range(3000):
            if name in RELEASED:
                break
            await asyncio.sleep(0.01)
        return f"held {name}"

    return server


HELD: list[str] = []
"""The names `hold` was called with, as each call starts."""
RELEASED: set[str] = set()
"""The names whose `hold` may end."""


def _apps() -> list[HttpApp]:
    async def verify(token: str) -> Any:
        return "alice" if token == "t" else None

    async def passing(call: Call, next: Next) -> Any:
        return await next(call)

    general = _server()
    general.add_middleware(passing)
    return [
        _server().http_app(),
        HttpApp(_server(), security=HttpSecurity(verify_token=verify)),
        general.http_app(),
    ]


@contextmanager
def _serving() -> Iterator[list[str]]:
    with ExitStack() as stack:
        yield [stack.enter_context(serve_in_process(app)) for app in _apps()]


_CALLS: list[dict[str, Any] | list[Any]] = [
    call(1, "echo", {"text": "hello"}),
    call("s", "add", {"a": 1, "b": 2}),
    call(3, "add", {"a": "1", "b": 2}),  # wrong type
    call(4, "add", {"a": 1}),  # missing argument
    call(5, "nope", {}),  # unknown tool
    call(6, "broken", {"text": "x"}),
    call(7, "echo", {"text": "é\u2028\x00"}),
    request(8, "tools/call", {"name": "echo", "arguments": ["x"]}),  # arguments no object
    request(9, "tools/call", {"name": 5}),
    request(10, "tools/call"),  # no params
    request(11, "tools/list"),
    request(12, "ping"),
    {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 99}},
    [call(13, "echo", {"text": "a"})],  # a batch
    call(14, "add", {"a": 1.0, "b": 2}),  # an integer written as 1.0 (JSON Schema's integer)
    call(15, "echo", {"text": "x", "extra": 1}),  # an argument the tool does not take
    call(16, "add", {"a": None, "b": 2}),
    # Twice each: a stateless call of a tool is read straight into its Struct from its second call.
    call(17, "keyed", {"table": {"1": "a"}}),
    call(18, "keyed", {"table": {"1": "a"}}),
    call(19, "keyed", {"table": {}}),
    call(21, "money", {"amount": "1.5"}),
    call(22, "money", {"amount": "1.5"}),
    request(23, "tools/call", {"name": "echo", "arguments": None}),
    call(24, "echo", {"text": "é" * (1024 * 1024)}),  # 1 MB of text
    call(25, "echo", {"text": "x", "pad": "p" * (1024 * 1024)}),  # 1 MB never read
    call(26, "echo", {"text": [[["nested"]]]}),  # wrong type, nested
    # A coroutine function that cannot wait: its text, its failure, text it cannot encode, another value,
    # text past the length joined to the parts around it (`plain.LARGE_TEXT`), arguments it refuses.
    call(27, "shout", {"text": "hello"}),
    call(28, "shout", {"text": "fail"}),
    call(29, "shout", {"text": "lone"}),
    call(34, "shout", {"text": "number"}),
    call(35, "shout", {"text": "ü" * (70 * 1024)}),
    call(36, "shout", {"text": 5}),
    call(37, "shout", {}),
]


def _raw_calls(meta: Any) -> list[bytes]:
    """Calls no `json.dumps` writes, each twice (one-pass reads start at a tool's second call)."""
    made = [
        b'"name":"money","arguments":{"amount":1e400}',  # a Decimal as decoded, inf as converted
        b'"name":"echo","arguments":{"text":"first","text":"last"}',  # a repeated key
        b'"name":"echo","arguments":{"text":' + b"[" * 3000 + b"]" * 3000 + b"}",  # deeper than read
    ]
    extra = b"" if meta is None else b',"_meta":' + json.dumps(meta).encode()
    head = b'{"jsonrpc":"2.0","id":40,"method":"tools/call","params":{'
    return [head + params + extra + b"}}" for params in made for _ in range(2)]


def _answers(http: httpx.Client, url: str, sent: list[tuple[bytes, Any]]) -> list[tuple[int, Any]]:
    answers = []
    for body, headers in sent:
        answer = http.post(url, content=body, headers=headers)
        # (an SSE answer's event ids name its stream, numbered by each process: compared without it)
        answers.append((answer.status_code, re.sub(rb"(?m)^id: [^\r\n]*-", b"id: -", answer.content)))
    return answers


def _alike(seen: list[list[tuple[int, Any]]]) -> None:
    """The answers of the three apps (`_apps`) are the same, each of them."""
    short, found, general = seen
    assert any(s == 200 and b'"hello"' in b for s, b in short)  # (some call was answered)
    for index, (a, b, c) in enumerate(zip(short, found, general, strict=True)):
        assert a == b == c, (index, a, b, c)


def _opened(http: httpx.Client, url: str, extra: dict[str, str]) -> dict[str, str]:
    """The headers of a call of a session opened here (`extra`: sent with each, initialize too)."""
    opened = http.post(url, json=initialize(LEGACY), headers={"accept": BOTH, **extra})
    assert opened.status_code == 200, opened.text
    return {
        "accept": BOTH,
        "content-type": "application/json",
        "mcp-session-id": opened.headers["mcp-session-id"],
        "mcp-protocol-version": LEGACY,
        **extra,
    }


def test_a_sessions_calls_are_answered_alike_on_the_short_way_and_the_general_route() -> None:
    with _serving() as urls, httpx.Client(timeout=30) as http:
        seen = []
        for url in urls:
            opened = http.post(url, json=initialize(LEGACY), headers={"accept": BOTH, **TOKEN})
            assert opened.status_code == 200, opened.text
            sid = opened.headers["mcp-session-id"]
            base = {"accept": BOTH, "content-type": "application/json", **TOKEN}
            ok = {**base, "mcp-session-id": sid, "mcp-protocol-version": LEGACY}
            notified = {"jsonrpc": "2.0", "method": "notifications/initialized"}
            assert http.post(url, json=notified, headers=ok).status_code == 202
            variations = [
                ok,
                {**ok, "mcp-protocol-version": "2025-06-18"},  # another revision than the session's
                {**ok, "mcp-protocol-version": "1999-01-01"},
                {**ok, "mcp-session-id": "no-such-session"},
                {**base, "mcp-protocol-version": LEGACY},  # no session id
                {**ok, "accept": "application/json"},
                {**ok, "content-type": "text/plain"},
            ]
            sent: list[tuple[bytes, Any]] = [(json.dumps(m).encode(), h) for h in variations for m in _CALLS]
            sent.append((b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"', ok))
            sent.extend((body, ok) for body in _raw_calls(None))
            # Headers sent twice (the same value, or another), and a tool that waits (carried on).
            for name, value in (("mcp-session-id", sid), ("mcp-protocol-version", LEGACY)):
                for second in (value, "other"):
                    doubled = [*ok.items(), (name, second)]
                    sent.append((json.dumps(call(30, "echo", {"text": "hello"})).encode(), doubled))
            sent.append((json.dumps(call(31, "later", {"text": "late"})).encode(), ok))
            sent.append(
                (
                    json.dumps(call(32, "echo", {"text": "hello"})).encode(),
                    {**ok, "mcp-session-id": sid.upper()},
                )
            )
            answers = _answers(http, url, sent)
            # The session ended: its calls are not found.
            assert http.delete(url, headers=ok).status_code in (200, 204)
            answers += _answers(http, url, [(json.dumps(call(33, "echo", {"text": "x"})).encode(), ok)])
            seen.append([(status, body.replace(sid.encode(), b"SID")) for status, body in answers])
        _alike(seen)
        short = seen[0]
        assert short[-3][0] == 200 and b'"late"' in short[-3][1]  # (the waiting tool, carried on)
        assert short[-2][0] == short[-1][0] == 404  # (an id not known, a session ended)


def test_stateless_calls_are_answered_alike_on_the_short_way_and_the_general_route() -> None:
    with _serving() as urls, httpx.Client(timeout=30) as http:
        seen = []
        for url in urls:
            sent = []
            for message in _CALLS:
                if isinstance(message, list):
                    sent.append((json.dumps(message).encode(), {**modern_headers(message[0]), **TOKEN}))
                    continue
                params = message.get("params")
                made = modern(
                    message.get("id", 0), message["method"], params if isinstance(params, dict) else {}
                )
                if "id" not in message:
                    del made["id"]
                ok = {**modern_headers(made), "content-type": "application/json", **TOKEN}
                body = json.dumps(made).encode()
                for headers in (
                    ok,
                    {**ok, "mcp-name": "other"},
                    {**ok, "mcp-method": "tools/list"},
                    {**ok, "mcp-protocol-version": LEGACY},
                    {**ok, "mcp-protocol-version": "1999-01-01"},
                    {k: v for k, v in ok.items() if k != "mcp-method"},
                    {**ok, "accept": "text/event-stream"},
                ):
                    sent.append((body, headers))
            for message in (call(30, "money", {"amount": 0}), call(31, "echo", {"text": "x"})):
                for body in _raw_calls(modern(30, "tools/call", message["params"])["params"]["_meta"]):
                    sent.append((body, {**modern_headers(message), **TOKEN}))
            without_meta = json.dumps(call(20, "echo", {"text": "x"})).encode()
            sent.append((without_meta, {**modern_headers(call(20, "echo")), **TOKEN}))
            seen.append(_answers(http, url, sent))
        _alike(seen)


def test_stateless_calls_the_short_way_leaves_or_carries_on_are_answered_alike() -> None:
    """Calls the one-step answer ahead of the classifier leaves to it once decoded (a `_meta` or a
    body that says other than the headers, request state or input responses to check), or never
    takes (a tool that mirrors an argument in a header, a name sent encoded), and a tool that waits:
    each sent twice (a tool's second call is read into its Struct), answered as the general route
    answers them."""
    with _serving() as urls, httpx.Client(timeout=30) as http:
        seen = []
        for url in urls:
            sent = []

            def named(message: dict[str, Any], name: str | None = None) -> dict[str, str]:
                """The call's headers, its `Mcp-Name` the body's tool unless `name` is given."""
                headers = {**modern_headers(message), "content-type": "application/json", **TOKEN}
                return headers if name is None else {**headers, "mcp-name": name}

            echo = modern(1, "tools/call", {"name": "echo", "arguments": {"text": "hello"}})
            older = modern(2, "tools/call", {"name": "echo", "arguments": {"text": "x"}}, version=LEGACY)
            stated = modern(
                3, "tools/call", {"name": "echo", "arguments": {"text": "x"}, "requestState": "s"}
            )
            responses = {"q": {"roots": []}}
            answered = modern(
                4, "tools/call", {"name": "echo", "arguments": {"text": "x"}, "inputResponses": responses}
            )
            add = modern(5, "tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}})
            later = modern(6, "tools/call", {"name": "later", "arguments": {"text": "late"}})
            for message, headers in (
                (echo, named(echo)),
                (echo, named(echo, "=?base64?ZWNobw==?=")),  # "echo", encoded
                (echo, named(echo, "=?base64?bm9wZQ==?=")),  # "nope", encoded
                (older, named(older)),  # `_meta` names another version than the header
                (stated, named(stated)),
                (answered, named(answered)),
                (add, named(add, "echo")),  # the body names another tool than the header
                (later, named(later)),
            ):
                sent += [(json.dumps(message).encode(), headers)] * 2
            for region, header in (("north", "north"), ("north", None), ("north", "south"), ("é", "é")):
                message = modern(7, "tools/call", {"name": "locate", "arguments": {"region": region}})
                headers = {**modern_headers(message), "content-type": "application/json", **TOKEN}
                if header is not None:
                    headers["mcp-param-region"] = header if header.isascii() else "=?base64?w6k=?="
                sent += [(json.dumps(message).encode(), headers)] * 2
            seen.append(_answers(http, url, sent))
        _alike(seen)
        short = seen[0]
        assert short[14][0] == short[15][0] == 200 and b'"late"' in short[14][1]  # (the waiting tool)
        assert short[16][0] == short[17][0] == 200 and b"at north" in short[16][1]  # (its header mirrored)
        assert short[20][0] == 400 and b"Header mismatch" in short[20][1]


def test_the_general_route_is_the_one_compared() -> None:
    """The apps differ where they should: the middleware sees every call, the token is checked."""
    seen: list[str] = []

    async def noting(call: Call, next: Next) -> Any:
        seen.append(call.method)
        return await next(call)

    server = _server()
    server.add_middleware(noting)
    message = modern(1, "tools/call", {"name": "echo", "arguments": {"text": "hi"}})
    with serve_in_process(server.http_app()) as url, httpx.Client(timeout=30) as http:
        answer = http.post(url, json=message, headers=modern_headers(message))
        assert answer.status_code == 200 and "hi" in answer.text
    assert seen == ["tools/call"]
    with _serving() as urls, httpx.Client(timeout=30) as http:
        refused = http.post(urls[1], json=message, headers=modern_headers(message))
        assert refused.status_code == 401


def test_a_plain_tools_arguments_are_read_into_its_struct_from_its_second_call() -> None:
    """Once a tool's first stateless call has found that it mirrors no argument in a header, the
    one-pass decode reads its calls' arguments straight into the tool's own Struct: the answers are
    the same before and after, valid or not."""
    server = _server()
    with serve_in_process(server.http_app()) as url, httpx.Client(timeout=30) as http:
        seen = []
        for arguments in ({"a": 1, "b": 2}, {"a": 1, "b": 2}, {"a": "1", "b": 2}, {"a": 1.0, "b": 2}):
            message = modern(1, "tools/call", {"name": "add", "arguments": arguments})
            answer = http.post(url, json=message, headers=modern_headers(message))
            seen.append((answer.status_code, answer.json()))
    tool = server.tool_entry("add")
    assert tool is not None and tool.call_decoders  # made by the second call
    assert seen[0] == seen[1] == seen[3]
    assert seen[0][0] == 200 and seen[0][1]["result"]["content"][0]["text"] == "3"
    assert seen[2][0] == 200 and seen[2][1]["result"]["isError"] is True


def test_a_call_of_another_plain_tool_than_its_mcp_name_is_refused() -> None:
    """`Mcp-Name` naming one plain tool and the body another: a header mismatch, before and after the
    named tool's first call (which finds that it mirrors no argument)."""
    with serve_in_process(_server().http_app()) as url, httpx.Client(timeout=30) as http:
        statuses = []
        for name in ("add", "echo", "add"):
            message = modern(1, "tools/call", {"name": name, "arguments": {"a": 1, "b": 2, "text": "t"}})
            headers = {**modern_headers(message), "mcp-name": "echo"}
            answer = http.post(url, json=message, headers=headers)
            statuses.append((answer.status_code, "Header mismatch" in answer.text))
    assert statuses == [(400, True), (200, False), (400, True)]


def test_a_sessions_call_is_admitted_alike_on_the_short_way_and_the_general_route() -> None:
    """While a call of a session waits, another reusing its id is refused, whether its peer's admission
    is asked on the short way (`at_once`) or on the general route; answered, its id is free again."""
    with _serving() as urls, httpx.Client(timeout=30) as http, ThreadPoolExecutor(1) as pool:
        seen = []
        for index, url in enumerate(urls):
            opened = http.post(url, json=initialize(LEGACY), headers={"accept": BOTH, **TOKEN})
            assert opened.status_code == 200, opened.text
            ok = {
                "accept": BOTH,
                "content-type": "application/json",
                "mcp-session-id": opened.headers["mcp-session-id"],
                "mcp-protocol-version": LEGACY,
                **TOKEN,
            }
            notified = {"jsonrpc": "2.0", "method": "notifications/initialized"}
            assert http.post(url, json=notified, headers=ok).status_code == 202
            name = f"app{index}"
            held = pool.submit(http.post, url, json=call(7, "hold", {"name": name}), headers=ok)
            for _ in range(3000):  # until it runs (at most 30 s)
                if name in HELD:
                    break
                time.sleep(0.01)
            answers = _answers(http, url, [(json.dumps(call(7, "echo", {"text": "again"})).encode(), ok)])
            RELEASED.add(name)
            first = held.result(timeout=30)
            answers.append((first.status_code, first.content))
            answers += _answers(http, url, [(json.dumps(call(7, "echo", {"text": "hello"})).encode(), ok)])
            seen.append([(status, body.replace(name.encode(), b"APP")) for status, body in answers])
        _alike(seen)
        assert seen[0][0][0] == 400 and b"already in use" in seen[0][0][1]
        assert seen[0][1] == (200, seen[0][1][1]) and b"held APP" in seen[0][1][1]


def test_a_tool_named_as_an_encoded_header_value_is_called_by_its_name_encoded() -> None:
    """A tool whose name is itself of the form `=?base64?...?=`: an `Mcp-Name` sent as that text is
    decoded (to "echo" here), and does not match the body. The short way looked the header's text up as
    it came, found the tool (from its second call, once its headers were checked) and answered it,
    where the general route refuses the mismatch; the name sent encoded is answered on both."""
    tricky = "=?base64?ZWNobw==?="  # ("echo", encoded)
    apps = _apps()
    for app in apps:

        @app.server.tool(name=tricky)
        def named(text: str) -> str:
            return f"tricky {text}"

    message = modern(1, "tools/call", {"name": tricky, "arguments": {"text": "x"}})
    literal = {**modern_headers(message), "content-type": "application/json", **TOKEN}
    encoded = {**literal, "mcp-name": "=?base64?" + base64.b64encode(tricky.encode()).decode() + "?="}
    sent = [(json.dumps(message).encode(), headers) for headers in (literal, encoded, literal, literal)]
    with ExitStack() as stack, httpx.Client(timeout=30) as http:
        urls = [stack.enter_context(serve_in_process(app)) for app in apps]
        seen = [_answers(http, url, sent) for url in urls]
    short = seen[0]
    for index, (a, b, c) in enumerate(zip(*seen, strict=True)):
        assert a == b == c, (index, a, b, c)
    assert short[1][0] == 200 and b"tricky x" in short[1][1]
    assert [status for status, _ in short] == [400, 200, 400, 400]
    assert b"Header mismatch" in short[3][1]


def test_versions_a_client_makes_up_are_not_kept() -> None:
    """A session's request is decided in one pass by the decoder of the revision its header names,
    found once per version (`StatelessRoute.decide_session`). Every version a client named was kept,
    those the server does not speak too (as "none"): one entry per value made up, without bound.
    Only the versions the server speaks are kept now; the answers are what they were."""
    app = _server().http_app()
    with serve_in_process(app) as url, httpx.Client(timeout=30) as http:
        opened = http.post(url, json=initialize(LEGACY), headers={"accept": BOTH})
        sid = opened.headers["mcp-session-id"]
        base = {"accept": BOTH, "content-type": "application/json", "mcp-session-id": sid}
        body = json.dumps(call(1, "echo", {"text": "x"})).encode()
        answers = []
        for index in range(300):
            answer = http.post(url, content=body, headers={**base, "mcp-protocol-version": f"1999-{index}"})
            answers.append((answer.status_code, b"Unsupported MCP-Protocol-Version" in answer.content))
        kept = http.post(url, content=body, headers={**base, "mcp-protocol-version": LEGACY})
    assert answers == [(400, True)] * 300
    assert kept.status_code == 200 and b'"x"' in kept.content
    assert set(app.stateless.session_decoders) <= {LEGACY}
    assert set(app.stateless.session_calls) <= {LEGACY}
    assert set(app.stateless.sent_session_calls) <= {LEGACY.encode()}


def test_hostile_stateless_bodies_are_answered_alike() -> None:
    """Bodies no client library writes, for a call the short way would take (its tool answered in one
    step): repeated keys, trailing bytes, a batch, ids of every JSON type, `_meta` missing, not an
    object or naming another version, request state or input responses present but empty. Each sent
    twice (a tool's second call is read into its Struct), answered alike on the three apps."""
    meta = json.dumps(modern(0, "tools/call")["params"]["_meta"])
    params = '"name":"echo","arguments":{"text":"hello"},"_meta":' + meta

    def body(inner: str, rid: str = "1") -> bytes:
        return ('{"jsonrpc":"2.0","id":' + rid + ',"method":"tools/call","params":{' + inner + "}}").encode()

    other = '{"name":"add","arguments":{"a":1,"b":2},"_meta":' + meta + "}"
    bodies = [
        body(params),
        body(params) + b" x",  # trailing bytes
        body(params) + b" \n",  # trailing whitespace
        b"[" + body(params) + b"]",
        body('"name":"add",' + params),  # the name twice: the body's is the last
        body(params + ',"name":"add"'),
        body(params)[:-1] + b',"params":' + other.encode() + b"}",  # params twice
        body(params)[:-1] + b',"method":"tools/list"}',
        body(params)[:-1] + b',"id":2}',
        body(params + ',"_meta":{}'),
        body('"name":"echo","arguments":{"text":"hello"}'),  # no `_meta`
        body('"name":"echo","arguments":{"text":"hello"},"_meta":5'),
        body('"name":"echo","arguments":{"text":"hello"},"_meta":null'),
        body('"name":"echo","arguments":{"text":"hello"},"_meta":' + meta.replace(MODERN, LEGACY)),
        body(params + ',"requestState":""'),
        body(params + ',"inputResponses":{}'),
        body(params + ',"requestState":null'),
        body(params.replace('"echo"', '"ech\\u006f"')),  # the name escaped
        *(body(params, rid) for rid in ("null", "1.5", "1.0", "true", "1e3", "{}", str(2**64), '"\\ud800"')),
        body(params, '"' + "i" * (1024 * 1024) + '"'),  # a 1 MB id
    ]
    headers = {**modern_headers(call(1, "echo")), "content-type": "application/json", **TOKEN}
    with _serving() as urls, httpx.Client(timeout=30) as http:
        seen = [_answers(http, url, [(sent, headers) for sent in bodies for _ in range(2)]) for url in urls]
    _alike(seen)


def test_a_sessions_usual_call_is_answered_ahead_of_the_classifier() -> None:
    """`stateful.early` answers the usual call of a session of this worker's itself, and leaves anything
    else (another revision, an unknown session, another method, a tool that is not one step, a body
    that is not the call it says) to the classifier's way, with nothing run."""
    app = _server().http_app()
    with serve_in_process(app) as url, httpx.Client(timeout=30) as http:
        ok = _opened(http, url, {})
        heads = {k.encode(): v.encode() for k, v in ok.items()}

        async def never(*_: Any) -> Any:
            raise AssertionError("nothing is sent or received for an answer made at once")

        def early(body: Any, **changed: bytes) -> Any:
            headers = {**heads, **{k.encode(): v for k, v in changed.items()}}
            return stateful.early(
                app, headers[b"mcp-session-id"], headers, json.dumps(body).encode(), never, never
            )

        # The first message of the session's revision: nothing the classifier reads or makes is
        # needed before it.
        assert app.stateless.session_decoders == app.stateless.session_calls == {}
        first = early(call(1, "echo", {"text": "first"}))
        assert isinstance(first, bytes) and json.loads(first)["result"]["content"][0]["text"] == "first"
        notified = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        assert http.post(url, json=notified, headers=ok).status_code == 202
        answer = early(call(2, "echo", {"text": "hello"}))
        assert isinstance(answer, bytes) and json.loads(answer)["result"]["content"][0]["text"] == "hello"
        # Arguments that are no object, or null, are the general route's to refuse, and so are keys
        # that a conversion refuses (read as the tool's Struct, they would be ints).
        for arguments in (["x"], None, 5):
            assert early(request(9, "tools/call", {"name": "echo", "arguments": arguments})) is None
        assert early(call(10, "keyed", {"table": {"1": "a"}})) is None
        keyed = early(call(11, "keyed", {"table": {}}))
        assert isinstance(keyed, bytes) and json.loads(keyed)["result"]["content"][0]["text"] == ""
        assert early(call(3, "echo", {"text": "x"}), **{"mcp-protocol-version": b"2025-06-18"}) is None
        assert early(call(4, "echo", {"text": "x"}), **{"mcp-session-id": b"no-such-session"}) is None
        assert early(request(5, "tools/list")) is None
        assert (
            early(request(6, "tools/call", {"name": "echo", "arguments": {"text": 1}})) is None
        )  # (said wrong there)
        assert early({"jsonrpc": "2.0", "id": 7, "method": "tools/call"}) is None  # (no params)
        assert early(call(8, "nope", {})) is None
        # A coroutine function that cannot wait is run to its end right there: its value, its failure.
        shouted = early(call(12, "shout", {"text": "hi"}))
        assert isinstance(shouted, bytes) and json.loads(shouted)["result"]["content"][0]["text"] == "hi"
        failed = early(call(13, "shout", {"text": "fail"}))
        assert isinstance(failed, bytes) and json.loads(failed)["result"]["isError"] is True
        assert early(call(14, "shout", {"text": 5})) is None  # (its arguments refused: said there)
        # The version header's bytes find its decoder; sent with spaces around, it is read as the
        # same version (and its bytes are not kept: one entry per revision).
        for version in (b" " + LEGACY.encode(), LEGACY.encode() + b"\t", LEGACY.encode()):
            padded = early(call(15, "echo", {"text": "padded"}), **{"mcp-protocol-version": version})
            assert isinstance(padded, bytes) and b'"padded"' in padded
        # A body that is no object, or not only one, or none at all: the classifier's.
        whole = json.dumps(call(16, "echo", {"text": "x"})).encode()
        for raw in (b"", b" " + whole, b"[" + whole + b"]", b'"tools/call"'):
            assert stateful.early(app, heads[b"mcp-session-id"], heads, raw, never, never) is None
        sent = set(app.stateless.sent_session_calls)
        assert LEGACY.encode() in sent and sent <= {version.encode() for version in app.server.revisions}
        # A tool that is not one step: decided there, and its exchange's coroutine given (nothing ran).
        exchanged = early(call(9, "noted", {"text": "x"}))
        assert inspect.getcoroutinestate(exchanged) == inspect.CORO_CREATED
        exchanged.close()


def test_hostile_session_bodies_are_answered_alike() -> None:
    """Bodies no client library writes, for a session's call the short way would take (`stateful.early`,
    which reads it by a decoder of whole `tools/call` requests): the method, params or id twice, the
    method after the params, trailing bytes, a batch, ids of every JSON type, `_meta` not an object,
    arguments that are no object. Answered alike on the three apps, from each session's first call."""

    def body(inner: str, rid: str = "1", method: str = '"method":"tools/call",') -> bytes:
        return ('{"jsonrpc":"2.0","id":' + rid + "," + method + '"params":{' + inner + "}}").encode()

    params = '"name":"echo","arguments":{"text":"hello"}'
    bodies = [
        body(params),
        body(params, method=""),  # no method
        body(params, method='"method":"tools/list",')[:-1] + b',"method":"tools/call"}',
        body(params)[:-1] + b',"method":"tools/list"}',
        body(params)[:-1] + b',"method":"tools/call"}',
        body(params, method="")[:-1] + b',"method":"tools/call"}',  # the method after the params
        body(params)[:-1] + b',"params":{"name":"add","arguments":{"a":1,"b":2}}}',  # params twice
        body(params)[:-1] + b',"id":2}',
        body(params) + b" x",
        body(params) + b" \n",
        b"[" + body(params) + b"]",
        body(params + ',"_meta":5'),
        body(params + ',"_meta":null'),
        body(params + ',"_meta":{"progressToken":1.5}'),
        body('"name":"echo","arguments":"hello"'),
        body('"name":"echo","arguments":{"text":"hello"},"name":"add"'),
        body(params.replace('"echo"', '"ech\\u006f"')),
        body(params, method='"method":"tools\\/call",'),  # the method escaped
        *(body(params, rid) for rid in ("null", "1.5", "1.0", "true", "1e3", "{}", str(2**64), '"\\ud800"')),
        # a tool that takes a Context (the general exchange, its arguments read once `early` decided it)
        *(
            body('"name":"seen","arguments":' + arguments + meta)
            for arguments in (
                '{"count":1}',
                '{"count":1.0}',  # an integer, as JSON Schema counts: read by the conversion's rule
                '{"count":"1"}',
                "{}",
                '{"count":1,"table":{"2":"b","1":"a"}}',  # keys a decode reads as ints, conversion refuses
                '{"count":1,"count":2}',
                '{"count":1,"more":"\xff"}',
                "[1]",
                "null",
            )
            for meta in (
                "",
                ',"_meta":{"progressToken":"p","vendor/key":{"a":[1]}}',
                ',"_meta":{"progressToken":[]}',
            )
        ),
    ]
    with _serving() as urls, httpx.Client(timeout=30) as http:
        seen = []
        for url in urls:
            ok = _opened(http, url, TOKEN)
            seen.append(_answers(http, url, [(sent, ok) for sent in bodies]))
    _alike(seen)
