"""The conformance "everything server": every tool, resource and prompt the official MCP conformance
suite (@modelcontextprotocol/conformance 0.2.0-alpha.12) calls in its SERVER scenarios, for the frozen
requirement sets of revisions 2025-11-25 (stateful, `initialize`) and 2026-07-28 (stateless,
per-request `_meta`, InputRequiredResult). One `Server` serves both wires at once.

    python examples/everything_server.py --transport stdio
    python examples/everything_server.py --transport http --port 3000
    python examples/everything_server.py --transport websocket --port 3000   # no ASGI server

Over `--transport http`, `ws://127.0.0.1:3000/mcp` takes WebSocket upgrades too (SEP-1288, a
proposal; needs `mcpbind[ws]`).

Names, arguments and texts follow the suite's scenario descriptions and its reference TypeScript server
(examples/servers/typescript/everything-server.ts in modelcontextprotocol/conformance). Scenario ids
are given next to what they exercise.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import logging
import sys
from typing import Annotated, Any

from msgspec import Meta

from mcpbind.errors import McpError
from mcpbind.server import Context, Server, ToolError

log = logging.getLogger("everything_server")

# A 1x1 red PNG and a minimal WAV, as in the reference server.
TEST_IMAGE_BASE64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)
TEST_AUDIO_BASE64 = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA="
WATCHED_RESOURCE_CONTENT = "Watched resource content"

server = Server(
    "mcp-conformance-test-server",
    "1.0.0",
    title="MCP conformance everything server (mcpbind)",
    instructions="Exposes every tool, resource and prompt the MCP conformance suite's server scenarios call.",
)


# -- content helpers (JSON form; the runtime passes dicts with a "type" through unchanged) ----------


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


def image(data: str = TEST_IMAGE_BASE64, mime_type: str = "image/png") -> dict[str, Any]:
    return {"type": "image", "data": data, "mimeType": mime_type}


def audio(data: str = TEST_AUDIO_BASE64, mime_type: str = "audio/wav") -> dict[str, Any]:
    return {"type": "audio", "data": data, "mimeType": mime_type}


def embedded(uri: str, body: str, mime_type: str = "text/plain") -> dict[str, Any]:
    return {"type": "resource", "resource": {"uri": uri, "mimeType": mime_type, "text": body}}


def user(content: dict[str, Any]) -> dict[str, Any]:
    return {"role": "user", "content": content}


# -- input from the client, under a chosen key --------------------------------------------------------
#
# On 2026-07-28 each request for input becomes an entry of InputRequiredResult.inputRequests, and the
# conformance suite checks the entry's KEY (`user_name` in input-required-result-basic-elicitation, and
# input-required-result-ignore-extra-params answers `user_name` up front, without a first round).


async def elicit(ctx: Context, key: str, message: str, schema: dict[str, Any]) -> Any:
    return await ctx.elicit(message, schema, key=key)


async def sample(ctx: Context, key: str, prompt: str, max_tokens: int) -> Any:
    return await ctx.sample([user(text(prompt))], max_tokens, key=key)


async def list_roots(ctx: Context, key: str) -> list[Any]:
    return await ctx.list_roots(key=key)


def sampled_text(result: Any) -> str:
    """The text of a CreateMessageResult (content is one block, or a list of blocks from 2025-11-25)."""
    content = getattr(result, "content", None)
    blocks = content if isinstance(content, list) else [content]
    for block in blocks:
        value = getattr(block, "text", None)
        if isinstance(value, str):
            return value
    return "no response"


def answer_field(outcome: Any, field: str, default: Any = "unknown") -> Any:
    content = getattr(outcome, "content", None) or {}
    return content.get(field, default) if isinstance(content, dict) else default


def one_string(prop: str) -> dict[str, Any]:
    return {"type": "object", "properties": {prop: {"type": "string"}}, "required": [prop]}


# =====================================================================================================
# Tools: both revisions
# =====================================================================================================


@server.tool(annotations={"readOnlyHint": True})
async def test_simple_text() -> str:
    """Tests simple text content response."""  # tools-call-simple-text
    return "This is a simple text response for testing."


@server.tool()
async def test_image_content() -> list[Any]:
    """Tests image content response."""  # tools-call-image
    return [image()]


@server.tool()
async def test_audio_content() -> list[Any]:
    """Tests audio content response."""  # tools-call-audio (mimeType must be audio/wav)
    return [audio()]


@server.tool()
async def test_embedded_resource() -> list[Any]:
    """Tests embedded resource content response."""  # tools-call-embedded-resource
    return [embedded("test://embedded-resource", "This is an embedded resource content.")]


@server.tool()
async def test_multiple_content_types() -> list[Any]:
    """Tests response with multiple content types (text, image, resource)."""  # tools-call-mixed-content
    return [
        text("Multiple content types test:"),
        image(),
        embedded(
            "test://mixed-content-resource",
            json.dumps({"test": "data", "value": 123}, separators=(",", ":")),
            "application/json",
        ),
    ]


@server.tool()
async def test_tool_with_logging(ctx: Context) -> str:
    """Tests tool that emits log messages during execution."""
    # tools-call-with-logging (2025-11-25: the client sets the level with logging/setLevel first;
    # 2026-07-28 logs only when the request carries _meta io.modelcontextprotocol/logLevel).
    await ctx.log("info", "Tool execution started")
    await asyncio.sleep(0.05)
    await ctx.log("info", "Tool processing data")
    await asyncio.sleep(0.05)
    await ctx.log("info", "Tool execution completed")
    return "Tool with logging executed successfully"


@server.tool()
async def test_tool_with_progress(ctx: Context) -> str:
    """Tests tool that reports progress notifications."""
    # tools-call-with-progress: 0/100, 50/100, 100/100 against _meta.progressToken.
    for step in (0, 50, 100):
        if step:
            await asyncio.sleep(0.05)
        await ctx.progress(step, 100, f"Completed step {step} of 100")
    return str(ctx.progress_token if ctx.progress_token is not None else 0)


@server.tool()
async def test_error_handling() -> str:
    """Tests error response handling."""  # tools-call-error: isError true with a text message
    raise ToolError("This tool intentionally returns an error for testing")


@server.tool()
async def test_sampling(
    prompt: Annotated[str, Meta(description="The prompt to send to the LLM")], ctx: Context
) -> str:
    """Tests server-initiated sampling (LLM completion request)."""
    # tools-call-sampling: sampling/createMessage {messages:[user text <prompt>], maxTokens:100}.
    result = await sample(ctx, "sampling", prompt, 100)
    return f"LLM response: {sampled_text(result)}"


@server.tool()
async def test_elicitation(
    message: Annotated[str, Meta(description="The message to show the user")], ctx: Context
) -> str:
    """Tests server-initiated elicitation (user input request)."""
    # tools-call-elicitation: elicitation/create with the scenario's username/email schema.
    schema = {
        "type": "object",
        "properties": {
            "username": {"type": "string", "description": "User's response"},
            "email": {"type": "string", "description": "User's email address"},
        },
        "required": ["username", "email"],
    }
    outcome = await elicit(ctx, "elicitation", message, schema)
    return f"User response: action={outcome.action}, content={json.dumps(outcome.content or {})}"


SEP1034_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "User name", "default": "John Doe"},
        "age": {"type": "integer", "description": "User age", "default": 30},
        "score": {"type": "number", "description": "User score", "default": 95.5},
        "status": {
            "type": "string",
            "description": "User status",
            "enum": ["active", "inactive", "pending"],
            "default": "active",
        },
        "verified": {"type": "boolean", "description": "Verification status", "default": True},
    },
    "required": [],
}


@server.tool()
async def test_elicitation_sep1034_defaults(ctx: Context) -> str:
    """Tests elicitation with default values per SEP-1034."""  # elicitation-sep1034-defaults
    outcome = await elicit(
        ctx, "defaults", "Please review and update the form fields with defaults", SEP1034_SCHEMA
    )
    return f"Elicitation completed: action={outcome.action}, content={json.dumps(outcome.content or {})}"


SEP1330_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "untitledSingle": {
            "type": "string",
            "description": "Select one option",
            "enum": ["option1", "option2", "option3"],
        },
        "titledSingle": {
            "type": "string",
            "description": "Select one option with titles",
            "oneOf": [
                {"const": "value1", "title": "First Option"},
                {"const": "value2", "title": "Second Option"},
                {"const": "value3", "title": "Third Option"},
            ],
        },
        "legacyEnum": {
            "type": "string",
            "description": "Select one option (legacy)",
            "enum": ["opt1", "opt2", "opt3"],
            "enumNames": ["Option One", "Option Two", "Option Three"],
        },
        "untitledMulti": {
            "type": "array",
            "description": "Select multiple options",
            "minItems": 1,
            "maxItems": 3,
            "items": {"type": "string", "enum": ["option1", "option2", "option3"]},
        },
        "titledMulti": {
            "type": "array",
            "description": "Select multiple options with titles",
            "minItems": 1,
            "maxItems": 3,
            "items": {
                "anyOf": [
                    {"const": "value1", "title": "First Choice"},
                    {"const": "value2", "title": "Second Choice"},
                    {"const": "value3", "title": "Third Choice"},
                ]
            },
        },
    },
    "required": [],
}


@server.tool()
async def test_elicitation_sep1330_enums(ctx: Context) -> str:
    """Tests elicitation with enum schema improvements per SEP-1330."""  # elicitation-sep1330-enums
    outcome = await elicit(ctx, "enums", "Please select options from the enum fields", SEP1330_SCHEMA)
    return f"Elicitation completed: action={outcome.action}, content={json.dumps(outcome.content or {})}"


# json-schema-2020-12 (SEP-1613/SEP-2106): tools/list must carry this inputSchema verbatim.
JSON_SCHEMA_2020_12_INPUT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "$defs": {
        "address": {
            "$anchor": "addressDef",
            "type": "object",
            "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
        }
    },
    "properties": {
        "name": {"type": "string"},
        "address": {"$ref": "#/$defs/address"},
        "contactMethod": {"type": "string", "enum": ["phone", "email"]},
        "phone": {"type": "string"},
        "email": {"type": "string"},
    },
    "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
    "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
    "then": {"required": ["phone"]},
    "else": {"required": ["email"]},
    "additionalProperties": False,
}


@server.tool(
    description="Tool with JSON Schema 2020-12 features for conformance testing (SEP-1613)",
    input_schema=JSON_SCHEMA_2020_12_INPUT_SCHEMA,
)
async def json_schema_2020_12_tool(
    name: str | None = None,
    address: dict[str, Any] | None = None,
    contactMethod: str | None = None,
    phone: str | None = None,
    email: str | None = None,
) -> str:
    # The advertised schema is the raw one above; calls are validated against this signature.
    args = {"name": name, "address": address, "contactMethod": contactMethod, "phone": phone, "email": email}
    given = {k: v for k, v in args.items() if v is not None}
    return f"JSON Schema 2020-12 tool called with: {json.dumps(given)}"


@server.tool()
async def test_reconnection(ctx: Context) -> str:
    """Tests SSE stream disconnection and client reconnection (SEP-1699)."""
    # server-sse-polling (pending): close the request's SSE connection (the stream stays open) and
    # answer after the client reconnects with Last-Event-ID.
    ctx.close_sse_stream(retry_ms=500)
    await asyncio.sleep(0.8)
    return (
        "Reconnection test completed successfully. If you received this, the client properly "
        "reconnected after stream closure."
    )


# http-custom-header-server-validation (SEP-2243, pending): a tool whose string parameter is mirrored
# into an `Mcp-Param-Region` header; the HTTP transport must check header against body.
@server.tool(
    description="Tool with an x-mcp-header parameter (SEP-2243 Mcp-Param header mirroring)",
    input_schema={
        "type": "object",
        "properties": {
            "region": {
                "type": "string",
                "description": "Region, mirrored as Mcp-Param-Region",
                "x-mcp-header": "Region",
            },
            "query": {"type": "string", "description": "Not mirrored"},
        },
        "required": ["region"],
    },
)
async def test_x_mcp_header(region: str, query: str = "") -> str:
    return f"region={region} query={query}"


# =====================================================================================================
# Tools: stateless-era diagnostics (server-stateless, SEP-2575) — harmless on 2025-11-25
# =====================================================================================================


@server.tool()
async def test_missing_capability(ctx: Context) -> str:
    """Test tool requiring sampling: without the client's sampling capability it answers -32021."""
    # server-stateless: sent with clientCapabilities {} and must fail with
    # -32021 {requiredCapabilities: {sampling: {}}} (the runtime raises exactly that on 2026-07-28).
    result = await sample(ctx, "sampling", "Say hello", 10)
    return f"Success: {sampled_text(result)}"


