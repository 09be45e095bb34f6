"""The official MCP Inspector's CLI (`@modelcontextprotocol/inspector --cli`) against mcpbind's server
(tests/interop_ts/server.py) over stdio and Streamable HTTP, in both eras (`--protocol-era legacy`:
2025-11-25 with `initialize`; `modern`: 2026-07-28): tools, resources and prompts.

Each case is one Inspector run (`--format json -q`: one JSON object on stdout). Its HOME is a
temporary folder, so that its catalog and client config never touch the user's.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .common import INSPECTOR, OUR_SERVER, node, require_toolchain, serve_ours

ERAS = ("legacy", "modern")
TRANSPORTS = ("stdio", "http")
#: The Inspector exits 5 when a called tool answers isError: true.
TOOL_IS_ERROR = 5


@pytest.fixture(scope="module")
def http_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_toolchain()
    with serve_ours(tmp_path_factory.mktemp("inspector")) as port:
        yield f"http://127.0.0.1:{port}/mcp"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("inspector-home")


def inspect(
    transport: str, era: str, request: pytest.FixtureRequest, *args: str, status: int = 0
) -> dict[str, Any]:
    """Run the Inspector CLI once; returns its result (or the whole envelope when it is no result)."""
    require_toolchain()
    if transport == "stdio":
        target = [sys.executable, OUR_SERVER, "--transport", "stdio"]
    else:
        target = [request.getfixturevalue("http_url"), "--transport", "http"]
    home: Path = request.getfixturevalue("home")
    command = [str(INSPECTOR), "--cli", *target, "--format", "json", "-q", "--protocol-era", era, *args]
    done = node(command, timeout=60, env={"HOME": str(home)})
    assert done.returncode == status, (
        f"inspector {' '.join(args)} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    )
    envelope: dict[str, Any] = json.loads(done.stdout)
    result: dict[str, Any] = envelope.get("result", envelope)
    return result


parametrize = pytest.mark.parametrize(
    ("transport", "era"), [pytest.param(t, e, id=f"{t}-{e}") for t in TRANSPORTS for e in ERAS]
)


@parametrize
def test_tools(transport: str, era: str, request: pytest.FixtureRequest) -> None:
    listed = inspect(transport, era, request, "--method", "tools/list")
    names = [t["name"] for t in listed["tools"]]
    # The server pages by 4: the Inspector walks every page.
    assert {"test_simple_text", "test_x_mcp_header", "test_slow"} <= set(names), names
    assert len(names) == len(set(names)) > 30
    schema = next(t for t in listed["tools"] if t["name"] == "test_x_mcp_header")["inputSchema"]
    assert schema["required"] == ["region"]

    called = inspect(transport, era, request, "--method", "tools/call", "--tool-name", "test_simple_text")
    assert called["content"] == [{"type": "text", "text": "This is a simple text response for testing."}]
    # The era shows in the result: 2026-07-28 results name the server in their _meta.
    server_info = called.get("_meta", {}).get("io.modelcontextprotocol/serverInfo")
    assert (server_info is not None) == (era == "modern"), called

    # Arguments, one of them mirrored into an Mcp-Param-Region header on 2026-07-28 HTTP.
    args = ("--tool-name", "test_x_mcp_header", "--tool-arg", "region=eu", "query=q")
    called = inspect(transport, era, request, "--method", "tools/call", *args)
    assert called["content"][0]["text"] == "region=eu query=q"


@parametrize
def test_tool_error(transport: str, era: str, request: pytest.FixtureRequest) -> None:
    args = ("--method", "tools/call", "--tool-name", "test_error_handling")
    envelope = inspect(transport, era, request, *args, status=TOOL_IS_ERROR)
    assert "isError" in json.dumps(envelope), envelope


@parametrize
def test_resources(transport: str, era: str, request: pytest.FixtureRequest) -> None:
    listed = inspect(transport, era, request, "--method", "resources/list")
    assert {"test://static-text", "test://static-binary"} <= {r["uri"] for r in listed["resources"]}
    templates = inspect(transport, era, request, "--method", "resources/templates/list")
    uri_templates = {t["uriTemplate"] for t in templates["resourceTemplates"]}
    assert uri_templates == {"test://template/{id}/data", "test://decorated/{part}"}
    read = inspect(transport, era, request, "--method", "resources/read", "--uri", "test://static-text")
    assert read["contents"][0]["text"] == "This is the content of the static text resource."
    read = inspect(transport, era, request, "--method", "resources/read", "--uri", "test://template/7/data")
    assert json.loads(read["contents"][0]["text"])["id"] == "7"


@parametrize
def test_prompts(transport: str, era: str, request: pytest.FixtureRequest) -> None:
    listed = inspect(transport, era, request, "--method", "prompts/list")
    names = {p["name"] for p in listed["prompts"]}
    assert {"test_simple_prompt", "test_prompt_with_arguments"} <= names, names
    args = ("--prompt-name", "test_prompt_with_arguments", "--prompt-args", "arg1=a", "arg2=b")
    got = inspect(transport, era, request, "--method", "prompts/get", *args)
    assert got["messages"][0]["content"]["text"] == "Prompt with arguments: arg1='a', arg2='b'"
