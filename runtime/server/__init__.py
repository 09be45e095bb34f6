"""The MCP server: tools, resources, prompts and completions from typed functions, served in every era.

from mcpbind.server import Context, Server
"""

import gc
from typing import TYPE_CHECKING, Any

# The import makes some thousands of functions, classes and tables (its own and asyncio's), all kept for
# the life of the process: the collector's passes over them while they are made (each pass over
# everything still young, and again as it ages) free nothing. The collector is paused for the import
# and resumed as it was (a cold start's first tools/call: ~5M instructions, 1.5%, less;
# tests/unit/test_imports.py).
_collecting = gc.isenabled()
gc.disable()
try:
    from .context import LOG_LEVELS, Context, ElicitOutcome
    from .features import ResourceNotFound, ToolError
    from .registry import Server
    from .serving import UVICORN_DEFAULTS
    from .session import Connection, SessionSnapshot
finally:
    if _collecting:
        gc.enable()

if TYPE_CHECKING:
    from ..protocol.tasks import TaskPolicy, TaskRecord
    from .shared import MemoryState, SharedState
    from .tasks import MemoryTaskStore, TaskStore, TaskStoreUnavailable, TooManyTasks, VisibleTaskStore

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
    "SharedState",
    "MemoryState",
    "MemoryTaskStore",
    "TaskPolicy",
    "TaskRecord",
    "TaskStore",
    "TaskStoreUnavailable",
    "TooManyTasks",
    "VisibleTaskStore",
]

# The tasks' names load their modules on first use: a server with no task tool never imports them
# (cold start; tests/unit/test_imports.py).
_LAZY = {
    "MemoryState": "mcpbind.server.shared",  # loaded by `server.shared`'s first read too
    "SharedState": "mcpbind.server.shared",
    "TaskPolicy": "mcpbind.protocol.tasks",
    "TaskRecord": "mcpbind.protocol.tasks",
    "MemoryTaskStore": "mcpbind.server.tasks",
    "TaskStore": "mcpbind.server.tasks",
    "TaskStoreUnavailable": "mcpbind.server.tasks",
    "TooManyTasks": "mcpbind.server.tasks",
    "VisibleTaskStore": "mcpbind.server.tasks",
}


def __getattr__(name: str) -> Any:
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(where), name)
    globals()[name] = value
    return value
