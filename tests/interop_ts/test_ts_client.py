"""The official TypeScript SDK's clients against mcpbind's server (tests/interop_ts/server.py, which is
examples/everything_server.py plus pagination, a URL elicitation and a cancellable tool).

`ts_client.mjs` runs one tour of the features on one connection and reports each as a check; every
check is its own test here, named `test_feature[<client>-<transport>-<revision>-<check>]`, so that a
failure names the client, the transport, the era and the feature. The clients:

- v1: `@modelcontextprotocol/sdk` 1.x, which speaks the stateful revisions only (2025-11-25 here);
- v2: `@modelcontextprotocol/client` 2.x, at 2025-11-25 (its default 'legacy' negotiation) and at
  2026-07-28 (pinned; its 'auto' negotiation is a check of that tour).

Three transports: stdio (the driver spawns the server), Streamable HTTP (one server per module) and
WebSocket (the same server, its `/mcp` upgraded; 1.x's `WebSocketClientTransport` under both clients).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..interop.common import validate
from .common import CONNECT_LIMIT, OUR_SERVER, require_toolchain, run_driver, serve_ours

LEGACY, MODERN = "2025-11-25", "2026-07-28"
RUNS = [("v1", LEGACY), ("v2", LEGACY), ("v2", MODERN)]
TRANSPORTS = ("stdio", "http", "ws")

#: Every check of a tour; v2 at 2026-07-28 has no ping (the era has none) and adds auto_negotiation.
CHECKS = [
    "version",
    "ping",
    "pagination",
    "tool",
    "tool_error",
    "progress",
    "logging",
    "sampling",
    "elicitation_form",
    "elicitation_url",
    "roots",
    "resources",
    "prompts",
    "completion",
    "subscriptions",
    "list_changed",
    "cancellation",
    "auto_negotiation",
    "no_errors",
]


def expected_checks(sdk: str, revision: str) -> list[str]:
    drop = {"ping"} if revision == MODERN else {"auto_negotiation"}
    return [c for c in CHECKS if c not in drop]


@pytest.fixture(scope="module")
def http_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_toolchain()
    with serve_ours(tmp_path_factory.mktemp("interop_ts")) as port:
        yield f"http://127.0.0.1:{port}/mcp"


_tours: dict[tuple[str, str, str], dict[str, Any]] = {}


def tour(sdk: str, transport: str, revision: str, request: pytest.FixtureRequest) -> dict[str, Any]:
    """One driver run per (client, transport, revision), shared by its checks."""
    key = (sdk, transport, revision)
    if key not in _tours:
        spec: dict[str, Any] = {"sdk": sdk, "era": revision}
        if transport == "stdio":
            spec["command"] = [sys.executable, OUR_SERVER, "--transport", "stdio"]
        elif transport == "ws":  # the same server and path: the upgrade of /mcp
            spec["ws"] = "ws" + request.getfixturevalue("http_url").removeprefix("http")
        else:
            spec["url"] = request.getfixturevalue("http_url")
        _tours[key] = run_driver("ts_client.mjs", spec)
    return _tours[key]


PARAMS = [
    pytest.param(sdk, transport, revision, check, id=f"{sdk}-{transport}-{revision}-{check}")
    for sdk, revision in RUNS
    for transport in TRANSPORTS
    for check in expected_checks(sdk, revision)
]


@pytest.mark.parametrize(("sdk", "transport", "revision", "check"), PARAMS)
def test_feature(sdk: str, transport: str, revision: str, check: str, request: pytest.FixtureRequest) -> None:
    require_toolchain()
    result = tour(sdk, transport, revision, request)
    got = result["checks"].get(check)
    assert got is not None, f"the driver did not run {check}; it ran {sorted(result['checks'])}"
    http = "\n".join(str(e) for e in result.get("http", [])[-12:])
    stderr = result["stderr"][-2000:]
    assert got["ok"], (
        f"{check}: {got['detail']}\n--- the last HTTP exchanges\n{http}\n--- driver stderr\n{stderr}"
    )


@pytest.mark.parametrize(
    ("sdk", "transport", "revision"),
    [pytest.param(s, t, r, id=f"{s}-{t}-{r}") for s, r in RUNS for t in TRANSPORTS],
)
def test_connect_time(sdk: str, transport: str, revision: str, request: pytest.FixtureRequest) -> None:
    """The connect (over stdio: spawning the server too) waits out no timeout (`CONNECT_LIMIT`)."""
    require_toolchain()
    result = tour(sdk, transport, revision, request)
    assert result["connect_ms"] < CONNECT_LIMIT * 1000, f"connect took {result['connect_ms']:.0f} ms"
    assert result["protocol"] in (revision, None)  # 1.x does not say what it negotiated


@pytest.mark.parametrize(
    ("sdk", "transport", "revision"),
    [pytest.param(s, t, r, id=f"{s}-{t}-{r}") for s, r in RUNS for t in TRANSPORTS],
)
def test_frames_valid(sdk: str, transport: str, revision: str, request: pytest.FixtureRequest) -> None:
    """Every message either side sent on the tour's connection is valid at the negotiated revision."""
    require_toolchain()
    result = tour(sdk, transport, revision, request)
    frames = [(sender, message) for sender, message in result["frames"]]
    # The handshake happens before the driver taps the transport; the rest is all there.
    assert len(frames) > 50
    assert validate(frames, revision) == len(frames)


def test_checks_are_known() -> None:
    """The driver's checks and this list agree (a check added there must be added here)."""
    source = (Path(__file__).parent / "ts_client.mjs").read_text()
    for check in CHECKS:
        assert f"check('{check}'" in source, check
