"""What TypeScript users do beyond the feature tour (test_ts_client.py), against mcpbind's server over
Streamable HTTP: `ts_scenarios.mjs` runs each scenario on its own connection, with the 1.x client at
2025-11-25 and the 2.x client at 2025-11-25 and 2026-07-28; every scenario is a test named
`<client>-<revision>-<scenario>`.

- structured_output: tools whose results are a Struct (enum, nested TypedDict, optional member), a
  list of dataclasses and an int; the SDK compiles each outputSchema with ajv and validates every
  structuredContent (a `$ref` it cannot resolve fails the call);
- completion_resource_template: completion/complete for a resource template's argument;
- progress_total_message: progress notifications carry total and message to `onprogress`;
- terminate_and_reconnect (2025-11-25): `terminateSession()` sends DELETE, the old session id is then
  answered 404, and a new connect works;
- resume_with_token (2025-11-25): the SDK's resumption tokens (SSE event ids): a new transport on the
  same session resumes a finished call's stream after its first log message with GET and
  Last-Event-ID, and gets the rest of that stream and the answer again;
- server_closes_stream (2025-11-25): the server closes a call's stream mid-call (SEP-1699); the SDK
  reconnects on its own with Last-Event-ID, and the call is answered;
- protocol_version_header (2025-11-25): the session works with the negotiated Mcp-Protocol-Version,
  and an unknown one is refused with 400.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .common import require_toolchain, run_driver, serve_ours

LEGACY, MODERN = "2025-11-25", "2026-07-28"
RUNS = [("v1", LEGACY), ("v2", LEGACY), ("v2", MODERN)]
EVERY_ERA = ["structured_output", "completion_resource_template", "progress_total_message"]
SESSION_ERA = [
    "terminate_and_reconnect",
    "resume_with_token",
    "server_closes_stream",
    "protocol_version_header",
]


def scenarios(revision: str) -> list[str]:
    return EVERY_ERA + (SESSION_ERA if revision == LEGACY else [])


@pytest.fixture(scope="module")
def http_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_toolchain()
    with serve_ours(tmp_path_factory.mktemp("interop_ts_scenarios")) as port:
        yield f"http://127.0.0.1:{port}/mcp"


_runs: dict[tuple[str, str], dict[str, Any]] = {}


def driver_run(sdk: str, revision: str, url: str) -> dict[str, Any]:
    """One driver run per (client, revision), shared by its scenarios."""
    if (sdk, revision) not in _runs:
        _runs[(sdk, revision)] = run_driver("ts_scenarios.mjs", {"sdk": sdk, "era": revision, "url": url})
    return _runs[(sdk, revision)]


@pytest.mark.parametrize(
    ("sdk", "revision", "scenario"),
    [pytest.param(s, r, c, id=f"{s}-{r}-{c}") for s, r in RUNS for c in scenarios(r)],
)
def test_scenario(sdk: str, revision: str, scenario: str, http_url: str) -> None:
    require_toolchain()
    result = driver_run(sdk, revision, http_url)
    assert sorted(result["checks"]) == sorted(scenarios(revision)), sorted(result["checks"])
    got = result["checks"][scenario]
    assert got["ok"], f"{scenario}: {got['detail']}\n--- driver stderr\n{result['stderr'][-2000:]}"
