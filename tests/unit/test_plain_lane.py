"""A plain tool call in one step (`server.plain.answer_now`) against the connection's general path
(`Connection.on_request`): byte for byte the same answer for every kind of outcome, in every revision,
the tool answering at once or after a wait; None, with nothing run, where a call needs more; and a
context variable a tool sets never seen by the next request."""

from __future__ import annotations

import asyncio
import contextvars
import decimal
import functools
import subprocess
import sys
import textwrap
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import pytest

from mcpbind.aio import eager
from mcpbind.errors import InvalidParams
from mcpbind.protocol import dispatch, revisions
from mcpbind.protocol.endpoint import IncomingRequest
from mcpbind.server import Connection, Context, Server, ToolError
from mcpbind.server.plain import answer_decided, answer_now

SEEN: contextvars.ContextVar[str] = contextvars.ContextVar("seen", default="unset")
ALL = [*revisions.STATEFUL, *revisions.MODERN]


class _Silent:
    async def read(self) -> bytes | None:
        return None

    async def write(self, data: bytes) -> None:
        raise AssertionError("nothing is sent")

    async def close(self) -> None:
        pass


def _server(**options: Any) -> tuple[Server, list[str]]:
    server = Server("plain", "1.0.0", **options)
    ran: list[str] = []

    @server.tool()
    async def echo(text: str) -> str:
        ran.append("echo")
        SEEN.set(text)
        return text

    @server.tool()
    def shout(text: str) -> str:
        ran.append("shout")
        SEEN.set(text)
        return text.upper()

    @server.tool()
    async def nap(text: str) -> str:
        SEEN.set(text)
        await asyncio.sleep(0)
        ran.append("nap")
        return text[::-1]

    @server.tool()
    async def count(n: int) -> int:
        return n + 1

    # Carried on after their first wait: resumed more than once, their values (None too) taken at the end.
    @server.tool()
    async def count_later(n: int) -> int:
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return n * 2

    @server.tool()
    async def nothing_later() -> None:
        await asyncio.sleep(0)

    @server.tool()
    async def listing(n: int) -> list[Any]:
        return [f"item {i}" for i in range(n)]

    @server.tool()
    async def nothing() -> None:
        return None

    @server.tool()
    async def refuse(text: str) -> str:
        raise ToolError(f"not {text}")

    @server.tool()
    async def boom() -> str:
        raise RuntimeError("secret path /etc/x")

    @server.tool()
    async def late_boom() -> str:
        await asyncio.sleep(0)
        raise RuntimeError("late")

    @server.tool()
    async def denied() -> str:
        raise InvalidParams("no such thing")

    @server.tool()
    async def lone() -> str:
        return "\ud800"  # cannot be encoded: an internal error either way

    @server.tool()
    def sync_boom() -> str:
        raise ValueError("sync")

    # A sync tool's value that is no text: checked for an awaitable, then answered as it is or awaited.
    @server.tool()
    def sync_count(n: int) -> int:
        return n + 1

    @server.tool()
    def sync_deferred(text: str):  # type: ignore[no-untyped-def]  # (returns a coroutine: no annotation says what it gives)
        async def later() -> str:
            await asyncio.sleep(0)
            return text * 2

        return later()

    @server.tool()
    async def big_lone(n: int) -> str:
        return "x" * n + "\ud800"  # large and cannot be encoded

    # How arguments reach the function: by position (`Signature.positional`) or by keyword.
    @server.tool()
    async def pair(first: str, second: int = 2, third: bool = False) -> str:
        return f"{first}/{second}/{third}"

    @server.tool()
    def sync_pair(first: str, second: int = 2) -> str:
        return f"{first}|{second}"

    @server.tool()
    async def keywords(first: str, *, second: int = 2) -> str:
        return f"{first}:{second}"

    @server.tool()
    @_by_keyword
    async def wrapped(first: str, second: int = 2) -> str:
        return f"{first}+{second}"

    return server, ran


def _by_keyword(fn: Callable[..., Awaitable[str]]) -> Callable[..., Awaitable[str]]:
    """A wrapper that takes its arguments by keyword alone, as its signature (`__wrapped__`'s) hides."""

    @functools.wraps(fn)
    async def wrapper(**kwargs: Any) -> str:
        return await fn(**kwargs)

    return wrapper