@server.tool()
async def test_streaming_elicitation(ctx: Context) -> str:
    """Diagnostic tool validating response streams: progress, then a request for input."""
    # server-stateless (sep-2575-http-server-no-independent-requests-on-stream): on 2026-07-28 the
    # elicitation must come back as InputRequiredResult, never as a server->client request.
    await ctx.progress(50, 100, "half way")
    outcome = await elicit(
        ctx, "confirm", "Continue?", {"type": "object", "properties": {"ok": {"type": "boolean"}}}
    )
    return f"Streaming complete: action={outcome.action}"


@server.tool()
async def test_logging_tool(ctx: Context) -> str:
    """Diagnostic logging validator tool."""
    # server-stateless (sep-2575-server-no-log-without-loglevel): no notifications/message unless
    # the request's _meta carries io.modelcontextprotocol/logLevel (the runtime enforces it).
    await ctx.log("info", "Diagnostic trace logging activated")
    return "Logging evaluated"


async def _dynamic_tool() -> str:
    """A tool removed and registered again, in turn, by test_trigger_tool_change."""
    return "dynamic tool"


def _dynamic_prompt() -> str:
    """A prompt removed and registered again, in turn, by test_trigger_prompt_change."""
    return "dynamic prompt"


server.tool("test_dynamic_tool")(_dynamic_tool)
server.prompt("test_dynamic_prompt")(_dynamic_prompt)


