"""What TypeScript users do beyond the feature tour (test_ts_client.py), against mcpbind's server over
Streamable HTTP, stdio and WebSocket: `ts_scenarios.mjs` runs each scenario on its own connection,
with the 1.x client at 2025-11-25 and the 2.x client at 2025-11-25 and 2026-07-28; every scenario is
a test named `<client>-<transport>-<revision>-<scenario>`.

- structured_output: tools whose results are a Struct (enum, nested TypedDict, optional member), a
  list of dataclasses and an int; the SDK compiles each outputSchema with ajv and validates every
  structuredContent (a `$ref` it cannot resolve fails the call);
- structured_shapes: every shape a user's tool returns (dataclass, TypedDict, optional, mapping, nested
  and recursive Structs, enum, tuple, Literal, datetime, nothing): each outputSchema compiles with the
  SDK's own validator (1.x: draft-07 ajv) and holds its structured result;
- metadata: title, icons, annotations and `_meta` on a tool, a resource, a template and a prompt;
- error_mapping: unknown tool or prompt, a prompt's missing argument (-32602, rejected), a resource
  not found (-32002 with its uri; 2026-07-28: -32602; 2.x's ResourceNotFoundError), bad arguments
  and a tool raising (a result with isError, SEP-1303);
- tasks (1.x at 2025-11-25: its experimental API; 2.x has none): `callToolStream` through created,
  tasks/get and tasks/result, a task that elicits (input_required), a failed task whose status says
  why, tasks/cancel, tasks/list, and -32601 for a task-only tool called plainly;
- completion_resource_template: completion/complete for a resource template's argument;
- progress_total_message: progress notifications carry total and message to `onprogress`;
- log_level_filter: messages below the level asked for (logging/setLevel; 2026-07-28: the request's
  `_meta`) are not sent, and lowering the level brings them back;
- concurrent_calls: 40 calls at once on one connection, each answered with its own result;
- large_result: answers of 1 KiB, 300 KiB and 3 MiB (many pipe buffers over stdio), non-ASCII and
  U+2028 included, arrive whole;
- elicitation_declined, sampling_refused: the user declines or cancels a form; the client's sampling
  handler throws (the call fails or is an error result, and the connection goes on);
- typed_form: a form asked for as a dataclass (enum, Literal, defaults, optional, multi-select): the
  SDK checks the answer against the requestedSchema made from it, the server gets a `Signup`;
- server_pings_client (2025-11-25): a tool pings the client (`Context.ping`); the SDK answers;
- cancel_during_elicitation (2025-11-25): the call is aborted while the server waits on the client's
  elicitation; the server withdraws its own request (notifications/cancelled for its id);
- close_quickly: the SDK's close (over stdio: the server's stdin ended, its exit awaited) is quick;
- terminate_and_reconnect (2025-11-25): `terminateSession()` sends DELETE, the old session id is then
  answered 404, and a new connect works;
- resume_with_token (2025-11-25): the SDK's resumption tokens (SSE event ids): a new transport on the
  same session resumes a finished call's stream after its first log message with GET and
  Last-Event-ID, and gets the rest of that stream and the answer again;
- dropped_call_stream, dropped_get_stream (2025-11-25): the network drops a call's SSE stream after
  its first log message, or the GET stream after a first notification (the driver's fetch cuts the
  body); the SDK reconnects with Last-Event-ID, the call goes on in the server (a disconnect is no
  cancel), and what was sent meanwhile arrives, each message once;
- server_closes_stream (2025-11-25): the server closes a call's stream mid-call (SEP-1699); the SDK
  reconnects on its own with Last-Event-ID, and the call is answered;
- protocol_version_header (2025-11-25): the session works with the negotiated Mcp-Protocol-Version,
  and an unknown one is refused with 400.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest

from .common import OUR_SERVER, require_toolchain, run_driver, serve_ours

LEGACY, MODERN = "2025-11-25", "2026-07-28"
RUNS = [("v1", LEGACY), ("v2", LEGACY), ("v2", MODERN)]
TRANSPORTS = ("http", "stdio", "ws")
EVERY_ERA = [
    "structured_output",
    "completion_resource_template",
    "progress_total_message",
    "log_level_filter",
    "concurrent_calls",
    "large_result",
    "elicitation_declined",
    "typed_form",
    "sampling_refused",
    "close_quickly",
    "structured_shapes",
    "metadata",
    "error_mapping",
]
SESSION_ERA = ["server_pings_client", "cancel_during_elicitation"]
SESSION_HTTP = [
    "terminate_and_reconnect",
    "resume_with_token",
    "dropped_call_stream",
    "dropped_get_stream",
    "server_closes_stream",
    "protocol_version_header",
]


#: The 1.x SDK's experimental tasks (2.x has no task API).
V1_ONLY = ["tasks"]


def scenarios(sdk: str, transport: str, revision: str) -> list[str]:
    if revision != LEGACY:
        return EVERY_ERA
    extra = V1_ONLY if sdk == "v1" else []
    return EVERY_ERA + SESSION_ERA + extra + (SESSION_HTTP if transport == "http" else [])


@pytest.fixture(scope="module")
def http_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_toolchain()
    with serve_ours(tmp_path_factory.mktemp("interop_ts_scenarios")) as port:
        yield f"http://127.0.0.1:{port}/mcp"


_runs: dict[tuple[str, str, str], dict[str, Any]] = {}


def driver_run(sdk: str, transport: str, revision: str, request: pytest.FixtureRequest) -> dict[str, Any]:
    """One driver run per (client, transport, revision), shared by its scenarios."""
    key = (sdk, transport, revision)
    if key not in _runs:
        spec: dict[str, Any] = {"sdk": sdk, "era": revision}
        if transport == "stdio":
            spec["command"] = [sys.executable, OUR_SERVER, "--transport", "stdio"]
        elif transport == "ws":  # the same server and path: the upgrade of /mcp (SEP-1288)
            spec["ws"] = "ws" + request.getfixturevalue("http_url").removeprefix("http")
        else:
            spec["url"] = request.getfixturevalue("http_url")
        _runs[key] = run_driver("ts_scenarios.mjs", spec)
    return _runs[key]


@pytest.mark.parametrize(
    ("sdk", "transport", "revision", "scenario"),
    [
        pytest.param(s, t, r, c, id=f"{s}-{t}-{r}-{c}")
        for s, r in RUNS
        for t in TRANSPORTS
        for c in scenarios(s, t, r)
    ],
)
def test_scenario(
    sdk: str, transport: str, revision: str, scenario: str, request: pytest.FixtureRequest
) -> None:
    require_toolchain()
    result = driver_run(sdk, transport, revision, request)
    assert sorted(result["checks"]) == sorted(scenarios(sdk, transport, revision)), sorted(result["checks"])
    got = result["checks"][scenario]
    assert got["ok"], f"{scenario}: {got['detail']}\n--- driver stderr\n{result['stderr'][-2000:]}"
