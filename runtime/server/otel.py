"""OpenTelemetry tracing as middleware (`pip install 'mcpbind[otel]'`): one server span per request and
notification, a child of the caller's trace when the request's `_meta` carries W3C trace context.

    from mcpbind.server.otel import tracing

    server = Server("demo", middleware=[tracing()])

MCP carries no HTTP headers end to end (stdio, proxies), so trace context travels in the params'
`_meta` as `traceparent`, `tracestate` and `baggage` (the keys and values of the W3C headers), as the
OpenTelemetry semantic conventions for MCP put it; the globally configured propagator reads them
(W3C trace context and baggage unless configured otherwise). Spans are named `{method} {target}`
(`tools/call add`) and carry `mcp.method.name`, `mcp.protocol.version`, `jsonrpc.request.id`, the
tool, prompt or resource, and, when the call fails, `error.type` and `rpc.response.status_code`.
A tool result with `isError` marks the span as an error too.

Only this module imports OpenTelemetry (its API; an application brings the SDK and exporters).
"""

from __future__ import annotations

from typing import Any, Final

from opentelemetry import trace
from opentelemetry.propagate import extract
from opentelemetry.trace import SpanKind, Status, StatusCode, TracerProvider

from .. import __version__
from ..errors import McpError
from .middleware import Call, Middleware, Next

__all__ = ["tracing", "TRACE_KEYS"]

TRACE_KEYS: Final = ("traceparent", "tracestate", "baggage")
"""The `_meta` keys trace context is read from."""

_TARGETS: Final = {
    "tools/call": ("name", "gen_ai.tool.name"),
    "prompts/get": ("name", "gen_ai.prompt.name"),
    "resources/read": ("uri", "mcp.resource.uri"),
    "resources/subscribe": ("uri", "mcp.resource.uri"),
    "resources/unsubscribe": ("uri", "mcp.resource.uri"),
}
"""Per method, the params member that names what it acts on, and the span attribute for it."""


def _target(call: Call) -> tuple[str, str] | None:
    found = _TARGETS.get(call.method)
    if found is None or call.params is None:
        return None
    member, attribute = found
    value = call.params.get(member) if isinstance(call.params, dict) else getattr(call.params, member, None)
    return (attribute, value) if isinstance(value, str) else None


def _is_tool_error(result: Any) -> bool:
    flag = result.get("isError") if isinstance(result, dict) else getattr(result, "is_error", None)
    return flag is True


def tracing(tracer_provider: TracerProvider | None = None) -> Middleware:
    """A middleware that traces every call (`tracer_provider`: the global one unless given)."""
    tracer = trace.get_tracer("mcpbind", __version__, tracer_provider=tracer_provider)

    async def traced(call: Call, call_next: Next) -> Any:
        meta = call.meta
        carrier = {key: value for key in TRACE_KEYS if isinstance(value := meta.get(key), str)}
        parent = extract(carrier) if carrier else None
        attributes: dict[str, Any] = {"mcp.method.name": call.method}
        if call.revision is not None:
            attributes["mcp.protocol.version"] = call.revision
        if call.request_id is not None:
            attributes["jsonrpc.request.id"] = str(call.request_id)
        name = call.method
        target = _target(call)
        if target is not None:
            attributes[target[0]] = target[1]
            name = f"{call.method} {target[1]}"
        with tracer.start_as_current_span(
            name, context=parent, kind=SpanKind.SERVER, attributes=attributes, set_status_on_exception=False
        ) as span:
            try:
                result = await call_next(call)
            except McpError as exc:
                span.set_attribute("error.type", str(exc.code))
                span.set_attribute("rpc.response.status_code", str(exc.code))
                span.set_status(Status(StatusCode.ERROR, exc.message))
                raise
            except Exception as exc:
                span.set_attribute("error.type", type(exc).__qualname__)
                span.set_status(Status(StatusCode.ERROR, type(exc).__qualname__))
                raise
            if _is_tool_error(result):
                span.set_attribute("error.type", "tool_error")
                span.set_status(Status(StatusCode.ERROR, "the tool reported an error"))
            return result

    return traced
