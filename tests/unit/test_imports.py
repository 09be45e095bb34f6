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


@pytest.mark.parametrize("package", ["mcpbind.client", "mcpbind.server", "mcpbind.transports.http"])
def test_import_loads_no_websocket_library(package: str) -> None:
    """The WebSocket transport (`mcpbind[ws]`) is loaded by its own entry points only."""
    probe = f"import sys, {package}\nprint(sorted(m for m in sys.modules if m.split('.')[0] == 'websockets'))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "[]"
