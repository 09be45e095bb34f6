"""The `mcpbind` commands that talk to a server: inspect, call, read, prompt, complete."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .. import wire
from ..client import Client
from .output import Reporter, as_json, first_line, shown

__all__ = ["complete", "inspect", "key_values", "read", "call", "prompt"]


def key_values(pairs: list[str], *, parse: bool) -> dict[str, Any]:
    """`key=value` arguments as a dict; with `parse`, each value is read as JSON when it is JSON."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"mcpbind: expected key=value, not {pair!r}")
        if parse:
            try:
                out[key] = json.loads(value)
            except json.JSONDecodeError:
                out[key] = value
        else:
            out[key] = value
    return out


def _show(title: str, rows: list[tuple[str, str]]) -> None:
    print(f"{title} ({len(rows)})")
    for name, detail in rows:
        print(f"  {shown(name)}" + (f"  {shown(detail)}" if detail else ""))


async def inspect(client: Client, args: argparse.Namespace) -> int:
    caps = client.server_capabilities
    tools = await client.list_tools() if "tools" in caps else []
    resources = await client.list_resources() if "resources" in caps else []
    templates = await client.list_resource_templates() if "resources" in caps else []
    prompts = await client.list_prompts() if "prompts" in caps else []
    if args.json:
        print(
            as_json(
                {
                    "revision": client.revision,
                    "stateless": client.stateless,
                    "serverInfo": client.server_info,
                    "capabilities": caps,
                    "instructions": client.instructions,
                    "tools": tools,
                    "resources": resources,
                    "resourceTemplates": templates,
                    "prompts": prompts,
                }
            )
        )
        return 0
    print(f"revision: {client.revision} ({'stateless' if client.stateless else 'stateful'})")
    print(f"server: {json.dumps(client.server_info)}")
    print(f"capabilities: {json.dumps(caps)}")
    if client.instructions:
        print(f"instructions: {shown(client.instructions)}")
    if "tools" in caps:
        _show("tools", [(t.name, first_line(t.description or None)) for t in tools])
    if "resources" in caps:
        _show("resources", [(r.uri, r.name) for r in resources])
        _show("resource templates", [(t.uri_template, t.name) for t in templates])
    if "prompts" in caps:
        _show("prompts", [(p.name, first_line(p.description or None)) for p in prompts])
    return 0


async def call(client: Client, args: argparse.Namespace, reporter: Reporter) -> int:
    try:
        arguments = json.loads(args.arguments)
    except json.JSONDecodeError as exc:
        raise SystemExit(f"mcpbind: the arguments are not JSON: {exc}") from None
    if not isinstance(arguments, dict):
        raise SystemExit("mcpbind: the arguments must be a JSON object")
    arguments.update(key_values(args.arg, parse=True))
    try:
        result = await client.call_tool(args.tool, arguments, progress=reporter.progress)
    finally:
        reporter.done()
    print(as_json(result))
    return 1 if result.is_error is True else 0


async def read(client: Client, args: argparse.Namespace) -> int:
    result = await client.read_resource(args.uri)
    if args.json:
        print(as_json(result))
        return 0
    for contents in result.contents:
        data = wire.to_builtins(contents)
        if "text" in data:
            print(data["text"])
        else:
            kind = data.get("mimeType", "binary")
            print(f"<{kind}: {len(data.get('blob', '')) * 3 // 4} bytes, base64 in --json>")
    return 0


async def prompt(client: Client, args: argparse.Namespace) -> int:
    result = await client.get_prompt(args.name, key_values(args.arg, parse=False) or None)
    if args.json:
        print(as_json(result))
        return 0
    if result.description:
        print(f"# {result.description}")
    for message in result.messages:
        data = wire.to_builtins(message.content)
        body = data["text"] if data.get("type") == "text" else json.dumps(data, ensure_ascii=False)
        print(f"{message.role}: {body}")
    return 0


async def complete(client: Client, args: argparse.Namespace) -> int:
    if (args.prompt is None) == (args.template is None):
        raise SystemExit("mcpbind: complete wants one of --prompt NAME or --template URI")
    ref = (
        {"type": "ref/prompt", "name": args.prompt}
        if args.prompt is not None
        else {"type": "ref/resource", "uri": args.template}
    )
    context = key_values(args.context, parse=False) or None
    result = await client.complete(ref, {"name": args.argument, "value": args.value}, context)
    if args.json:
        print(as_json(result))
        return 0
    for value in result.completion.values:
        print(value)
    return 0
