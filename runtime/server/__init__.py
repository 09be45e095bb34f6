"""The MCP server: tools, resources, prompts and completions from typed functions, served in every era.

from mcpbind.server import Context, Server
"""

from ..protocol.tasks import TaskPolicy, TaskRecord
from .context import LOG_LEVELS, Context, ElicitOutcome
from .features import ResourceNotFound, ToolError
from .registry import UVICORN_DEFAULTS, Server
from .session import Connection, SessionSnapshot
from .tasks import MemoryTaskStore, TaskStore, TooManyTasks

__all__ = [
    "Server",
    "Context",
    "Connection",
    "SessionSnapshot",
    "ToolError",
    "ResourceNotFound",
    "ElicitOutcome",
    "LOG_LEVELS",
    "UVICORN_DEFAULTS",
    "MemoryTaskStore",
    "TaskPolicy",
    "TaskRecord",
    "TaskStore",
    "TooManyTasks",
]
