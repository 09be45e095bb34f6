"""The official Python SDK's client (`mcp` 2.x) against mcpbind's everything server
(tests/interop_ts/server.py: examples/everything_server.py with pages of 4, structured tools, a URL
elicitation and a cancellable tool), over stdio and Streamable HTTP, in both eras, through the
features its users reach for beyond tools/resources/prompts: structured results the SDK validates
against each tool's outputSchema (jsonschema), completion for a prompt and a resource template,
roots, URL-mode elicitation, resource subscriptions (subscribe in the session era, `listen` in
2026-07-28) and cancelling a call."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest

pytest.importorskip("mcp")

from mcp import Client as SdkClient
from mcp import StdioServerParameters
from mcp.shared.subscriptions import ResourceUpdated
from mcp.types import (
    ElicitResult,
    ListRootsResult,
    PromptReference,
    ResourceTemplateReference,
    ResourceUpdatedNotification,
    Root,
)

from ..http_support import free_port, serve_command
from .common import run

SERVER = str(Path(__file__).resolve().parents[1] / "interop_ts" / "server.py")
CASES = [("auto", "2026-07-28"), ("legacy", "2025-11-25")]
READ_TIMEOUT = 20.0
WATCHED = "test://watched-resource"


@asynccontextmanager
async def sdk_client(transport: str, mode: str, **options: Any) -> AsyncIterator[SdkClient]:
    if transport == "stdio":
        params = StdioServerParameters(command=sys.executable, args=[SERVER, "--transport", "stdio"])
        async with SdkClient(params, mode=mode, read_timeout_seconds=READ_TIMEOUT, **options) as client:
            yield client
        return
    port = free_port()
    with serve_command(port, SERVER, "--transport", "http", "--port", str(port)):
        url = f"http://127.0.0.1:{port}/mcp"
        async with SdkClient(url, mode=mode, read_timeout_seconds=READ_TIMEOUT, **options) as client:
            yield client


def texts(result: Any) -> str:
    assert not result.is_error, result
    return "\n".join(c.text for c in result.content if c.type == "text")


@pytest.mark.parametrize("transport", ["stdio", "http"])
@pytest.mark.parametrize(("mode", "expected"), CASES)
def test_sdk_client_uses_the_everything_server(transport: str, mode: str, expected: str) -> None:
    updates: list[str] = []
    asked: list[Any] = []

    async def messages(message: Any) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            updates.append(str(message.params.uri))

    async def roots(context: Any) -> ListRootsResult:
        return ListRootsResult(roots=[Root(uri="file:///tmp/sdk-a"), Root(uri="file:///tmp/sdk-b")])

    async def elicitation(context: Any, params: Any) -> ElicitResult:
        asked.append(params)
        return ElicitResult(action="accept")

    options = {"list_roots_callback": roots, "elicitation_callback": elicitation, "message_handler": messages}

    async def main() -> None:
        async with sdk_client(transport, mode, **options) as client:
            assert client.protocol_version == expected
            # Every page: the SDK learns each tool's outputSchema from the listing.
            tools, cursor = [], None
            for _ in range(50):
                page = await client.list_tools(cursor=cursor)
                tools.extend(page.tools)
                if not (cursor := page.next_cursor):
                    break
            assert {"test_structured_points", "test_url_elicitation"} <= {t.name for t in tools}

            # Structured results, validated by the SDK against the listed schemas (a `$ref` that does
            # not resolve, or a result that does not fit, fails the call).
            weather = await client.call_tool("test_structured_weather", {"city": "Oslo"})
            assert weather.structured_content["wind"] == {"speed_kmh": 12.0, "direction": "NW"}
            points = await client.call_tool("test_structured_points", {"count": 2})
            assert points.structured_content == {
                "result": [{"x": 0, "y": 0, "label": "origin"}, {"x": 1, "y": 2, "label": "other"}]
            }
            number = await client.call_tool("test_structured_number", {"a": 2, "b": 5})
            assert number.structured_content == {"result": 7}

            prompt = await client.complete(
                PromptReference(name="test_prompt_with_arguments"), {"name": "arg1", "value": "pa"}
            )
            assert prompt.completion.values == ["paris", "park", "party"]
            template = await client.complete(
                ResourceTemplateReference(uri="test://template/{id}/data"), {"name": "id", "value": "1"}
            )
            assert template.completion.values == ["1", "123"]

            assert (
                texts(await client.call_tool("test_input_required_result_list_roots", {}))
                == "Found 2 root(s)"
            )
            assert (
                texts(await client.call_tool("test_url_elicitation", {})) == "URL elicitation: action=accept"
            )
            assert asked[-1].mode == "url" and asked[-1].url == "https://example.invalid/confirm"

            if expected == "2026-07-28":
                async with client.listen(resource_subscriptions=[WATCHED]) as subscription:
                    texts(await client.call_tool("test_update_watched_resource", {}))
                    with anyio.fail_after(10):
                        async for event in subscription:
                            assert event == ResourceUpdated(uri=WATCHED)
                            break
            else:
                await client.subscribe_resource(WATCHED)
                texts(await client.call_tool("test_update_watched_resource", {}))
                with anyio.fail_after(10):
                    while WATCHED not in updates:
                        await anyio.sleep(0.02)
                await client.unsubscribe_resource(WATCHED)
            read = await client.read_resource(WATCHED)
            assert "updated" in read.contents[0].text

            # A call cancelled by its caller: the SDK sends notifications/cancelled, the server's
            # handler is cancelled (it counts), and the connection goes on.
            before = texts(await client.call_tool("test_cancelled_count", {}))
            with anyio.move_on_after(0.5):
                await client.call_tool("test_slow", {})
                raise AssertionError("test_slow answered")
            wanted = f"cancelled={int(before.split('=')[1]) + 1}"
            with anyio.fail_after(10):
                while texts(await client.call_tool("test_cancelled_count", {})) != wanted:
                    await anyio.sleep(0.05)

    run(main())
