"""The MCP server: tools, resources, prompts and completions from typed functions, served in every era.

from mcpbind.server import Context, Server
"""

from ..protocol.tasks import TaskPolicy, TaskRecord
from .context import LOG_LEVELS, Context, ElicitOutcome
from .features import ResourceNotFound, ToolError
from .registry import Server
from .serving import UVICORN_DEFAULTS
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
