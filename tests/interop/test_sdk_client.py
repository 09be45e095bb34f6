"""The official Python SDK's client (`mcp` 2.x) against mcpbind's stdio server (tests/servers/full.py).

Every connection runs through `relay.py`, which records each line both ways; the recorded frames are
then validated against the negotiated revision's schema. One connection goes without the relay, so
that the relay cannot be what makes the others pass.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mcp")

from mcp import Client as SdkClient
from mcp import StdioServerParameters
from mcp.shared.exceptions import MCPError

from .common import MCPBIND_SERVER, RELAY, RelayLog, children, run, validate, wait_gone

MODERN = "2026-07-28"
LEGACY = "2025-11-25"
STATEFUL = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")

#: How long the SDK waits for any one answer.
READ_TIMEOUT = 20.0


@pytest.fixture
def relay_log(tmp_path: Path) -> Iterator[RelayLog]:
    log = RelayLog(tmp_path / "frames.jsonl")
    yield log
    # Whatever the test's outcome, neither the relay nor the server may outlive it.
    if log.path.exists() and any("relay" in e for e in log.entries()):
        for pid in wait_gone(log.pids(), timeout=5.0):
            os.kill(pid, signal.SIGKILL)


def relayed(log: RelayLog, *server_args: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=[RELAY, str(log.path), "--", sys.executable, MCPBIND_SERVER, *server_args],
    )


def direct(*server_args: str) -> StdioServerParameters:
    return StdioServerParameters(command=sys.executable, args=[MCPBIND_SERVER, *server_args])


async def all_tools(client: SdkClient) -> list[Any]:
    """Every page of tools/list (full.py pages by three)."""
    tools: list[Any] = []
    cursor: str | None = None
    for _ in range(100):
        page = await client.list_tools(cursor=cursor)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if not cursor:
            return tools
    raise AssertionError("tools/list never ended")


async def exercise(client: SdkClient) -> None:
    """Lists and calls tools, reads a resource, gets a prompt: what every connection must do."""
    tools = await all_tools(client)
    names = [t.name for t in tools]
    assert names[:3] == ["echo", "add", "fail"] and len(names) == len(set(names)) > 10
    add = next(t for t in tools if t.name == "add")
    assert add.input_schema["properties"]["a"] == {"type": "integer"}
    assert add.input_schema["required"] == ["a"]

    echoed = await client.call_tool("echo", {"text": "hi"})
    assert not echoed.is_error and echoed.content[0].text == "hi"

    added = await client.call_tool("add", {"a": 2, "b": 3})
    assert not added.is_error
    assert json.loads(added.content[0].text) == {"total": 5, "terms": [2, 3]}
    if client.protocol_version >= "2025-06-18":  # structuredContent exists from 2025-06-18 on
        assert added.structured_content == {"total": 5, "terms": [2, 3]}

    failed = await client.call_tool("fail", {"message": "nope"})
    assert failed.is_error and failed.content[0].text == "nope"
    bad = await client.call_tool("add", {"a": "two"})
    assert bad.is_error
    with pytest.raises(MCPError, match="Unknown tool"):
        await client.call_tool("missing", {})

    resources = await client.list_resources()
    assert "memo://hello" in [str(r.uri) for r in resources.resources]
    read = await client.read_resource("memo://hello")
    assert [(str(c.uri), c.text, c.mime_type) for c in read.contents] == [
        ("memo://hello", "hello world", "text/plain")
    ]
    templated = await client.read_resource("memo://items/x")
    assert json.loads(templated.contents[0].text) == {"item": "x"}
    with pytest.raises(MCPError):
        await client.read_resource("memo://nowhere")

    prompts = await client.list_prompts()
    greet = next(p for p in prompts.prompts if p.name == "greet")
    assert [(a.name, a.required) for a in greet.arguments or []] == [("name", True), ("style", False)]
    got = await client.get_prompt("greet", {"name": "Ada"})
    assert [(m.role, m.content.text) for m in got.messages] == [("user", "Greet Ada in a plain way.")]
    with pytest.raises(MCPError):
        await client.get_prompt("missing", {})


async def session(params: StdioServerParameters, mode: str) -> tuple[str, Any]:
    async with SdkClient(params, mode=mode, read_timeout_seconds=READ_TIMEOUT) as client:
        await exercise(client)
        return client.protocol_version, client.server_info


# (SDK client mode, what mcpbind's server is told to serve, the revision they must agree on)
CASES = [
    pytest.param("auto", None, MODERN, id="auto"),
    pytest.param("legacy", None, LEGACY, id="legacy"),
    pytest.param(MODERN, None, MODERN, id="pinned-2026-07-28"),
    pytest.param("auto", ",".join(STATEFUL), LEGACY, id="auto-vs-stateful-only-server"),
    pytest.param("legacy", "2025-06-18", "2025-06-18", id="legacy-vs-2025-06-18-server"),
    pytest.param("legacy", "2025-03-26", "2025-03-26", id="legacy-vs-2025-03-26-server"),
    pytest.param("legacy", "2024-11-05", "2024-11-05", id="legacy-vs-2024-11-05-server"),
]


@pytest.mark.parametrize(("mode", "served", "expected"), CASES)
def test_sdk_client_against_mcpbind_server(
    relay_log: RelayLog, mode: str, served: str | None, expected: str
) -> None:
    server_args = ("--revisions", served) if served else ()
    version, info = run(session(relayed(relay_log, *server_args), mode))
    assert version == expected
    if mode != MODERN:  # a pinned SDK client adopts a synthesized discover result: no serverInfo
        assert info is not None and (info.name, info.version) == ("full", "2.0.0")

    assert not wait_gone(relay_log.pids()), "the relay and the server must be gone"
    frames = relay_log.frames()
    sent = relay_log.methods("client")
    if expected == MODERN:
        assert "initialize" not in sent
        if mode == "auto":
            assert sent[0] == "server/discover"
    else:
        assert sent[0] in ("initialize", "server/discover")
        assert "notifications/initialized" in sent
    # The probe of an auto client that ends up initializing belongs to no stateful revision.
    checked = validate(frames, expected, skip_probe=expected != MODERN)
    assert checked >= 20


def test_sdk_client_without_relay() -> None:
    for mode, expected in (("auto", MODERN), ("legacy", LEGACY)):
        version, _ = run(session(direct(), mode))
        assert version == expected
        assert not wait_gone(children()), "the server must be gone"


def test_sdk_pinned_modern_against_stateful_only_server(relay_log: RelayLog) -> None:
    """A client pinned to 2026-07-28 must be refused (not served) by a server that only initializes."""

    async def main() -> None:
        params = relayed(relay_log, "--revisions", LEGACY)
        async with SdkClient(params, mode=MODERN, read_timeout_seconds=READ_TIMEOUT) as client:
            with pytest.raises(MCPError):
                await client.list_tools()

    run(main())
    assert not wait_gone(relay_log.pids())
    answers = [m for s, m in relay_log.frames() if s == "server"]
    assert answers and all("error" in m for m in answers)
