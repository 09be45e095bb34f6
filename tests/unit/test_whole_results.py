"""A tool annotated as returning a revision's `CallToolResult` builds its whole result; a class of the
user's own that shares that name is structured data like any other."""

from __future__ import annotations

import msgspec

from mcpbind.generated import v2026_07_28
from mcpbind.server import Context
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