@server.tool()
async def test_trigger_tool_change() -> str:
    """Mutates the tool list (sends tools/list_changed to subscribed listeners)."""
    # server-stateless: subscriptions/listen streams with toolsListChanged get
    # notifications/tools/list_changed; prompts-only streams must not.
    # One change a call (a name registered twice is an error): the tool goes, or comes back. With
    # --workers N --redis URL every worker makes the same change (it was registered in each).
    try:
        server.remove_tool("test_dynamic_tool")
    except KeyError:
        server.tool("test_dynamic_tool")(_dynamic_tool)
    return "Mutation triggered"


@server.tool()
async def test_trigger_prompt_change() -> str:
    """Mutates the prompt list (sends prompts/list_changed to subscribed listeners)."""
    try:
        server.remove_prompt("test_dynamic_prompt")
    except KeyError:
        server.prompt("test_dynamic_prompt")(_dynamic_prompt)
    return "Mutation triggered"


# =====================================================================================================
# Tools: multi round-trip requests (SEP-2322, input-required-result-*, 2026-07-28). On 2025-11-25 the
# same code sends ordinary server->client requests instead.
# =====================================================================================================


@server.tool()
async def test_input_required_result_elicitation(ctx: Context) -> str:
    """MRTR: returns InputRequiredResult with an elicitation request (key user_name)."""
    # basic-elicitation, missing-input-response, result-type, ignore-extra-params, validate-input
    outcome = await elicit(ctx, "user_name", "What is your name?", one_string("name"))
    return f"Hello, {answer_field(outcome, 'name')}!"


