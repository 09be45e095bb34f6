"""Notes with the official SDK: tools, a templated resource, a prompt and completions."""

import argparse

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError
from mcp.types import Completion, PromptReference, ResourceTemplateReference, ToolAnnotations

mcp = MCPServer("notes", version="1.0.0", instructions="Keeps notes by title.")
notes: dict[str, str] = {}


@mcp.tool(annotations=ToolAnnotations(idempotent_hint=True))
def add_note(title: str, text: str) -> str:
    """Add a note (or replace the one with that title)."""
    notes[title] = text
    return f"Saved {title!r}."


@mcp.tool(annotations=ToolAnnotations(read_only_hint=True))
def find_notes(query: str) -> list[str]:
    """The titles of the notes that mention `query`."""
    return [title for title, text in notes.items() if query.lower() in f"{title} {text}".lower()]


@mcp.resource("notes://{title}", mime_type="text/plain")
def note(title: str) -> str:
    """One note's text."""
    if title not in notes:
        raise ResourceNotFoundError(title)
    return notes[title]


@mcp.prompt()
def summarize(title: str) -> str:
    """Ask the model to summarize a note."""
    return f"Summarize this note in one sentence:\n\n{notes.get(title, '')}"


@mcp.completion()
async def complete_title(ref, argument, context):
    prompt = isinstance(ref, PromptReference) and ref.name == "summarize"
    if prompt or (isinstance(ref, ResourceTemplateReference) and ref.uri == "notes://{title}"):
        return Completion(values=sorted(title for title in notes if title.startswith(argument.value)))
    return None


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--transport", choices=("stdio", "http"), default="stdio")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    if args.transport == "http":
        mcp.run("streamable-http", port=args.port)
    else:
        mcp.run()
