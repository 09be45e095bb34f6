"""A client's error answer to a tool's own request (sampling, elicitation) is a failure of the tool, not
of the call: a tool that lets it escape answers an `isError` result naming the method and the client's
error (the spec reports errors in tool execution in the result; the TypeScript and Python SDK servers
answer any exception out of a tool so). Before, the call failed with the client's error as a JSON-RPC
error. A tool that catches it goes on as before, and an `McpError` a tool raises itself is still the
call's JSON-RPC error. In memory and over Streamable HTTP under real uvicorn."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mcpbind.client import Client
from mcpbind.errors import McpError
from mcpbind.server import Context, Server

from ..http_support import serve_in_process


def asking_server() -> Server:
    server = Server("asking", "1.0.0")

    @server.tool()
    async def summarize(ctx: Context) -> str:
        """Ask the client's model, and let a failure escape."""
        answer = await ctx.sample([{"role": "user", "content": {"type": "text", "text": "hi"}}], 10)
        return str(answer.content.text)

    @server.tool()
    async def confirm(ctx: Context) -> str:
        """Ask the user, and let a failure escape."""
        outcome = await ctx.elicit("Sure?", {"type": "object", "properties": {}})
        return outcome.action

    @server.tool()
    async def careful(ctx: Context) -> str:
        """Ask the client's model, and catch a failure."""
        try:
            await ctx.sample([{"role": "user", "content": {"type": "text", "text": "hi"}}], 10)
        except McpError as exc:
            return f"caught {exc.code}"
        return "answered"

    @server.tool()
    async def strict(ctx: Context) -> str:
        """Ask, then raise an McpError of its own (the call's error)."""
        try:
            await ctx.sample([{"role": "user", "content": {"type": "text", "text": "hi"}}], 10)
        except McpError:
            raise McpError("strict says no", code=-32099) from None
        return "answered"

    return server


async def refuse_sampling(params: Any) -> Any:
    raise McpError("the user declined to sample", code=-32603)


async def refuse_elicitation(params: Any) -> Any:
    raise McpError("no user here", code=-1)


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 90))


async def check(client: Client) -> None:
    failed = await client.call_tool("summarize", {})
    assert failed.is_error is True
    said = failed.content[0].text  # type: ignore[union-attr]
    assert said == (
        "Tool summarize failed: the client's answer to sampling/createMessage was an error (-32603): "
        "the user declined to sample"
    )
    failed = await client.call_tool("confirm", {})
    assert failed.is_error is True
    assert "elicitation/create was an error (-1): no user here" in failed.content[0].text  # type: ignore[union-attr]
    caught = await client.call_tool("careful", {})
    assert caught.is_error is not True and caught.content[0].text == "caught -32603"  # type: ignore[union-attr]
    with pytest.raises(McpError, match="strict says no") as own:
        await client.call_tool("strict", {})
    assert own.value.code == -32099


@pytest.mark.parametrize("revision", ["2024-11-05", "2025-06-18", "2025-11-25"])
def test_a_client_error_answer_to_a_tools_request_is_an_error_result_in_memory(revision: str) -> None:
    async def main() -> None:
        async with Client.memory(
            asking_server(), mode=revision, sampling=refuse_sampling, elicitation=refuse_elicitation
        ) as client:
            await check(client)

    if revision == "2024-11-05":  # (no elicitation in that revision: sampling only)

        async def main_sampling_only() -> None:
            async with Client.memory(asking_server(), mode=revision, sampling=refuse_sampling) as client:
                failed = await client.call_tool("summarize", {})
                assert failed.is_error is True
                assert "sampling/createMessage was an error (-32603)" in failed.content[0].text  # type: ignore[union-attr]

        run(main_sampling_only())
        return
    run(main())


def test_a_client_error_answer_to_a_tools_request_is_an_error_result_over_http() -> None:
    async def main(url: str) -> None:
        async with Client.http(
            url, mode="2025-11-25", sampling=refuse_sampling, elicitation=refuse_elicitation
        ) as client:
            await check(client)

    with serve_in_process(asking_server().http_app()) as url:
        run(main(url))
