"""A first client: start first_server.py as a subprocess and use everything it offers."""

import asyncio
import sys

from mcpbind.client import Client
from mcpbind.generated import latest  # the types every result is given in


async def main() -> None:
    async with Client.stdio(sys.executable, ["first_server.py"]) as client:
        print("revision:", client.revision)
        print("tools:", [tool.name for tool in await client.list_tools()])
        result = await client.call_tool("add", {"a": 2, "b": 3})
        print("add:", result.structured_content)
        read = await client.read_resource("greeting://Ada")
        for contents in read.contents:  # text or blob contents
            if isinstance(contents, latest.TextResourceContents):
                print("greeting:", contents.text)
        prompt = await client.get_prompt("review", {"code": "x = 1"})
        message = prompt.messages[0].content  # text, image, audio, a resource...
        if isinstance(message, latest.TextContent):
            print("prompt:", message.text.splitlines()[0])


asyncio.run(main())
