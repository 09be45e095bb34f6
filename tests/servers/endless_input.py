"""A server whose one tool, `nag`, asks the client for input without end (each answer brings another
question), for the client's bound on the rounds of a stateless call: `python tests/servers/endless_input.py`
(stdio). On the stateless revisions each question is an InputRequiredResult and the call is retried with
the answers so far; the server keeps asking."""

from __future__ import annotations

from mcpbind.server import Context, Server

server = Server("endless-input", "0")
SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}}


@server.tool()
async def nag(ctx: Context) -> str:
    round_ = 0
    while True:
        round_ += 1
        await ctx.elicit(f"Question {round_}?", SCHEMA, key=f"q{round_}")


if __name__ == "__main__":
    server.run()
