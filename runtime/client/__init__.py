"""The MCP client: negotiates the era and revision with any server, over stdio or Streamable HTTP.

from mcpbind.client import Client
"""

from .api import Client
from .negotiate import UNSUPPORTED_PROTOCOL_VERSION

__all__ = ["Client", "UNSUPPORTED_PROTOCOL_VERSION"]
