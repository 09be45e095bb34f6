"""The uvicorn options of every HTTP benchmark server: mcpbind's `Server.run_http` defaults
(`mcpbind.server.UVICORN_DEFAULTS`), written out for the SDK's venv, which has no mcpbind. The floor
and the SDK's server run on exactly the server mcpbind runs on; `bench/servers.py` checks that the
two stay the same before it starts."""

from __future__ import annotations

from typing import Any

OPTIONS: dict[str, Any] = {
    "log_level": "warning",
    "timeout_graceful_shutdown": 3,
    "access_log": False,
    "proxy_headers": False,
}