@server.tool()
async def test_input_required_result_sampling(ctx: Context) -> str:
    """MRTR: returns InputRequiredResult with a sampling request."""  # basic-sampling
    result = await sample(ctx, "capital_question", "What is the capital of France?", 100)
    return f"Sampling result: {sampled_text(result)}"


@server.tool()
async def test_input_required_result_list_roots(ctx: Context) -> str:
    """MRTR: returns InputRequiredResult with a roots/list request."""  # basic-list-roots
    roots = await list_roots(ctx, "client_roots")
    return f"Found {len(roots)} root(s)"


@server.tool()
async def test_input_required_result_request_state(ctx: Context) -> str:
    """MRTR: returns InputRequiredResult with requestState, validated on retry."""  # request-state
    # requestState is sealed (HMAC) by the runtime and opened before the handler re-runs.
    outcome = await elicit(
        ctx,
        "confirm",
        "Please confirm",
        {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]},
    )
    if answer_field(outcome, "ok", None) is not True:
        raise ToolError("state-error: confirmation was not given")
    return "state-ok: requestState validated"


@server.tool()
async def test_input_required_result_multiple_inputs(ctx: Context) -> str:
    """MRTR: returns InputRequiredResult with elicitation, sampling and roots/list requests at once."""
    # multiple-input-requests wants all three in ONE InputRequiredResult: asked concurrently, they are
    # collected into one result.
    outcome, greeting, roots = await asyncio.gather(
        elicit(ctx, "user_name", "What is your name?", one_string("name")),
        sample(ctx, "greeting", "Generate a greeting", 50),
        list_roots(ctx, "client_roots"),
    )
    return f"Name: {answer_field(outcome, 'name')}; Greeting: {sampled_text(greeting)}; Roots: {len(roots)}"


