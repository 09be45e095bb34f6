"""The smallest stdio server, as a user writes one: its tool `loaded` answers the modules the process
has imported so far, and `made` the schema types each generated revision module has created, so that a
test sees what a server's first tools/call costs in imports and in generated classes.

`python tests/servers/cold.py`
"""

from __future__ import annotations

import json
import sys

from mcpbind.server import Server

server = Server("cold", "1.0.0")


@server.tool()
async def loaded() -> list[str]:
    """The names of the modules this process has imported."""
    return sorted(sys.modules)


@server.tool()
async def made() -> str:
    """`module.Type` for each class a loaded generated revision module has created so far, as JSON
    text: a text answer, as most tools give (a structured one is validated as the method's result
    union, which creates every result type the method may have)."""
    return json.dumps(
        sorted(
            f"{name}.{attr}"
            for name, module in list(sys.modules.items())
            if name.startswith("mcpbind.generated.v")
            for attr, value in vars(module).items()
            if isinstance(value, type) and value.__module__ == name
        )
    )


if __name__ == "__main__":
    server.run_stdio()
