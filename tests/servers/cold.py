"""The smallest stdio server, as a user writes one: its one tool, `loaded`, answers the modules the
process has imported so far, so that a test sees what a server's first tools/call costs in imports.

`python tests/servers/cold.py`
"""

from __future__ import annotations

import sys

from mcpbind.server import Server

server = Server("cold", "1.0.0")


@server.tool()
async def loaded() -> list[str]:
    """The names of the modules this process has imported."""
    return sorted(sys.modules)


if __name__ == "__main__":
    server.run_stdio()
