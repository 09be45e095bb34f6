"""The `mcpbind` command: inspect a server, or call one of its tools.

mcpbind inspect [--mode auto|legacy|REVISION] -- COMMAND [ARGS...]
mcpbind call TOOL '{"json": "arguments"}' [--mode ...] -- COMMAND [ARGS...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from . import wire
from .client import Client
from .errors import McpError, SessionClosed
from .protocol import revisions


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mcpbind", description="Talk to an MCP server over stdio or HTTP.")
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--mode", default="auto", help=f"auto, legacy, or one of {', '.join(revisions.ALL)}")
    common.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for each answer")
    inspect = sub.add_parser(
        "inspect", parents=[common], help="revision, server info, capabilities, tools, ..."
    )
    inspect.add_argument("url", nargs="?", help="a Streamable HTTP endpoint (instead of -- COMMAND)")
    call = sub.add_parser("call", parents=[common], help="call a tool and print its result")
    call.add_argument("tool")
    call.add_argument("arguments", nargs="?", default="{}", help="the tool's arguments as a JSON object")
    call.add_argument("url", nargs="?", help="a Streamable HTTP endpoint (instead of -- COMMAND)")
    for command in (inspect, call):
        command.set_defaults(server=[])
        command.epilog = "A URL, or the server command after `--`: mcpbind inspect -- python server.py"
    return parser


def _show(title: str, rows: list[tuple[str, str]]) -> None:
    print(f"{title} ({len(rows)})")
    for name, detail in rows:
        print(f"  {name}" + (f"  {detail}" if detail else ""))


def _first_line(value: Any) -> str:
    return "" if not isinstance(value, str) else value.strip().splitlines()[0][:100] if value.strip() else ""


async def _inspect(client: Client) -> None:
    print(f"revision: {client.revision} ({'stateless' if client.stateless else 'stateful'})")
    print(f"server: {json.dumps(client.server_info)}")
    print(f"capabilities: {json.dumps(client.server_capabilities)}")
    if client.instructions:
        print(f"instructions: {client.instructions}")
    caps = client.server_capabilities
    if "tools" in caps:
        _show(
            "tools",
            [(t.name, _first_line(getattr(t, "description", None))) for t in await client.list_tools()],
        )
    if "resources" in caps:
        _show("resources", [(r.uri, r.name) for r in await client.list_resources()])
        _show(
            "resource templates", [(t.uri_template, t.name) for t in await client.list_resource_templates()]
        )
    if "prompts" in caps:
        _show(
            "prompts",
            [(p.name, _first_line(getattr(p, "description", None))) for p in await client.list_prompts()],
        )


async def _call(client: Client, tool: str, arguments: dict[str, Any]) -> int:
    result = await client.call_tool(tool, arguments)
    print(json.dumps(wire.to_builtins(result), indent=2))
    return 1 if getattr(result, "is_error", False) is True else 0


def _is_url(value: str | None) -> bool:
    return bool(value) and str(value).startswith(("http://", "https://"))


async def _run(args: argparse.Namespace) -> int:
    if args.command == "call" and args.url is None and _is_url(args.arguments):
        args.url, args.arguments = args.arguments, "{}"
    arguments: dict[str, Any] = {}
    if args.command == "call":
        try:
            arguments = json.loads(args.arguments)
        except json.JSONDecodeError as exc:
            raise SystemExit(f"mcpbind: the arguments are not JSON: {exc}") from None
        if not isinstance(arguments, dict):
            raise SystemExit("mcpbind: the arguments must be a JSON object")
    if args.url is not None:
        client = Client.http(args.url, mode=args.mode, request_timeout=args.timeout)
    else:
        command, *rest = args.server
        client = Client.stdio(command, rest, mode=args.mode, request_timeout=args.timeout)
    async with client:
        if args.command == "inspect":
            await _inspect(client)
            return 0
        return await _call(client, args.tool, arguments)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Everything after `--` is the server's command line, options included.
    server = argv[argv.index("--") + 1 :] if "--" in argv else []
    args = _parser().parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    url = args.url or (args.arguments if args.command == "call" and _is_url(args.arguments) else None)
    if not server and not url:
        print(
            "mcpbind: give a URL, or the server command after --, e.g. mcpbind inspect -- python server.py",
            file=sys.stderr,
        )
        return 2
    args.server = server
    try:
        return asyncio.run(_run(args))
    except McpError as exc:
        print(f"mcpbind: the server answered with error {exc.code}: {exc.message}", file=sys.stderr)
        return 1
    except (SessionClosed, OSError) as exc:
        print(f"mcpbind: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