def _connection(server: Server, revision: str) -> Connection:
    conn = Connection(server, _Silent())
    if not revisions.is_modern(revision):
        conn.revision = revision
    return conn


def _event(rid: Any, revision: str, name: str, arguments: Any, **extra: Any) -> IncomingRequest:
    params: dict[str, Any] = {"name": name, "arguments": arguments, **extra}
    if revisions.is_modern(revision):
        params["_meta"] = {
            revisions.META_VERSION: revision,
            revisions.META_CAPABILITIES: {},
            revisions.META_CLIENT: {"name": "test", "version": "0"},
        }
    return IncomingRequest(rid, "tools/call", msgspec.Raw(msgspec.json.encode(params)))


async def _now(conn: Connection, event: IncomingRequest) -> bytes | None:
    return await _finished(answer_now(conn, event))


async def _finished(got: bytes | eager.Paused | None) -> bytes | None:
    if type(got) is eager.Paused:  # carried on as the peer carries it, in the context it started in
        task = eager.carry(got, got.finish)
        answer: bytes | None = await task
        return answer
    assert got is None or type(got) is bytes
    return got


CALLS: list[tuple[str, Any]] = [
    ("echo", {"text": "hi"}),
    ("echo", {"text": ""}),
    ("echo", {"text": 'quotes " and \\ and \n\t\u0001 and \u00e9\u4e2d\U0001f600'}),
    ("shout", {"text": "hi"}),
    ("nap", {"text": "abc"}),
    ("count", {"n": 1}),
    ("count_later", {"n": 21}),
    ("nothing_later", {}),
    ("listing", {"n": 2}),
    ("nothing", {}),
    ("refuse", {"text": "that"}),
    ("boom", {}),
    ("late_boom", {}),
    ("denied", {}),
    ("lone", {}),
    ("sync_boom", {}),
    ("sync_count", {"n": 41}),
    ("sync_deferred", {"text": "ab"}),
    # Large texts, encoded with their answer in one pass rather than joined to its parts:
    ("echo", {"text": "x" * (64 * 1024 - 1)}),
    ("echo", {"text": "y" * (64 * 1024)}),
    ("shout", {"text": "\u00e9\n" * 40_000}),
    ("nap", {"text": "z" * 100_000}),
    ("big_lone", {"n": 70_000}),
    ("pair", {"second": 5, "first": "a"}),
    ("pair", {"first": "b", "third": True}),
    ("sync_pair", {"first": "c"}),
    ("keywords", {"first": "d", "second": 7}),
    ("wrapped", {"second": 3, "first": "e"}),
]


@pytest.mark.parametrize("revision", [revisions.STATEFUL[-1], revisions.MODERN[-1]])
def test_a_tool_that_takes_a_context_gets_its_arguments_as_it_takes_them(revision: str) -> None:
    """The general path (`Connection.on_request`) passes arguments by position, then the Context, where
    the function takes them so (`Signature.positional`), and by keyword otherwise."""
    server = Server("contexts", "1.0.0")

    @server.tool()
    async def ctx_last(first: str, second: int = 2, *, ctx: Context) -> str:
        return f"{first}/{second}/{type(ctx).__name__}"

    @server.tool()
    async def ctx_after(first: str, second: int, ctx: Context) -> str:
        return f"{first}/{second}/{type(ctx).__name__}"

    @server.tool()
    def ctx_first(ctx: Context, first: str) -> str:
        return f"{first}/{type(ctx).__name__}"

    @server.tool()
    async def ctx_between(first: str, ctx: Context, second: int = 2) -> str:
        return f"{first}/{second}/{type(ctx).__name__}"

    flags = {}
    for name in ("ctx_last", "ctx_after", "ctx_first", "ctx_between"):
        tool = server.tool_entry(name)
        assert tool is not None
        flags[name] = tool.signature.positional
    assert flags == {"ctx_last": False, "ctx_after": True, "ctx_first": False, "ctx_between": False}

    async def main() -> None:
        conn = _connection(server, revision)
        for rid, (name, arguments, said) in enumerate(
            [
                ("ctx_last", {"second": 5, "first": "a"}, "a/5/Context"),
                ("ctx_after", {"second": 3, "first": "b"}, "b/3/Context"),
                ("ctx_first", {"first": "c"}, "c/Context"),
                ("ctx_between", {"second": 7, "first": "d"}, "d/7/Context"),
            ],
            1,
        ):
            answer = msgspec.json.decode(await conn.on_request(_event(rid, revision, name, arguments)))
            assert answer["result"]["content"][0]["text"] == said, answer

    asyncio.run(main())


