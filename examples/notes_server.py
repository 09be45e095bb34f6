"""Notes: tools to add and find notes, each note a templated resource, a prompt, and completions.

python examples/notes_server.py                                 # stdio
python examples/notes_server.py --transport http --port 8000    # Streamable HTTP at /mcp
"""

from mcpbind.server import ResourceNotFound, Server

server = Server("notes", "1.0.0", instructions="Keeps notes by title.")
notes: dict[str, str] = {}


@server.tool(annotations={"idempotentHint": True})
def add_note(title: str, text: str) -> str:
    """Add a note (or replace the one with that title)."""
    notes[title] = text
    return f"Saved {title!r}."


@server.tool(annotations={"readOnlyHint": True})
def find_notes(query: str) -> list[str]:
    """The titles of the notes that mention `query`."""
    return [title for title, text in notes.items() if query.lower() in f"{title} {text}".lower()]


@server.resource("notes://{title}", mime_type="text/plain")
def note(title: str) -> str:
    """One note's text."""
    if title not in notes:
        raise ResourceNotFound(title)
    return notes[title]


@server.prompt()
def summarize(title: str) -> str:
    """Ask the model to summarize a note."""
    return f"Summarize this note in one sentence:\n\n{notes.get(title, '')}"


@server.completion("prompt", "summarize")
@server.completion("resource", "notes://{title}")
def complete_title(argument: str, value: str, context: dict[str, str]) -> list[str]:
    return sorted(title for title in notes if title.startswith(value))


if __name__ == "__main__":
    server.run()
