"""The MCP client: negotiates the era and revision with any server, over stdio or Streamable HTTP.

from mcpbind.client import Client
"""

from .api import Client
from .calls import UnexpectedResult
from .options import ClientOptions, Mode
from .tasks import TaskHandle, TaskInfo, TaskOptions

__all__ = [
    "Client",
    "ClientOptions",
    "Mode",
    "TaskHandle",
    "TaskInfo",
    "TaskOptions",
    "UNSUPPORTED_PROTOCOL_VERSION",
    "UnexpectedResult",
]


def __getattr__(name: str) -> int:
    # `UNSUPPORTED_PROTOCOL_VERSION` is read on use, from `protocol.revisions`: the generated module that
    # defines it costs tens of milliseconds to import, which `import mcpbind.client` does not pay.
    if name == "UNSUPPORTED_PROTOCOL_VERSION":
        from ..protocol import revisions

        return revisions.UNSUPPORTED_PROTOCOL_VERSION
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