def test_a_positional_only_parameter_is_refused_when_registered() -> None:
    """Arguments are named on the wire: a tool or prompt whose parameter can only be passed by position
    is refused at registration (it used to register, then fail every call as an internal error)."""
    server = Server("positional-only")

    def shout(text: str, /) -> str:
        return text.upper()

    def prompt(ctx: Context, /, topic: str) -> str:
        return topic

    with pytest.raises(TypeError, match="positional-only parameter 'text'"):
        server.tool()(shout)
    with pytest.raises(TypeError, match="positional-only parameter 'ctx'"):
        server.prompt()(prompt)
    assert server.tool_entry("shout") is None


def test_arguments_go_by_position_only_where_the_function_takes_them_so() -> None:
    server, _ = _server()
    positional = {}
    for name in ("pair", "sync_pair", "keywords", "wrapped", "nothing"):
        tool = server.tool_entry(name)
        assert tool is not None
        positional[name] = tool.signature.positional
    assert positional == {
        "pair": True,
        "sync_pair": True,
        "keywords": False,
        "wrapped": False,
        "nothing": True,
    }


@pytest.mark.parametrize("expose", [False, True])
@pytest.mark.parametrize("revision", ALL)
def test_a_plain_call_answers_as_the_general_path_does(revision: str, expose: bool) -> None:
    server, _ = _server(expose_errors=expose)

    async def main() -> None:
        conn = _connection(server, revision)
        for rid, (name, arguments) in enumerate(CALLS, 1):
            for key in (rid, f"s{rid}"):
                event = _event(key, revision, name, arguments)
                now = await _now(conn, event)
                assert SEEN.get() == "unset"  # the tool's context variable stayed with its call
                assert now is not None, name
                general = asyncio.get_running_loop().create_task(conn.on_request(event))
                assert now == await general, name

    asyncio.run(main())


@pytest.mark.parametrize("revision", [revisions.STATEFUL[-1], revisions.MODERN[-1]])
def test_what_a_server_needs_of_every_call_is_kept_as_its_registrations_change(revision: str) -> None:
    """`Server.plain_calls` follows scopes, task runners and middleware as they come and go; a call in
    one step is made only while it holds."""
    server, ran = _server()
    conn = _connection(server, revision)
    assert server.plain_calls

    @server.tool(scopes=["admin"])
    def guarded() -> str:
        return "no"

    assert not server.plain_calls  # (a required scope: every call is checked first)
    assert answer_now(conn, _event(0, revision, "echo", {"text": "hi"})) is None
    assert ran == []
    server.remove_tool("guarded")
    assert server.plain_calls
    assert answer_now(conn, _event(1, revision, "echo", {"text": "hi"})) is not None

    @server.tool(task_support="optional")
    async def long() -> str:
        return "later"

    assert not server.plain_calls  # (a task runner, kept once made)
    server.remove_tool("long")
    assert not server.plain_calls and server.tasks is not None
    assert answer_now(conn, _event(2, revision, "echo", {"text": "hi"})) is None

    other, _ = _server()

    @other.add_middleware
    async def seen(call: Any, call_next: Any) -> Any:
        return await call_next(call)

    assert not other.plain_calls


