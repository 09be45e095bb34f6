"""Importing the client or the server loads no generated revision module (tens of milliseconds each, paid
by every CLI run); the revision a connection speaks loads its own on first use."""

from __future__ import annotations

import subprocess
import sys

import pytest


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
