"""The request path's short cuts, each against the long way it stands for: one-pass parsing
(`jsonrpc.parse_single` against `parse`), the decision planned once per revision and method
(`dispatch.decide` twice, with the gate asked every time), and a plain tool call answered in one step
(`Features.call_plain` against `call_tool` + `answer`, and None where a call needs a connection)."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest

from mcpbind.errors import InvalidParams, MethodNotFound
from mcpbind.protocol import dispatch, eras, jsonrpc, revisions
from mcpbind.server import Context, Server, ToolError
from mcpbind.transports.stdio import StdioServerTransport

STATEFUL = revisions.revision(revisions.STATEFUL[-1])
MODERN = revisions.revision(revisions.MODERN[-1])

LINES = [
    b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}}',
    b'{"jsonrpc":"2.0","id":"a","method":"ping"}',
    b'{"jsonrpc":"2.0","id":1.5,"method":"ping"}',
    b'{"jsonrpc":"2.0","id":true,"method":"ping"}',
    b'{"jsonrpc":"2.0","id":null,"method":"ping"}',
    b'{"jsonrpc":"2.0","method":"notifications/initialized"}',
    b'{"jsonrpc":"2.0","method":"notifications/x","params":7}',
    b'{"jsonrpc":"2.0","id":2,"result":{"ok":true}}',
    b'{"jsonrpc":"2.0","id":3,"error":{"code":-1,"message":"no"}}',
    b'{"jsonrpc":"2.0","id":3,"error":{"code":"x"}}',
    b'{"jsonrpc":"1.0","id":4,"method":"ping"}',
    b'{"id":4,"method":"ping"}',
    b'{"jsonrpc":"2.0","id":5,"method":7}',
    b'{"jsonrpc":"2.0","id":5,"method":"ping","params":"text"}',
    b'{"jsonrpc":"2.0","id":5,"method":"ping","params":[1]}',
    b'{"jsonrpc":"2.0","id":6}',
    '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"\u00e9cho"}}'.encode(),
    b'{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"\xff"}}',
    b'{"jsonrpc":"2.0","id":9,"method":"ping"',
    b"not json",
    b'"a string"',
    b"17",
    b"[" * 5000 + b"]" * 5000,
    b"[]",
    b'[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"n"},3]',
]


@pytest.mark.parametrize("batches", [False, True])
@pytest.mark.parametrize("line", LINES)
def test_one_pass_parsing_reads_every_message_as_parse_does(line: bytes, batches: bool) -> None:
    single = jsonrpc.parse_single(line, batches)
    if single is None:  # a batch, where batches are read: `parse` reads it item by item
        assert batches and line.startswith(b"[")
        assert len(jsonrpc.parse(line, batches=True)) >= 1
        return
    assert jsonrpc.parse(line, batches=batches) == [single]
    # A memoryview (another transport's framing) is read alike.
    assert jsonrpc.parse_single(memoryview(line), batches) == single


def test_one_pass_parsing_recognises_a_request_with_its_raw_params() -> None:
    message = jsonrpc.parse_single(LINES[0])
    assert type(message) is jsonrpc.Request
    assert (message.id, message.method, bytes(message.params or b"")) == (1, "tools/call", b'{"name":"echo"}')
    malformed = jsonrpc.parse_single(b'{"jsonrpc":"2.0","id":5,"method":"ping","params":"text"}')
    assert isinstance(malformed, jsonrpc.Malformed) and b'"id":5' in (malformed.reply or b"")


class _Gate:
    """A server whose offer changes between requests (a registry that changes while serving)."""

    def __init__(self) -> None:
        self.missing = ""
        self.asked = 0
        self.missing_features: dict[str, str] = {}  # (nothing kept: asked each time)

    def missing_feature(self, method: str) -> str:
        self.asked += 1
        return self.missing

    def answers_directly(self, params: Any) -> bool:
        return params.name == "plain"


_META = {
    revisions.META_VERSION: MODERN.name,
    "io.modelcontextprotocol/clientInfo": {"name": "path", "version": "0"},
    "io.modelcontextprotocol/clientCapabilities": {},
}


def _call(name: str, meta: bool = False) -> msgspec.Raw:
    params: dict[str, Any] = {"name": name, "arguments": {"text": "hi"}}
    if meta:
        params["_meta"] = _META
    return msgspec.Raw(msgspec.json.encode(params))


def test_a_planned_decision_is_the_same_decision_and_still_asks_the_gate() -> None:
    gate = _Gate()
    first = dispatch.decide("tools/call", _call("echo"), None, STATEFUL, gate)
    again = dispatch.decide("tools/call", _call("echo"), None, STATEFUL, gate)
    assert first == again and first.era is eras.SESSION and not first.direct
    assert first.spec is STATEFUL.served["tools/call"] and first.params.name == "echo"
    assert gate.asked == 2
    # The offer changed: the plan does not remember the last answer.
    gate.missing = "tools"
    with pytest.raises(MethodNotFound, match="does not offer tools"):
        dispatch.decide("tools/call", _call("echo"), None, STATEFUL, gate)
    gate.missing = ""
    # Each request's own params: decoded every time, and refused every time they are wrong.
    for _ in range(2):
        with pytest.raises(InvalidParams):
            dispatch.decide("tools/call", msgspec.Raw(b'{"name":5}'), None, STATEFUL, gate)
        with pytest.raises(InvalidParams, match="requires params"):
            dispatch.decide("tools/call", None, None, STATEFUL, gate)


def test_a_planned_decision_keeps_each_era_and_the_direct_rule() -> None:
    gate = _Gate()
    for _ in range(2):
        plain = dispatch.decide("tools/call", _call("plain", meta=True), None, MODERN, gate)
        other = dispatch.decide("tools/call", _call("other", meta=True), None, MODERN, gate)
        assert plain.era is eras.ENVELOPE and plain.direct and not other.direct
        # The tasks extension's methods (outside the generated table) are planned as well.
        params = msgspec.Raw(msgspec.json.encode({"taskId": "t1", "_meta": _META}))
        got = dispatch.decide("tasks/get", params, None, MODERN, gate)
        assert got.spec.name == "tasks/get" and got.params.task_id == "t1"


def test_unknown_methods_are_refused_every_time() -> None:
    gate = _Gate()
    for name, revision in [("no/such", MODERN), ("no/such", MODERN), ("tasks/list", MODERN)] * 2:
        with pytest.raises(MethodNotFound):
            dispatch.decide(name, None, None, revision, gate)


def _server() -> tuple[Server, list[str]]:
    server = Server("path", "1.0.0")
    ran: list[str] = []

    @server.tool()
    async def echo(text: str) -> str:
        ran.append("echo")
        return text

    @server.tool()
    async def nap(text: str) -> str:
        ran.append("nap")
        await asyncio.sleep(0)  # suspended: carried on by whoever awaits the call
        return text.upper()

    @server.tool()
    def refuse(text: str) -> str:
        raise ToolError(f"no {text}")

    @server.tool()
    async def aware(text: str, ctx: Context) -> str:
        ran.append("aware")
        return text

    return server, ran


def _params(name: str, arguments: Any) -> Any:
    return msgspec.json.decode(
        msgspec.json.encode({"name": name, "arguments": arguments}),
        type=STATEFUL.module.CallToolRequestParams,
    )


def _plain(server: Server, name: str, arguments: Any, rid: int = 1) -> bytes | None:
    spec = STATEFUL.served["tools/call"]
    return asyncio.run(server.call_plain(rid, _params(name, arguments), STATEFUL.module, spec, eras.SESSION))


def _long_way(server: Server, name: str, arguments: Any, rid: int = 1) -> bytes:
    spec = STATEFUL.served["tools/call"]
    result = asyncio.run(server.call_tool(name, arguments, None, STATEFUL.module))
    return server.answer(rid, "tools/call", result, spec, eras.SESSION)


def test_a_plain_call_answers_as_call_tool_and_answer_do() -> None:
    server, ran = _server()
    for name, arguments in [
        ("echo", {"text": "hi"}),
        ("nap", {"text": "hi"}),  # (waits once before it answers)
        ("refuse", {"text": "that"}),  # a ToolError: isError
        ("echo", {"text": 5}),  # wrong arguments: isError, the tool never runs
        ("echo", {}),
    ]:
        got = _plain(server, name, arguments)
        assert got is not None and got == _long_way(server, name, arguments)
    assert ran == ["echo", "echo", "nap", "nap"]
    assert msgspec.json.decode(_plain(server, "nap", {"text": "hi"}, rid=7) or b"") == {
        "jsonrpc": "2.0",
        "id": 7,
        "result": {"content": [{"type": "text", "text": "HI"}]},
    }


def test_a_call_that_needs_a_connection_is_not_run_plain() -> None:
    server, ran = _server()
    assert _plain(server, "aware", {"text": "hi"}) is None  # takes a Context
    assert _plain(server, "missing", {}) is None  # unknown: the handler's path refuses it
    assert ran == []

    @server.add_middleware
    async def seen(call: Any, call_next: Any) -> Any:
        return await call_next(call)

    assert _plain(server, "echo", {"text": "hi"}) is None  # middleware sees every call
    assert ran == []


def test_a_stdio_transport_reads_nothing_buffered_before_it_starts() -> None:
    assert not StdioServerTransport().read_buffered()
