"""The MCP server: tools, resources, prompts and completions from typed functions, served in every era.

from mcpbind.server import Context, Server
"""

from .core import LOG_LEVELS, UVICORN_DEFAULTS, Context, ElicitOutcome, Server, ToolError

__all__ = ["Server", "Context", "ToolError", "ElicitOutcome", "LOG_LEVELS", "UVICORN_DEFAULTS"]
