"""mcpbind: the Model Context Protocol for Python, generated from the official MCP JSON schema.

`mcpbind.generated.<revision>` holds the bindings of each schema revision; `mcpbind.wire` is the codec
they stand on; `mcpbind.methods` describes method tables. Importing `mcpbind` imports nothing else.
"""

__version__ = "0.1.0"
