"""The `mcpbind` command: inspect a server, call its tools, read, prompt, complete; serve a file; print a
desktop client's config entry; generate typed stubs for a server's tools.

    mcpbind inspect [--json] -- python server.py         (or a URL instead of `-- COMMAND`)
    mcpbind call TOOL '{"a": 1}' [-a key=value] URL
    mcpbind read URI | prompt NAME [key=value...] | complete --prompt NAME ARGUMENT VALUE
    mcpbind run server.py [--transport http --port 8000]
    mcpbind config server.py
    mcpbind stubs -o weather_client.py [--check] -- python weather.py
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from ..errors import McpError, SessionClosed
from . import commands
from .connect import add_connection_options, connect, is_url, split_server
from .output import Reporter, shown

__all__ = ["main", "parser"]

_SERVER_EPILOG = (
    "The server: a URL (the last argument, or --url), or its command after `--`: "
    "mcpbind inspect -- python server.py"
)


def parser() -> argparse.ArgumentParser:
    """The command line's parser (every command's help text comes from here)."""
    top = argparse.ArgumentParser(
        prog="mcpbind",
        description="Talk to an MCP server over stdio or HTTP, serve one, or generate typed stubs.",
    )
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def talking(name: str, help: str) -> argparse.ArgumentParser:
        command = sub.add_parser(name, help=help, description=help, epilog=_SERVER_EPILOG)
        add_connection_options(command)
        command.add_argument("--json", action="store_true", help="print JSON (for scripts)")
        command.add_argument(
            "--log-level", help="ask the server for log messages of this level and up (on stderr)"
        )
        return command

    inspect = talking(
        "inspect", "show the revision, server info, capabilities, tools, resources, templates, prompts"
    )
    inspect.add_argument("target", nargs="?", metavar="URL", help=argparse.SUPPRESS)

    call = talking("call", "call a tool and print its result as JSON (exit 1 when the tool fails)")
    call.add_argument("tool", help="the tool's name")
    call.add_argument("arguments", nargs="?", default="{}", help="the tool's arguments, a JSON object")
    call.add_argument("target", nargs="?", metavar="URL", help=argparse.SUPPRESS)
    call.add_argument(
        "-a",
        "--arg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="one argument (JSON value, or text)",
    )

    read = talking("read", "read a resource and print its text")
    read.add_argument("uri", help="the resource's URI")
    read.add_argument("target", nargs="?", metavar="URL", help=argparse.SUPPRESS)

    prompt = talking("prompt", "get a prompt and print its messages")
    prompt.add_argument("name", help="the prompt's name")
    prompt.add_argument("arg", nargs="*", metavar="KEY=VALUE", help="the prompt's arguments")

    complete = talking("complete", "complete an argument of a prompt or resource template")
    complete.add_argument("argument", help="the argument's name")
    complete.add_argument("value", nargs="?", default="", help="what is typed so far")
    complete.add_argument("target", nargs="?", metavar="URL", help=argparse.SUPPRESS)
    complete.add_argument("--prompt", help="the prompt the argument belongs to")
    complete.add_argument("--template", metavar="URI_TEMPLATE", help="the resource template it belongs to")
    complete.add_argument(
        "--context", action="append", default=[], metavar="KEY=VALUE", help="an argument already chosen"
    )

    run = sub.add_parser(
        "run",
        help="serve the mcpbind Server a Python file defines",
        description="serve the mcpbind Server a Python file defines (named `server`, or the only one)",
    )
    run.add_argument("file", help="the Python file")
    run.add_argument(
        "--server", dest="server_name", help="the name of the Server in the file, when it has several"
    )
    run.add_argument(
        "--transport", choices=["stdio", "http"], default="stdio", help="stdio (default) or Streamable HTTP"
    )
    run.add_argument("--host", default="127.0.0.1", help="HTTP: the address to bind (127.0.0.1)")
    run.add_argument("--port", type=int, default=8000, help="HTTP: the port (8000)")
    run.add_argument("--path", default="/mcp", help="HTTP: the endpoint's path (/mcp)")

    config = sub.add_parser(
        "config",
        help="print a desktop MCP client's config entry for a server",
        description=(
            "print the `mcpServers` entry a desktop MCP client's JSON config needs: for a server file "
            "(run by `mcpbind run`), a URL, or a command after `--`"
        ),
    )
    config.add_argument("target", nargs="?", metavar="FILE_OR_URL", help="a server file or a URL")
    config.add_argument("--name", help="the entry's name (default: from the file, command or host)")
    config.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an environment variable for the server",
    )

    stubs = talking("stubs", "write a typed Python module for a server's tools, resources and prompts")
    stubs.add_argument(
        "target", nargs="?", metavar="URL_OR_JSON", help="a URL, or a saved tools/list JSON file"
    )
    stubs.add_argument(
        "-o", "--output", required=True, help="the module to write (or, with --check, to check)"
    )
    stubs.add_argument("--class-name", help="the generated class's name (default: from the server's name)")
    stubs.add_argument(
        "--check", action="store_true", help="exit 1 if the module no longer matches the server"
    )
    return top


def _resolve_target(args: argparse.Namespace) -> None:
    """Where the server is: `--url`, a URL given as the last argument, or the command after `--`."""
    target = getattr(args, "target", None)
    if args.command == "call" and target is None and is_url(args.arguments):
        target, args.arguments = args.arguments, "{}"
    if args.command == "prompt" and args.arg and is_url(args.arg[-1]):
        target, args.arg = args.arg[-1], args.arg[:-1]
    if target is not None and args.url is None and is_url(target):
        args.url = target
    elif target is not None and args.command != "stubs":
        raise SystemExit(f"mcpbind: not a URL: {target!r} (a server command goes after --)")


async def _talk(args: argparse.Namespace, reporter: Reporter) -> int:
    if args.command == "stubs" and args.url is None and not args.server:
        from .stubs import from_file, stubs

        return stubs(from_file(args.target), args)
    async with connect(args, reporter) as client:
        if args.command == "inspect":
            return await commands.inspect(client, args)
        if args.command == "call":
            return await commands.call(client, args, reporter)
        if args.command == "read":
            return await commands.read(client, args)
        if args.command == "prompt":
            return await commands.prompt(client, args)
        if args.command == "complete":
            return await commands.complete(client, args)
        from .stubs import from_client, stubs

        return stubs(await from_client(client), args)


def main(argv: list[str] | None = None) -> int:
    own, server = split_server(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(own)
    args.server = server
    if args.command == "run":
        from .serve import run

        return run(args)
    if args.command == "config":
        from .serve import config

        return config(args)
    _resolve_target(args)
    if args.url is None and not server and not (args.command == "stubs" and args.target):
        print(
            "mcpbind: give a URL, or the server command after --, "
            f"e.g. mcpbind {args.command} -- python server.py",
            file=sys.stderr,
        )
        return 2
    reporter = Reporter()
    try:
        return asyncio.run(_talk(args, reporter))
    except McpError as exc:
        reporter.done()
        # Not "the server answered": a timeout, or an answer this client could not read, is ours.
        print(f"mcpbind: error {exc.code}: {shown(exc.message)}", file=sys.stderr)
        return 1
    except (SessionClosed, OSError) as exc:
        reporter.done()
        print(f"mcpbind: {exc}", file=sys.stderr)
        return 1