@pytest.mark.parametrize("revision", [revisions.STATEFUL[-1], revisions.MODERN[-1]])
def test_what_a_server_needs_of_every_call_is_kept_when_assigned_directly(revision: str) -> None:
    """`Server.plain_calls` follows a task runner, a middleware chain or required scopes assigned to
    the server directly, not through its API: a call then takes the general path (the middleware sees
    it), and one step again once they are taken away."""
    from mcpbind.server.middleware import chain
    from mcpbind.server.scopes import RequiredScopes
    from mcpbind.server.tasks import Tasks

    server, ran = _server()
    conn = _connection(server, revision)
    seen: list[str] = []

    async def watch(call: Any, call_next: Any) -> Any:
        seen.append(call.method)
        return await call_next(call)

    server.middleware_chain = chain([watch])
    assert not server.plain_calls
    assert answer_now(conn, _event(0, revision, "echo", {"text": "hi"})) is None and ran == []

    async def general() -> bytes | None:
        return await asyncio.get_running_loop().create_task(
            conn.on_request(_event(1, revision, "echo", {"text": "hi"}))
        )

    got = asyncio.run(general())
    assert got is not None
    assert b'"hi"' in got and seen == ["tools/call"] and ran == ["echo"]
    server.middleware_chain = None
    assert server.plain_calls
    server.tasks = Tasks()
    assert not server.plain_calls
    server.tasks = None
    assert server.plain_calls
    scopes = RequiredScopes()
    scopes.require("tools/call", "echo", ["admin"])
    server.required_scopes = scopes
    assert not server.plain_calls
    server.required_scopes = RequiredScopes()
    assert server.plain_calls
    assert answer_now(conn, _event(2, revision, "echo", {"text": "hi"})) is not None


def test_a_tools_call_ahead_of_the_classifier_is_known_once_its_header_paths_are() -> None:
    """`ToolEntry.at_once`: set with its `param_paths`, for a tool in one step that mirrors no argument
    and whose name no encoded header value could begin with."""
    server, _ = _server()

    @server.tool(name="=?base64?ZWNobw==?=")
    def odd(text: str) -> str:
        return text

    @server.tool()
    def aware(text: str, ctx: Context) -> str:
        return text

    tools = {name: server.tool_entry(name) for name in ("echo", "=?base64?ZWNobw==?=", "aware")}
    assert not any(tool is not None and tool.at_once for tool in tools.values())
    for name in tools:
        server.param_paths(name)
    assert [name for name, tool in tools.items() if tool is not None and tool.at_once] == ["echo"]


@pytest.mark.parametrize("revision", [revisions.STATEFUL[-1], revisions.MODERN[-1]])
def test_a_call_that_needs_more_is_not_run(revision: str) -> None:
    server, ran = _server()

    @server.tool()
    async def aware(text: str, ctx: Context) -> str:
        ran.append("aware")
        return text

    conn = _connection(server, revision)
    wrong = [
        _event(0, revision, "aware", {"text": "x"}),  # takes a Context: the general path makes one
        _event(1, revision, "missing", {}),  # unknown: the general path refuses it
        _event(2, revision, "echo", {"text": 5}),  # wrong arguments: the general path says so
        _event(3, revision, "echo", "text"),  # params of the wrong shape
        _event(3, revision, "nothing", None),  # (`arguments` is no object)
        IncomingRequest(4, "tools/call", None),  # no params
        IncomingRequest(5, "tools/call", msgspec.Raw(b'{"name":')),  # not JSON after all
        IncomingRequest(6, "tools/list", msgspec.Raw(b"{}")),  # another method
    ]
    for event in wrong:
        assert answer_now(conn, event) is None
    assert ran == []
    # Without a session, a request that names no version the server serves with none.
    for version in (None, revisions.STATEFUL[-1], "1999-01-01"):
        meta = {} if version is None else {"_meta": {revisions.META_VERSION: version}}
        raw = msgspec.json.encode({"name": "echo", "arguments": {"text": "x"}, **meta})
        assert (
            answer_now(Connection(server, _Silent()), IncomingRequest(7, "tools/call", msgspec.Raw(raw)))
            is None
        )
    assert ran == []

    @server.add_middleware
    async def seen(call: Any, call_next: Any) -> Any:
        return await call_next(call)

    assert answer_now(conn, _event(8, revision, "echo", {"text": "hi"})) is None  # middleware sees every call
    assert ran == []


