"""Importing the client or the server loads no generated revision module (tens of milliseconds each, paid
by every CLI run); the revision a connection speaks loads its own on first use."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.http_support import call, initialize, modern


@pytest.mark.parametrize("package", ["mcpbind.client", "mcpbind.server", "mcpbind.cli"])
def test_import_loads_no_generated_revision(package: str) -> None:
    probe = (
        f"import sys, {package}\nprint(sorted(m for m in sys.modules if m.startswith('mcpbind.generated.')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "[]"


def test_client_error_code_is_still_exported() -> None:
    from mcpbind.client import UNSUPPORTED_PROTOCOL_VERSION
    from mcpbind.protocol import revisions

    assert UNSUPPORTED_PROTOCOL_VERSION == revisions.UNSUPPORTED_PROTOCOL_VERSION == -32022


def test_a_stdio_server_loads_no_client() -> None:
    """The stdio module holds the client's transport too; what it shares with the other client
    transports (`transports.plain`) must not bring `mcpbind.client` into a server's cold start."""
    probe = (
        "import sys, mcpbind.server, mcpbind.transports.stdio\n"
        "print(sorted(m for m in sys.modules if m.startswith('mcpbind.client')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("package", ["mcpbind.client", "mcpbind.server", "mcpbind.transports.http"])
def test_import_loads_no_websocket_library(package: str) -> None:
    """The WebSocket transport (`mcpbind[ws]`) is loaded by its own entry points only."""
    probe = f"import sys, {package}\nprint(sorted(m for m in sys.modules if m.split('.')[0] == 'websockets'))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "[]"


def test_plain_transports_meet_the_client_contract() -> None:
    """stdio and 2024-11-05 HTTP+SSE answer the contract's questions with its neutral values."""
    import asyncio

    from mcpbind.errors import McpError
    from mcpbind.transports.http.legacy_sse import LegacySseTransport
    from mcpbind.transports.stdio import StdioClientTransport

    for transport in (StdioClientTransport(sys.executable), LegacySseTransport("http://127.0.0.1:1/sse")):
        transport.use_revision("2024-11-05")
        transport.session_started()
        assert transport.param_headers is None and not transport.take_session_lost()
        assert asyncio.run(transport.fallback(McpError("gone"))) is None


# What a stdio server's start and first tools/call must not import: each loads on its own first use
# (a task tool, `@server.method`, a resource template, HTTP's parameter headers, the client), and the
# standard library's dataclasses (a few ms of generated code per class; the server's records are
# msgspec Structs).
LAZY = (
    "mcpbind.client",
    "mcpbind.protocol.tasks",
    "mcpbind.server.tasks",
    "mcpbind.server.task_requests",
    "mcpbind.server.custom",
    "mcpbind.server.uritemplate",
    "mcpbind.protocol.headers",
    "mcpbind.transports.http",
    "dataclasses",
)
COLD = str(Path(__file__).resolve().parents[1] / "servers" / "cold.py")


def test_import_mcpbind_imports_nothing_else() -> None:
    probe = "import sys, mcpbind\nprint(sorted(m for m in sys.modules if m.startswith('mcpbind.')))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("era", ["session", "envelope"])
def test_stdio_first_call_leaves_the_lazy_modules_unloaded(era: str) -> None:
    """A real stdio server answers its first tools/call (after `initialize` in the session era, alone
    in the envelope era) with the modules loaded by then: none of `LAZY`."""
    if era == "session":
        lines = [
            initialize("2025-11-25"),
            {"jsonrpc": "2.0", "method": "notifications/initialized"},
            call(2, "loaded"),
        ]
    else:
        lines = [modern(2, "tools/call", {"name": "loaded", "arguments": {}})]
    stdin = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
    done = subprocess.run([sys.executable, COLD], input=stdin, capture_output=True, timeout=120, check=True)
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    result = next(a for a in answers if a.get("id") == 2)["result"]
    modules = json.loads(result["content"][0]["text"])
    assert "mcpbind.server.registry" in modules  # the probe sees the server's own process
    assert [m for m in modules if m in LAZY or m.startswith(tuple(f"{n}." for n in LAZY))] == []
