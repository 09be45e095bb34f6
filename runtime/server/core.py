"""Compatibility module: the server's names as they were before `core` was split (registry, features,
context, session). Import from `mcpbind.server` (public names) or the module that defines a name."""

from __future__ import annotations

from .context import LOG_LEVELS, Context, ElicitOutcome
from .features import ToolError
from .registry import UVICORN_DEFAULTS, Server
from .session import Connection

__all__ = ["Server", "Context", "Connection", "ToolError", "ElicitOutcome", "LOG_LEVELS", "UVICORN_DEFAULTS"]

_Connection = Connection  # kept for transports/http until it moves to `mcpbind.server.session.Connection`