def test_a_stateless_call_is_read_by_the_lane_its_meta_names() -> None:
    """Outside a session, params are read once, by the lane of the revision the last call named; a
    call whose `_meta` names another version (complete, so that lane reads it) is not run there."""
    server, ran = _server()
    revision = revisions.MODERN[-1]
    assert server.stateless_lane is None
    conn = Connection(server, _Silent())
    first = asyncio.run(_now(conn, _event(1, revision, "echo", {"text": "one"})))
    assert first is not None and b'"one"' in first
    assert server.stateless_lane is not None and server.stateless_lane.revision.name == revision
    for version in (revisions.STATEFUL[-1], "1999-01-01", 7):
        raw = msgspec.json.encode(
            {
                "name": "echo",
                "arguments": {"text": "x"},
                "_meta": {
                    revisions.META_VERSION: version,
                    revisions.META_CAPABILITIES: {},
                    revisions.META_CLIENT: {"name": "test", "version": "0"},
                },
            }
        )
        assert answer_now(conn, IncomingRequest(2, "tools/call", msgspec.Raw(raw))) is None
    assert ran == ["echo"]
    # The lane kept answers the next call as the general path does.
    event = _event(3, revision, "echo", {"text": "two"})
    now = asyncio.run(_now(conn, event))
    assert now is not None and now == asyncio.run(conn.on_request(event))
    assert ran == ["echo", "echo", "echo"]


def test_a_stateless_call_with_request_state_takes_the_general_path() -> None:
    server, ran = _server()
    revision = revisions.MODERN[-1]
    conn = _connection(server, revision)
    assert answer_now(conn, _event(1, revision, "echo", {"text": "x"}, requestState="abc")) is None
    assert ran == []


@pytest.mark.parametrize(
    "responses",
    [
        {},
        {"ask": {"action": "cancel"}},
        {"ask": {"roots": [{"uri": "file:///tmp"}]}},
        {"ask": {"action": "dance"}},
        [],
        None,
    ],
)
def test_a_stateless_call_with_input_responses_takes_the_general_path(responses: Any) -> None:
    """The lane reads a call's input responses as JSON (their types reach a score of classes it
    never needs), so it declines any call that carries them, valid or not: the general path reads
    them as their type and answers."""
    server, ran = _server()
    revision = revisions.MODERN[-1]
    conn = _connection(server, revision)
    event = _event(1, revision, "echo", {"text": "x"}, inputResponses=responses)
    assert answer_now(conn, event) is None
    assert ran == []
    answer = msgspec.json.decode(asyncio.run(conn.on_request(event)))
    if responses in ({}, {"ask": {"action": "cancel"}}, {"ask": {"roots": [{"uri": "file:///tmp"}]}}):
        assert answer["result"]["content"] == [{"type": "text", "text": "x"}] and ran == ["echo"]
    else:
        assert answer["error"]["code"] == -32602 and ran == []


