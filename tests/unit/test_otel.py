"""The tracing middleware with the OpenTelemetry SDK's in-memory exporter: spans per request, parented on
the trace context a request's `_meta` carries, errors marked; both eras, through the in-memory client."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

pytest.importorskip("opentelemetry.sdk")

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from mcpbind.client import Client
from mcpbind.errors import InvalidParams, McpError
from mcpbind.server import Server, ToolError
from mcpbind.server.otel import tracing

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"


def traced_server() -> tuple[Server, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    server = Server("traced", middleware=[tracing(provider)])

    @server.tool()
    def add(a: int, b: int) -> int:
        return a + b

    @server.tool()
    def refuse() -> str:
        raise ToolError("no")

    @server.tool()
    def invalid() -> str:
        raise InvalidParams("bad input")

    return server, exporter


@pytest.mark.parametrize("mode", ["2025-11-25", "2026-07-28"])
def test_spans_follow_the_trace_context_in_meta(mode: str) -> None:
    server, exporter = traced_server()

    async def main() -> None:
        async with Client.memory(server, mode=mode) as client:
            meta = {"traceparent": TRACEPARENT, "tracestate": "vendor=x"}
            result: Any = await client.request(
                "tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}}, meta=meta
            )
            assert result.content[0].text == "3"
            await client.call_tool("add", {"a": 0, "b": 0})  # no trace context: a trace of its own
            assert (await client.call_tool("refuse", {})).is_error is True
            with pytest.raises(McpError, match="bad input"):
                await client.call_tool("invalid", {})

    asyncio.run(asyncio.wait_for(main(), 60))
    spans = {(s.name, i): s for i, s in enumerate(exporter.get_finished_spans())}
    calls = [s for (name, _), s in spans.items() if name.startswith("tools/call")]
    assert [s.name for s in calls] == [
        "tools/call add",
        "tools/call add",
        "tools/call refuse",
        "tools/call invalid",
    ]
    linked, alone, refused, invalid = calls
    assert linked.kind is SpanKind.SERVER
    assert linked.context is not None and format(linked.context.trace_id, "032x") == TRACE_ID
    assert linked.parent is not None and format(linked.parent.span_id, "016x") == PARENT_ID
    assert linked.parent.trace_state.get("vendor") == "x"
    assert linked.attributes is not None
    assert linked.attributes["gen_ai.tool.name"] == "add"
    assert linked.attributes["mcp.protocol.version"] == mode
    assert linked.status.status_code is StatusCode.UNSET
    assert (
        alone.parent is None
        and alone.context is not None
        and format(alone.context.trace_id, "032x") != TRACE_ID
    )
    assert refused.status.status_code is StatusCode.ERROR and refused.attributes is not None
    assert refused.attributes["error.type"] == "tool_error"
    assert invalid.status.status_code is StatusCode.ERROR and invalid.attributes is not None
    assert invalid.attributes["rpc.response.status_code"] == "-32602"
    if mode == "2025-11-25":
        assert any(name == "initialize" for name, _ in spans)
        assert any(name == "notifications/initialized" for name, _ in spans)