@server.tool()
async def test_input_required_result_multi_round(ctx: Context) -> str:
    """MRTR: two rounds of elicitation, each with a new requestState."""  # multi-round
    first = await elicit(ctx, "step1", "Step 1: What is your name?", one_string("name"))
    second = await elicit(ctx, "step2", "Step 2: What is your favorite color?", one_string("color"))
    name, color = answer_field(first, "name", "friend"), answer_field(second, "color")
    return f"Multi-round complete for {name} who likes {color}"


@server.tool()
async def test_input_required_result_tampered_state(ctx: Context) -> str:
    """MRTR: HMAC-signed requestState; a tampered one is rejected with -32602."""  # tampered-state
    await elicit(
        ctx,
        "confirm",
        "Please confirm",
        {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]},
    )
    return "integrity-ok: state verified"


@server.tool()
async def test_input_required_result_capabilities(ctx: Context) -> str:
    """MRTR: asks only for the kinds of input the client declared capabilities for."""
    # capability-check: the request declares only `sampling`, so no elicitation may be asked for.
    asks = []
    if "elicitation" in ctx.client_capabilities:
        asks.append(elicit(ctx, "elicit_input", "Elicitation input", one_string("value")))
    if "sampling" in ctx.client_capabilities:
        asks.append(sample(ctx, "sample_input", "Sample request", 50))
    if not asks:
        return "No supported capabilities declared"
    received = await asyncio.gather(*asks)
    return f"capabilities-ok: received {len(received)} input(s)"


# =====================================================================================================
# Resources
# =====================================================================================================


@server.resource(
    "test://static-text",
    name="static-text",
    title="Static Text Resource",
    description="A static text resource for testing",
    mime_type="text/plain",
    ttl_ms=300_000,
)
def static_text() -> str:
    return "This is the content of the static text resource."  # resources-read-text


