"""Open unions: results selected by `resultType` (2026-07-28) and content blocks of kinds a revision lacks.

Read from a peer (`wire.decode`, `wire.decoder`), a member of a kind the revision does not know is kept
as sent, as a `wire.Unknown`; built to be sent (`wire.convert`), it is refused.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import msgspec
import pytest

from mcpbind import wire
from mcpbind.client import Client, UnexpectedResult
from mcpbind.errors import McpError

from ..conftest import REVISIONS, module

v2024 = module("2024-11-05")
v2026 = module("2026-07-28")

#: 2026-07-28 methods whose result may be an InputRequiredResult, and the member a "complete" one is.
RESULT_METHODS = {
    "tools/call": ("CallToolResult", {"content": [{"type": "text", "text": "a"}]}),
    "resources/read": ("ReadResourceResult", {"contents": [{"uri": "file:///a", "text": "a"}]}),
    "prompts/get": (
        "GetPromptResult",
        {"messages": [{"role": "user", "content": {"type": "text", "text": "a"}}]},
    ),
}

#: The tasks extension's result: a kind 2026-07-28 does not define.
TASK = (
    b'{"resultType":"task","task":{"taskId":"t-1","status":"working","ttl":60000,"pollInterval":1.0},'
    b'"_meta":{"x":1}}'
)


def read(method: str, data: bytes, mod: Any = v2026) -> Any:
    return wire.decoder(mod.REQUESTS[method].result_type).decode(data)


@pytest.mark.parametrize("method", RESULT_METHODS)
def test_an_unknown_result_type_is_kept_whole(method: str) -> None:
    value = read(method, TASK)
    assert type(value) is wire.Unknown
    assert value["resultType"] == "task" and value["task"]["taskId"] == "t-1"
    assert wire.encode(value) == TASK  # every member, in order, as sent


@pytest.mark.parametrize("method", RESULT_METHODS)
def test_result_type_decides_the_member(method: str) -> None:
    name, body = RESULT_METHODS[method]
    assert type(read(method, json.dumps({**body, "resultType": "complete"}).encode())).__name__ == name
    assert type(read(method, json.dumps(body).encode())).__name__ == name  # absent means "complete"
    required = json.dumps({"resultType": "input_required", "requestState": "s"}).encode()
    assert type(read(method, required)).__name__ == "InputRequiredResult"
    # "complete" is never an InputRequiredResult, whatever else the object holds: it is checked as
    # the complete result it says it is (and the client never retries it as if input were required).
    for bad in ({"resultType": "complete", "requestState": "s"}, {"resultType": "complete"}, {}):
        with pytest.raises(msgspec.ValidationError, match="missing required field"):
            read(method, json.dumps(bad).encode())


@pytest.mark.parametrize("bad", [{"resultType": 5}, {"resultType": None}, {"resultType": ["task"]}])
def test_a_result_type_must_be_a_string(bad: dict[str, Any]) -> None:
    with pytest.raises(msgspec.ValidationError, match="resultType"):
        read("tools/call", json.dumps(bad).encode())


def test_an_unknown_result_type_is_kept_when_built() -> None:
    # The schema admits any string as `resultType`: a server may send an extension's result, as it is.
    built = wire.convert(json.loads(TASK), v2026.TOOLS_CALL.result_type)
    assert type(built) is wire.Unknown and wire.encode(built) == TASK
    built = wire.convert({"content": [], "resultType": "complete"}, v2026.TOOLS_CALL.result_type)
    assert type(built) is v2026.CallToolResult


RESOURCE_LINK = {
    "type": "resource_link",
    "uri": "file:///a.txt",
    "name": "a",
    "size": 1.0,
    "x-new": [1, {"b": None}],
}


def test_a_later_revisions_block_is_kept_under_an_older_one() -> None:
    # 2024-11-05 has no resource_link: one such block no longer fails the whole tools/call result.
    data = json.dumps(
        {"content": [{"type": "text", "text": "a"}, RESOURCE_LINK]}, separators=(",", ":")
    ).encode()
    value = read("tools/call", data, v2024)
    assert type(value) is v2024.CallToolResult
    text, link = value.content
    assert type(text) is v2024.TextContent and text.text == "a"
    assert type(link) is wire.Unknown and link == RESOURCE_LINK
    assert wire.encode(value) == data


@pytest.mark.parametrize("revision", REVISIONS)
def test_unknown_blocks_in_every_content_union(revision: str) -> None:
    mod = module(revision)
    block = {"type": "hologram", "frames": [1, 2.5]}
    stateless = mod.STATELESS
    result: dict[str, Any] = {"content": [block]} | ({"resultType": "complete"} if stateless else {})
    assert read("tools/call", json.dumps(result).encode(), mod).content == [block]
    prompt: dict[str, Any] = {"messages": [{"role": "user", "content": block}]}
    assert read("prompts/get", json.dumps(prompt).encode(), mod).messages[0].content == block
    # Sampling content: a server's sampling request (params) and a client's answer to it.
    message = {"role": "user", "content": block}
    params = {"messages": [message], "maxTokens": 10}
    sampling = mod.REQUESTS["sampling/createMessage"]
    decoded = wire.decoder(sampling.params_type).decode(json.dumps(params).encode())
    assert type(decoded.messages[0].content) is wire.Unknown
    answer = {"role": "assistant", "content": block, "model": "m"}
    assert read("sampling/createMessage", json.dumps(answer).encode(), mod).content == block
    with pytest.raises(msgspec.ValidationError, match="hologram"):
        wire.convert(result, mod.REQUESTS["tools/call"].result_type)


def test_unknown_blocks_deep_in_an_input_required_result() -> None:
    message = {"role": "user", "content": {"type": "hologram"}}
    data = json.dumps(
        {
            "resultType": "input_required",
            "inputRequests": {
                "s": {"method": "sampling/createMessage", "params": {"messages": [message], "maxTokens": 5}}
            },
        },
        separators=(",", ":"),
    ).encode()
    value = read("tools/call", data)
    assert type(value) is v2026.InputRequiredResult
    assert type(value.input_requests["s"].params.messages[0].content) is wire.Unknown
    assert json.loads(wire.encode(value)) == json.loads(data)


@pytest.mark.parametrize(
    ("block", "error"),
    [
        ({"text": "a"}, r"missing required field `type` - at `\$\.content\[0\]`"),
        ({"type": 5}, r"Expected `str`, got `number` - at `\$\.content\[0\]\.type`"),
        ({"type": "text"}, r"missing required field `text` - at `\$\.content\[0\]`"),
    ],
)
def test_a_block_must_still_say_its_kind(block: dict[str, Any], error: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=error):
        read("tools/call", json.dumps({"content": [block]}).encode(), v2024)


def test_other_errors_still_name_their_path() -> None:
    data = b'{"content":[{"type":"hologram"}],"isError":"no"}'
    with pytest.raises(msgspec.ValidationError, match=r"Expected `bool`, got `str` - at `\$\.isError`"):
        read("tools/call", data, v2024)


def test_a_block_a_revision_lacks_is_refused_when_built() -> None:
    # What the server's result conversion (`wire.convert`) does with a handler's dict result.
    with pytest.raises(msgspec.ValidationError, match="resource_link"):
        wire.convert({"content": [RESOURCE_LINK]}, v2024.CallToolResult)


# -- end to end: a real client over stdio, against a peer that speaks beyond the negotiated revision ---

#: A stdio peer that answers each request with the canned result for its method (argv[1], JSON), as a
#: server of a later revision or with an extension would: no mcpbind, nothing checked.
RAW_PEER = """
import json, sys
answers = json.loads(sys.argv[1])
for line in sys.stdin:
    message = json.loads(line)
    if "id" not in message or "method" not in message:
        continue
    method = message["method"]
    if method == "initialize":
        result = {"protocolVersion": message["params"]["protocolVersion"], "capabilities": {"tools": {}},
                  "serverInfo": {"name": "raw", "version": "1"}}
    else:
        result = answers.get(method)
    if result is None:
        reply = {"jsonrpc": "2.0", "id": message["id"], "error": {"code": -32601, "message": method}}
    else:
        reply = {"jsonrpc": "2.0", "id": message["id"], "result": result}
    sys.stdout.write(json.dumps(reply) + "\\n")
    sys.stdout.flush()
