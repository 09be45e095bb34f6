"""A tool annotated as returning a revision's `CallToolResult` builds its whole result; a class of the
user's own that shares that name is structured data like any other."""

from __future__ import annotations

import asyncio

import msgspec

from mcpbind.client import Client
from mcpbind.generated import v2026_07_28
from mcpbind.server import Context, Server
from mcpbind.server.signature import inspect_function


class CallToolResult(msgspec.Struct):
    score: int


def graded() -> v2026_07_28.CallToolResult:
    raise NotImplementedError


def own() -> CallToolResult:
    raise NotImplementedError


def test_a_revisions_call_tool_result_is_the_whole_result() -> None:
    assert inspect_function(graded, Context, name="graded").output_schema is None


def test_a_users_class_of_that_name_is_structured_output() -> None:
    schema = inspect_function(own, Context, name="own").output_schema
    assert schema is not None and schema["properties"] == {"score": {"type": "integer"}}


def test_a_users_class_of_that_name_returned_unannotated_is_its_json_text() -> None:
    server = Server("whole")

    @server.tool()
    def scored():  # type: ignore[no-untyped-def]  # (no return annotation: the case under test)
        return CallToolResult(score=3)

    async def main() -> None:
        async with Client.memory(server) as client:
            result = await client.call_tool("scored", {})
            assert not result.is_error
            assert msgspec.json.decode(result.content[0].text) == {"score": 3}

    asyncio.run(asyncio.wait_for(main(), 30))