@server.resource(
    "test://static-binary",
    name="static-binary",
    title="Static Binary Resource",
    description="A static binary resource (image) for testing",
    mime_type="image/png",
    ttl_ms=300_000,
)
def static_binary() -> bytes:
    return base64.b64decode(TEST_IMAGE_BASE64)  # resources-read-binary (served as blob)


@server.resource(
    "test://template/{id}/data",
    name="template",
    title="Resource Template",
    description="A resource template with parameter substitution",
    mime_type="application/json",
)
def template(id: str) -> str:
    # resources-templates-read: test://template/123/data must mention 123.
    return json.dumps({"id": id, "templateTest": True, "data": f"Data for ID: {id}"}, separators=(",", ":"))


@server.resource(
    "test://watched-resource",
    name="watched-resource",
    title="Watched Resource",
    description="A subscribable resource (resources-subscribe / resources-unsubscribe)",
    mime_type="text/plain",
)
async def watched_resource() -> str:
    # Kept in `server.shared`: with --workers N --redis URL, a read on any worker sees an update made
    # on any other (this process's memory without --redis).
    return str(await server.shared.get("watched-resource", WATCHED_RESOURCE_CONTENT))


@server.tool()
async def test_update_watched_resource() -> str:
    """Changes test://watched-resource and notifies its subscribers (notifications/resources/updated)."""
    updated = f"Watched resource content (updated {asyncio.get_running_loop().time():.0f})"
    await server.shared.set("watched-resource", updated)
    await server.notify_resource_updated("test://watched-resource")
    return "Watched resource updated"


# sep-2164-resource-not-found needs nothing registered: the runtime answers an unknown URI with
# -32602 {uri} on 2026-07-28 (-32002 on 2025-11-25).


# =====================================================================================================
# Prompts
# =====================================================================================================


@server.prompt(title="Simple Test Prompt")
def test_simple_prompt() -> str:
    """A simple prompt without arguments."""  # prompts-get-simple
    return "This is a simple prompt for testing."


@server.prompt(title="Prompt With Arguments")
def test_prompt_with_arguments(
    arg1: Annotated[str, Meta(description="First test argument")],
    arg2: Annotated[str, Meta(description="Second test argument")],
) -> str:
    """A prompt with required arguments."""  # prompts-get-with-args
    return f"Prompt with arguments: arg1='{arg1}', arg2='{arg2}'"


@server.prompt(title="Prompt With Embedded Resource")
def test_prompt_with_embedded_resource(
    resourceUri: Annotated[str, Meta(description="URI of the resource to embed")],
) -> list[dict[str, Any]]:
    """A prompt that includes an embedded resource."""  # prompts-get-embedded-resource
    return [
        user(embedded(resourceUri, "Embedded resource content for testing.")),
        user(text("Please process the embedded resource above.")),
    ]


@server.prompt(title="Prompt With Image")
def test_prompt_with_image() -> list[dict[str, Any]]:
    """A prompt that includes image content."""  # prompts-get-with-image
    return [user(image()), user(text("Please analyze the image above."))]


@server.prompt()
async def test_input_required_result_prompt(ctx: Context) -> str:
    """MRTR: prompt that requires elicitation input."""  # input-required-result-non-tool-request
    outcome = await elicit(ctx, "user_context", "What context should the prompt use?", one_string("context"))
    return f"Prompt with context: {answer_field(outcome, 'context')}"


# =====================================================================================================
# Completions (completion-complete asks for test_prompt_with_arguments / arg1 with value "test")
# =====================================================================================================

_SUGGESTIONS = {
    "arg1": ["paris", "park", "party", "test", "testValue1"],
    "arg2": ["world", "wonder", "testValue2"],
}


@server.completion("prompt", "test_prompt_with_arguments")
def complete_prompt_arguments(argument: str, value: str, context: dict[str, str]) -> list[str]:
    return [s for s in _SUGGESTIONS.get(argument, []) if s.startswith(value)]