"""


async def call_raw_peer(tmp_path: Any, mode: Any, answers: dict[str, Any], *, stub: bool = False) -> Any:
    script = tmp_path / "raw_peer.py"
    script.write_text(RAW_PEER)
    client = Client.stdio(sys.executable, [str(script), json.dumps(answers)], mode=mode, request_timeout=10.0)
    async with asyncio.timeout(30):
        async with client:
            if stub:  # the revision's own types, as the server sent them
                return await client.request("tools/call", {"name": "links"})
            return await client.call_tool("links")


def test_a_pinned_client_keeps_a_newer_block(tmp_path: Any) -> None:
    answers = {"tools/call": {"content": [{"type": "text", "text": "a"}, RESOURCE_LINK]}}
    result = asyncio.run(call_raw_peer(tmp_path, "2024-11-05", answers, stub=True))
    assert type(result) is v2024.CallToolResult
    assert type(result.content[0]) is v2024.TextContent
    assert result.content[1] == RESOURCE_LINK and type(result.content[1]) is wire.Unknown
    # Client.call_tool answers in the newest revision's types: the block 2024-11-05 lacked is typed there.
    typed = asyncio.run(call_raw_peer(tmp_path, "2024-11-05", answers))
    assert type(typed) is v2026.CallToolResult and typed.result_type == "complete"
    assert type(typed.content[0]) is v2026.TextContent and typed.content[0].text == "a"
    assert type(typed.content[1]) is v2026.ResourceLink and typed.content[1].uri == RESOURCE_LINK["uri"]
    # Every member the block's type declares is kept (an undeclared one, as with any Struct, is not).
    assert wire.to_builtins(typed.content[1]) == {k: v for k, v in RESOURCE_LINK.items() if k != "x-new"}


def test_a_client_gets_an_unknown_result_kind_whole(tmp_path: Any) -> None:
    discover = {
        "supportedVersions": ["2026-07-28"],
        "capabilities": {"tools": {}},
        "resultType": "complete",
        "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "raw", "version": "1"}},
    }
    task = json.loads(TASK)
    answers = {"server/discover": discover, "tools/call": task}
    result = asyncio.run(call_raw_peer(tmp_path, "2026-07-28", answers, stub=True))
    assert type(result) is wire.Unknown and result == task  # not an InputRequiredResult to retry
    # call_tool, typed to return a CallToolResult, raises instead, the result kept whole in the error.
    with pytest.raises(UnexpectedResult) as caught:
        asyncio.run(call_raw_peer(tmp_path, "2026-07-28", answers))
    assert caught.value.result == task and "'task' result" in caught.value.message


SERVER = """
import sys
from mcpbind.server import Server

server = Server("links", "1.0.0")


@server.tool()
def links():  # no return annotation: the blocks are its content
    return [{"type": "text", "text": "a"}, {"type": "resource_link", "uri": "file:///a.txt", "name": "a"}]


@server.tool()
def echo(text: str) -> str:
    return text


server.run_stdio()
"""


def test_a_server_never_sends_a_block_its_revision_lacks(tmp_path: Any) -> None:
    script = tmp_path / "links_server.py"
    script.write_text(SERVER)
    asyncio.run(against_links_server(str(script)))


async def against_links_server(script: str) -> None:
    async with asyncio.timeout(30):
        async with Client.stdio(sys.executable, [script], mode="2024-11-05") as client:
            with pytest.raises(McpError):  # refused: the server answers an error, and lives on
                await client.call_tool("links")
            echoed = await client.call_tool("echo", {"text": "still here"})
            assert echoed.content[0].text == "still here"
        async with Client.stdio(sys.executable, [script], mode="2025-06-18") as client:
            result = await client.call_tool("links")
            assert type(result.content[1]).__name__ == "ResourceLink"