def test_a_variant_of_a_definition_leaves_the_module_alone() -> None:
    """`Definitions.variant`: the definition made anew with a name read as given; the module's own
    type is neither made nor replaced, and what the variant does not reach is not created (in a
    process of its own: the module's types are made once per process)."""
    probe = textwrap.dedent(
        """
        import msgspec
        from mcpbind.generated import v2026_07_28 as module
        definitions = module._definitions
        variant = definitions.variant("CallToolRequestParams", {"InputResponses": msgspec.Raw})
        assert variant.__name__ == "CallToolRequestParams" and variant.__module__ == module.__name__
        made = definitions.made()
        assert "CallToolRequestParams" not in made and "InputResponses" not in made, made
        assert "RequestMetaObject" in made and "TextContent" not in made, made
        from mcpbind import shapes
        meta = {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": {"name": "test", "version": "0"},
        }
        raw = msgspec.json.encode(
            {"name": "t", "_meta": meta, "inputResponses": {"a": {"action": "dance"}}}
        )
        read = msgspec.json.Decoder(variant, dec_hook=shapes.hook_for(variant)).decode(raw)
        assert read.input_responses == msgspec.Raw(b'{"a":{"action":"dance"}}')
        assert module.CallToolRequestParams is not variant  # the module's own, made now, as before
        own = module.CallToolRequestParams
        try:
            msgspec.json.Decoder(own, dec_hook=shapes.hook_for(own)).decode(raw)
        except msgspec.ValidationError:
            print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "ok", out.stderr


@pytest.mark.parametrize("expose", [False, True])
@pytest.mark.parametrize("revision", ALL)
def test_a_call_decided_by_its_transport_answers_as_the_general_path_does(
    revision: str, expose: bool
) -> None:
    """`answer_decided` (an HTTP session's call read and decided in one pass, a stateless call the
    route answers directly): the same bytes as the general path, and None, with nothing run, where
    the call needs more."""
    server, ran = _server(expose_errors=expose)

    @server.tool()
    async def aware(text: str, ctx: Context) -> str:
        ran.append("aware")
        return text

    rev = revisions.revision(revision)

    def decided(event: IncomingRequest) -> Any:
        return dispatch.decide("tools/call", event.params, None, rev, server).params

    async def main() -> None:
        conn = _connection(server, revision)
        for rid, (name, arguments) in enumerate(CALLS, 1):
            for key in (rid, f"s{rid}"):
                event = _event(key, revision, name, arguments)
                now = await _finished(answer_decided(server, rev, key, decided(event)))
                assert SEEN.get() == "unset"  # the tool's context variable stayed with its call
                assert now is not None, name
                general = asyncio.get_running_loop().create_task(conn.on_request(event))
                assert now == await general, name
        ran.clear()
        for event in (
            _event(0, revision, "aware", {"text": "x"}),  # takes a Context
            _event(1, revision, "missing", {}),  # unknown
            _event(2, revision, "echo", {"text": 5}),  # wrong arguments
        ):
            assert answer_decided(server, rev, event.id, decided(event)) is None
        assert ran == []

        @server.add_middleware
        async def seen(call: Any, call_next: Any) -> Any:
            return await call_next(call)

        event = _event(3, revision, "echo", {"text": "hi"})
        assert answer_decided(server, rev, 3, decided(event)) is None  # middleware sees every call
        assert ran == []

    asyncio.run(main())


def _hostile_server() -> Server:
    server, _ = _server()

    @server.tool()
    async def keyed(table: dict[int, str]) -> str:
        return ",".join(f"{k}={v}" for k, v in sorted(table.items()))

    @server.tool()
    async def money(amount: decimal.Decimal) -> str:
        return str(amount)

    @server.tool()
    def nested(points: list[Point], label: str = "none") -> str:
        return f"{label}:{sum(p.x for p in points)}"

    @server.tool()
    async def loose(data: dict[str, Any]) -> str:
        return msgspec.json.encode(data).decode()

    return server


class Point(msgspec.Struct):
    x: int


_TEXT_MB = "\u00e9" + "m" * (1024 * 1024)
# (name, the JSON of its arguments, whether the one step answers it (else it leaves it to the general
# path; None: either))
HOSTILE: list[tuple[str, bytes, bool | None]] = [
    ("echo", b'{"text":"hi","extra":[1,{"deep":null}]}', True),  # extra members: ignored, as converted
    ("echo", b'{"text":"first","text":"last"}', True),  # a repeated key: the last one, as a dict keeps
    ("echo", b'{"text":5}', False),  # wrong type
    ("echo", b"{}", False),  # a required argument missing
    ("echo", b'{"text":null}', False),
    ("count", b'{"n":"1"}', False),
    ("count", b'{"n":1.0}', False),  # (an integer as JSON Schema counts: the general path's retry)
    ("count", b'{"n":1.5}', False),
    ("count", b'{"n":123456789012345678901234567890}', None),
    ("echo", b'"text"', False),  # arguments that are no object
    ("echo", b"[1,2]", False),
    ("nothing", b"null", False),
    ("nothing", b"5", False),
    ("echo", b'{"text":"\\ud800"}', None),  # a lone surrogate escaped: read as a dict reads it
    ("echo", b'{"text":"' + _TEXT_MB.encode() + b'"}', True),  # 1 MB of text
    ("echo", b'{"text":"x","pad":"' + b"p" * (1024 * 1024) + b'"}', True),  # 1 MB it never reads
    ("echo", b'{"text":' + b"[" * 5000 + b"]" * 5000 + b"}", False),  # nested deeper than msgspec reads
    ("pair", b'{"first":"a","second":3,"third":true}', True),
    ("pair", b'{"first":"a","third":"yes"}', False),
    ("keyed", b'{"table":{"1":"a"}}', False),  # keys that are not text: decoding and converting differ
    ("keyed", b'{"table":{}}', True),  # (read as a dict, then converted)
    ("money", b'{"amount":"1.5"}', True),  # a Decimal: 1e400 reads as one, converts as inf
    ("money", b'{"amount":1e400}', False),
    ("nested", b'{"points":[{"x":1},{"x":2}],"label":"sum"}', True),
    ("nested", b'{"points":[{"x":1},{"x":"2"}]}', False),
    ("nested", b'{"points":[{"y":1}]}', False),
    ("loose", b'{"data":{"a":[1,2.5,"c",null,true],"b":{}}}', True),
]


def _raw_event(rid: Any, revision: str, name: str, arguments: bytes) -> IncomingRequest:
    head = msgspec.json.encode(_event(rid, revision, name, None).params)  # (its `_meta`, if any)
    assert head.count(b'"arguments":null') == 1
    return IncomingRequest(
        rid, "tools/call", msgspec.Raw(head.replace(b'"arguments":null', b'"arguments":' + arguments))
    )


@pytest.mark.parametrize("revision", [revisions.STATEFUL[0], revisions.STATEFUL[-1], revisions.MODERN[-1]])
def test_arguments_read_straight_into_the_tools_struct_answer_as_the_general_path_does(revision: str) -> None:
    """stdio's params leave a call's `arguments` as JSON, read straight into the tool's Struct where
    that reads what converting them would: hostile arguments (wrong types, extra or repeated members,
    missing ones, no object, 1 MB strings, deep nesting, keys and numbers decoding and converting
    read apart) are answered as the general path answers them, byte for byte, or left to it."""
    server = _hostile_server()

    async def main() -> None:
        conn = _connection(server, revision)
        for rid, (name, arguments, short) in enumerate(HOSTILE, 1):
            event = _raw_event(rid, revision, name, arguments)
            now = await _now(conn, event)
            general = await asyncio.get_running_loop().create_task(conn.on_request(event))
            assert general is not None
            if short is not None:
                assert (now is not None) is short, (name, arguments[:80])
            assert now is None or now == general, (name, arguments[:80])

    asyncio.run(main())


@pytest.mark.parametrize("version", ALL)
def test_text_answer_is_what_the_result_type_encodes(version: str) -> None:
    """A lane's text parts, written without making `CallToolResult`, are its answer's bytes: the
    type's own encoding, stamped as `Server.answer` stamps it, around any id and any text."""
    from mcpbind.protocol import eras
    from mcpbind.server.features import ANSWER_HEAD
    from mcpbind.server.plain import lane

    server = Server("plain", "1.0.0", title="Plain", implementation={"websiteUrl": "https://example.com/x"})
    revision = revisions.revision(version)
    module = revision.module
    spec = revision.requests["tools/call"]
    era = eras.of(revision)
    before, after = lane(server, revision).text
    for rid, text in ((0, "mcpbind:text"), ("x\u00e9", 'a"\\\n\u2028b'), (7, "")):
        result = module.CallToolResult(content=[module.TextContent(text=text)])
        expected = server.answer(rid, "tools/call", result, spec, era)
        assert ANSWER_HEAD + msgspec.json.encode(rid) + before + msgspec.json.encode(text) + after == expected


def test_a_server_and_its_subclass_take_attributes_of_their_own() -> None:
    """A server's own state is in slots; a subclass's attributes, and any a caller sets, still go in
    the instance (a subclass's may be assigned before the server's own `__init__`)."""

    class Mine(Server):
        def __init__(self) -> None:
            self.mine = 1
            super().__init__("mine", "1.0")
            self.tasks = None  # (assigned again: `plain_calls` rechecked)

    server = Mine()
    server.extra = "kept"  # type: ignore[attr-defined]
    assert (server.mine, server.extra, server.plain_calls) == (1, "kept", True)
    assert vars(server) == {"mine": 1, "extra": "kept"}