# =====================================================================================================
# Tasks (the tasks-* scenarios: the io.modelcontextprotocol/tasks extension, SEP-2663; the same tools
# run as 2025-11-25 core tasks when the client asks with `task`)
# =====================================================================================================


@server.tool()
async def greet(name: str) -> str:
    """Sync only: never a task, whatever the client sends."""
    return f"Hello, {name}!"


@server.tool(task_support="optional")
async def slow_compute(seconds: float = 1.0, label: str = "") -> str:
    """Sleeps `seconds`, then answers; a task for a client that can take one."""
    await asyncio.sleep(seconds)
    return f"computed {label or 'result'} after {seconds:g}s"


@server.tool(task_support="required")
async def failing_job() -> str:
    """Runs only as a task, and ends in a tool execution error after about a second."""
    await asyncio.sleep(1.0)
    raise ToolError("failing_job failed, as it always does")


@server.tool(task_support="required")
async def protocol_error_job() -> str:
    """Runs only as a task, and ends in a protocol-level error (the task fails)."""
    await asyncio.sleep(0.2)
    raise McpError("protocol_error_job: internal failure", code=-32603)


@server.tool(task_support="optional")
async def confirm_delete(filename: str, ctx: Context) -> str:
    """A task that asks for a confirmation (input_required), then finishes."""
    schema = {"type": "object", "properties": {"confirm": {"type": "boolean"}}, "required": ["confirm"]}
    outcome = await ctx.elicit(f"Delete {filename}?", schema, key="confirm")
    confirmed = outcome.action == "accept" and bool((outcome.content or {}).get("confirm"))
    return f"{'Deleted' if confirmed else 'Kept'} {filename}"


@server.tool(task_support="optional")
async def multi_input(ctx: Context) -> str:
    """A task that asks two questions at once (two input requests pending together)."""
    schema = one_string("name")
    first, second = await asyncio.gather(
        ctx.elicit("First name?", schema, key="first"), ctx.elicit("Second name?", schema, key="second")
    )
    return f"got {answer_field(first, 'name')} and {answer_field(second, 'name')}"


@server.tool(task_support="required", defer_task=True)
async def test_tool_with_task(ctx: Context) -> str:
    """Gathers a name with the request's own round trips, then becomes a task that uses it."""
    outcome = await elicit(ctx, "user_name", "What is your name?", one_string("name"))
    name = answer_field(outcome, "name")
    await ctx.become_task()
    await asyncio.sleep(0.2)
    return f"Hello, {name}! (from a task)"


@server.completion("resource", "test://template/{id}/data")
def complete_template_id(argument: str, value: str, context: dict[str, str]) -> list[str]:
    return [i for i in ("1", "2", "3", "42", "123") if i.startswith(value)] if argument == "id" else []


# =====================================================================================================
# Entry point
# =====================================================================================================


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transport", choices=("stdio", "http", "websocket"), default="stdio")
    parser.add_argument("--host", default="127.0.0.1", help="http: interface to bind")
    parser.add_argument("--port", type=int, default=3000, help="http: port (endpoint /mcp)")
    parser.add_argument("--log-level", default="WARNING", help="Python logging level, to stderr")
    parser.add_argument("--workers", type=int, default=1, help="http: processes serving the port")
    parser.add_argument("--redis", default=None, help="http: Redis URL the workers share (mcpbind[redis])")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr)  # stdout is the protocol

    if args.transport == "stdio":
        server.run_stdio()
        return 0
    if args.transport == "websocket":
        server.run_websocket(host=args.host, port=args.port)
        return 0
    from mcpbind.transports.http import StoreUnavailable

    try:
        server.run_http(
            host=args.host,
            port=args.port,
            workers=args.workers,
            redis=args.redis,
            log_level=args.log_level.lower(),
        )
    except (ValueError, StoreUnavailable) as exc:  # several workers without Redis; Redis unreachable
        print(f"everything_server: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
