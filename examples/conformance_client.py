"""The conformance "everything client": mcpbind's `Client` driven through every CLIENT scenario of the
official MCP conformance suite (@modelcontextprotocol/conformance 0.2.0-alpha.12).

The suite's runner starts a mock server per scenario and runs this script once for each:

    MCP_CONFORMANCE_SCENARIO=tools_call python examples/conformance_client.py http://localhost:PORT/mcp

with the mock server's URL as the last argument, and in the environment the scenario id
(`MCP_CONFORMANCE_SCENARIO`), the revision whose wire to speak (`MCP_CONFORMANCE_PROTOCOL_VERSION`:
2025-11-25 is stateful, 2026-07-28 stateless) and, for some scenarios, a JSON context
(`MCP_CONFORMANCE_CONTEXT`). The script does what the scenario asks through mcpbind's public client
API only; the mock server judges the traffic. Run it through tests/conformance/run.py.

The last line on stdout is `conformance_client: OK` or `conformance_client: ERROR ...` (the runner
ignores exit codes in suite mode, so run.py reads this line).

Authorization scenarios (auth/*): the client is given an `OAuthClientProvider` (mcpbind.auth.client)
set up from the scenario's context: the authorization code flow with the mock's redirect followed
headlessly (`FollowRedirect`), a pre-registration, or a grant without a user (client credentials,
enterprise-managed, workload identity JWT bearer). Where a scenario expects a refusal, the client fails
with the provider's error and the mock's checks judge.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

from mcpbind import wire
from mcpbind.client import Client
from mcpbind.protocol import revisions

log = logging.getLogger("conformance_client")

DEADLINE = float(os.environ.get("MCPBIND_CONFORMANCE_DEADLINE", "25"))
"""Seconds before the script gives up on its own (below the runner's --timeout, so a hang is reported
as an error with a traceback instead of a silent kill)."""

AUTH_DEADLINE = float(os.environ.get("MCPBIND_CONFORMANCE_AUTH_DEADLINE", "40"))
"""Seconds for a whole auth/* scenario (discovery, registration, the grant, then the MCP calls): longer
than DEADLINE, since a flow makes several round trips to two servers while every scenario starts at
once (still below the runner's --timeout)."""

CIMD_URL = "https://conformance-test.local/client-metadata.json"
"""The Client ID Metadata Document URL the suite's auth/basic-cimd expects as the client id."""

Handler = Callable[[str], Awaitable[None]]
SCENARIOS: dict[str, Handler] = {}


def scenario(*names: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for name in names:
            SCENARIOS[name] = fn
        return fn

    return register


def protocol_version() -> str:
    return os.environ.get("MCP_CONFORMANCE_PROTOCOL_VERSION") or str(revisions.STATEFUL[-1])


def context() -> dict[str, Any]:
    raw = os.environ.get("MCP_CONFORMANCE_CONTEXT")
    return json.loads(raw) if raw else {}


def mode() -> str:
    """Stateless revisions: "auto" (server/discover, and the -32022 renegotiation the suite checks);
    stateful ones: "legacy" (initialize, accepting whichever stateful revision the server picks:
    the sse-retry mock answers 2025-03-26)."""
    return "auto" if revisions.is_modern(protocol_version()) else "legacy"


# -- callbacks: a user who accepts everything ----------------------------------------------------------


def schema_defaults(schema: dict[str, Any]) -> dict[str, Any]:
    """The form as pre-filled from the requested schema's defaults (SEP-1034), accepted as is."""
    return {
        name: prop["default"]
        for name, prop in (schema.get("properties") or {}).items()
        if isinstance(prop, dict) and "default" in prop
    }


async def accept_elicitation(params: dict[str, Any]) -> dict[str, Any]:
    content = schema_defaults(params.get("requestedSchema") or {})
    for name, prop in ((params.get("requestedSchema") or {}).get("properties") or {}).items():
        if name not in content and isinstance(prop, dict) and prop.get("type") == "boolean":
            content[name] = True
    log.info("elicitation/create %r -> accept %r", params.get("message"), content)
    return {"action": "accept", "content": content}


async def sample(params: dict[str, Any]) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": {"type": "text", "text": "A sampled answer from the conformance client"},
        "model": "conformance-client-model",
        "stopReason": "endTurn",
    }


async def roots() -> list[dict[str, Any]]:
    return [{"uri": "file:///test/root", "name": "Test Root"}]


def connect(url: str, **options: Any) -> Client:
    options.setdefault("mode", mode())
    options.setdefault("name", "mcpbind-conformance-client")
    options.setdefault("request_timeout", DEADLINE)
    # The runner starts every scenario at once: on a small machine the era probe's default 3 s can
    # expire before the mock answers, and "auto" would then fall back to initialize.
    options.setdefault("probe_timeout", DEADLINE)
    return Client.http(url, **options)


def dump(value: Any) -> Any:
    return wire.to_builtins(value)


# -- scenarios -------------------------------------------------------------------------------------------


@scenario("initialize", "tools_call", "tools-call")
async def basic(url: str) -> None:
    """initialize / tools_call: connect, list the tools, call the first one with numbers."""
    async with connect(url) as client:
        log.info("connected: revision %s, server %s", client.revision, client.server_info)
        tools = await client.list_tools()
        if tools:
            result = await client.call_tool(tools[0].name, {"a": 2, "b": 3})
            log.info("%s -> %s", tools[0].name, dump(result))


@scenario("elicitation-sep1034-client-defaults", "elicitation-defaults")
async def elicitation_defaults(url: str) -> None:
    async with connect(url, elicitation=accept_elicitation) as client:
        await client.list_tools()
        result = await client.call_tool("test_client_elicitation_defaults", {})
        log.info("-> %s", dump(result))


@scenario("sse-retry")
async def sse_retry(url: str) -> None:
    """The server closes the tools/call SSE stream after a priming event (id, retry: 500): the client
    must come back with GET + Last-Event-ID after 500 ms and receive the result there."""
    async with connect(url) as client:
        await client.list_tools()
        result = await client.call_tool("test_reconnection", {})
        log.info("-> %s", dump(result))


@scenario("request-metadata")
async def request_metadata(url: str) -> None:
    """Stateless: the first request is refused with -32022 {supported}; renegotiate, then list tools."""
    async with connect(url) as client:
        log.info("negotiated %s (supported %s)", client.revision, client.supported_versions)
        await client.list_tools()


@scenario("json-schema-ref-no-deref")
async def list_only(url: str) -> None:
    """List tools (one inputSchema has a network $ref that must never be fetched)."""
    async with connect(url) as client:
        for tool in await client.list_tools():
            log.info("tool %s: %s", tool.name, json.dumps(dump(tool.input_schema)))


@scenario("json-schema-2020-12-preservation")
async def schema_preservation(url: str) -> None:
    """Round-trip the focal tool's inputSchema, as mcpbind decoded it, through json_schema_echo."""
    async with connect(url) as client:
        tools = {tool.name: tool for tool in await client.list_tools()}
        focal = tools.get("json_schema_2020_12_tool")
        if focal is None:
            raise RuntimeError(f"json_schema_2020_12_tool not listed (tools: {sorted(tools)})")
        schema = dump(focal.input_schema)
        log.info("observed inputSchema: %s", json.dumps(schema))
        await client.call_tool("json_schema_echo", {"schema": schema})


@scenario("sep-2322-client-request-state")
async def mrtr_request_state(url: str) -> None:
    """SEP-2322 (stateless): InputRequiredResult rounds, driven by mcpbind's own retry loop. While the
    first tool waits for its input, an unrelated tool is called: it must carry none of that state."""
    calls: list[str] = []

    async def elicit(params: dict[str, Any]) -> dict[str, Any]:
        calls.append(str(params.get("message")))
        if len(calls) == 1:
            unrelated = await client.call_tool("test_mrtr_unrelated", {})
            log.info("test_mrtr_unrelated (between rounds) -> %s", dump(unrelated))
        return {"action": "accept", "content": {"confirmed": True}}

    async with connect(url, elicitation=elicit) as client:
        await client.list_tools()
        for name in ("test_mrtr_echo_state", "test_mrtr_no_state", "test_mrtr_no_result_type"):
            result = await client.call_tool(name, {})
            log.info("%s -> %s", name, dump(result))


@scenario("http-standard-headers")
async def standard_headers(url: str) -> None:
    """Exercise every method whose Mcp-Method / Mcp-Name headers the scenario checks."""
    async with connect(url) as client:
        for tool in await client.list_tools():
            await client.call_tool(tool.name, {})
        for resource in await client.list_resources():
            await client.read_resource(resource.uri)
        for prompt in await client.list_prompts():
            await client.get_prompt(prompt.name)


@scenario("http-custom-headers")
async def custom_headers(url: str) -> None:
    """Call the tools the context names with its arguments; the client mirrors x-mcp-header
    parameters into Mcp-Param-* headers (SEP-2243)."""
    calls = context().get("toolCalls") or []
    async with connect(url) as client:
        await client.list_tools()
        for call in calls:
            result = await client.call_tool(call["name"], call.get("arguments") or {})
            log.info("%s -> %s", call["name"], dump(result))


@scenario("http-invalid-tool-headers")
async def invalid_tool_headers(url: str) -> None:
    """Call every tool the client keeps: a conformant client has dropped those whose x-mcp-header
    annotations are invalid (SEP-2243), so only valid_tool may be called."""
    async with connect(url) as client:
        tools = await client.list_tools()
        log.info("tools kept by the client: %s", [t.name for t in tools])
        for tool in tools:
            await client.call_tool(tool.name, {"value": "test"})


def oauth_provider(scenario_id: str, url: str) -> Any:
    """The OAuth client for an auth/* scenario, configured from its context."""
    from mcpbind.auth.client import (
        ClientCredentials,
        EnterpriseManaged,
        FollowRedirect,
        JwtBearer,
        OAuthClientProvider,
        PrivateKey,
    )
    from mcpbind.auth.client.web import AuthHttp

    ctx = context()
    http = AuthHttp(timeout=DEADLINE)
    options: dict[str, Any] = {"client_name": "mcpbind-conformance-client", "http": http}
    name = scenario_id.removeprefix("auth/")

    def constant(value: str) -> Callable[[], Awaitable[str]]:
        async def read() -> str:
            return value

        return read

    if name == "client-credentials-jwt":
        key = PrivateKey(ctx["private_key_pem"], ctx.get("signing_algorithm", "ES256"))
        options["grant"] = ClientCredentials(ctx["client_id"], private_key=key)
    elif name == "client-credentials-basic":
        options["grant"] = ClientCredentials(ctx["client_id"], ctx["client_secret"])
    elif name == "enterprise-managed-authorization":
        options["grant"] = EnterpriseManaged(
            client_id=ctx["client_id"],
            client_secret=ctx.get("client_secret"),
            idp_token_endpoint=ctx["idp_token_endpoint"],
            idp_client_id=ctx["idp_client_id"],
            id_token=constant(ctx["idp_id_token"]),
        )
    elif name == "wif-jwt-bearer":
        options["grant"] = JwtBearer(ctx["client_id"], constant(ctx["valid_jwt"]))
    else:
        options["redirect"] = FollowRedirect(http)
        options["client_metadata_url"] = CIMD_URL
        if "client_id" in ctx:  # pre-registration
            options["client_id"] = ctx["client_id"]
            options["client_secret"] = ctx.get("client_secret")
    return OAuthClientProvider(url, **options)


async def authorized(url: str) -> None:
    """auth/*: the plain flow (list tools, call test-tool), authorized by mcpbind's OAuth client."""
    provider = oauth_provider(os.environ.get("MCP_CONFORMANCE_SCENARIO", ""), url)
    try:
        async with connect(url, auth=provider) as client:
            tools = await client.list_tools()
            if any(t.name == "test-tool" for t in tools):
                await client.call_tool("test-tool", {})
    finally:
        await provider.aclose()


async def run(scenario_id: str, url: str) -> None:
    handler = SCENARIOS.get(scenario_id)
    if handler is None:
        if not scenario_id.startswith("auth/"):
            log.warning("no dedicated handler for %s: running the basic flow", scenario_id)
        handler = authorized if scenario_id.startswith("auth/") else basic
    # auth/*: a flow that stalls (an authorization server that never answers) must not hold a core.
    deadline = AUTH_DEADLINE if scenario_id.startswith("auth/") else DEADLINE
    await asyncio.wait_for(handler(url), deadline)


def main(argv: list[str]) -> int:
    logging.basicConfig(
        level=os.environ.get("MCPBIND_CONFORMANCE_LOG", "INFO"),
        stream=sys.stderr,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    scenario_id = os.environ.get("MCP_CONFORMANCE_SCENARIO")
    if not scenario_id or len(argv) < 2:
        print("usage: MCP_CONFORMANCE_SCENARIO=<id> conformance_client.py <server-url>", file=sys.stderr)
        print("scenarios: " + ", ".join(sorted(SCENARIOS)), file=sys.stderr)
        return 2
    url = argv[-1]
    log.info("scenario %s, protocol %s, url %s", scenario_id, protocol_version(), url)
    try:
        asyncio.run(run(scenario_id, url))
    except BaseException as exc:  # report everything, including a timeout, then fail
        traceback.print_exc()
        detail = "timed out" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}"
        print(f"conformance_client: ERROR {detail}".replace("\n", " ")[:500], flush=True)
        return 1
    print("conformance_client: OK", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
