"""`mcpbind stubs`: write (or `--check`) a typed module for a server's tools, resources and prompts.

The server is a running one (a URL, or a command after `--`), or a saved JSON file: a `tools/list`
result (`{"tools": [...]}`, or the whole JSON-RPC answer), optionally with `resources`,
`resourceTemplates`, `prompts` and `serverInfo` beside it.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from pathlib import Path
from typing import Any

from .. import wire
from ..client import Client
from ..stubgen.render import Surface, format_source, render

__all__ = ["from_client", "from_file", "stubs"]


async def from_client(client: Client) -> Surface:
    caps = client.server_capabilities
    info = client.server_info
    return Surface(
        str(info.get("name", "server")),
        str(info.get("version", "")),
        wire.to_builtins(await client.list_tools()) if "tools" in caps else [],
        wire.to_builtins(await client.list_resources()) if "resources" in caps else [],
        wire.to_builtins(await client.list_resource_templates()) if "resources" in caps else [],
        wire.to_builtins(await client.list_prompts()) if "prompts" in caps else [],
    )


def from_file(path: str) -> Surface:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SystemExit(f"mcpbind: cannot read {path}: {exc}") from None
    if isinstance(data, dict) and isinstance(data.get("result"), dict):
        data = data["result"]  # a whole JSON-RPC answer
    if not isinstance(data, dict) or not isinstance(data.get("tools"), list):
        raise SystemExit(f"mcpbind: {path} holds no tools/list result (an object with a `tools` array)")
    info: dict[str, Any] = data["serverInfo"] if isinstance(data.get("serverInfo"), dict) else {}
    return Surface(
        str(info.get("name") or Path(path).stem),
        str(info.get("version", "")),
        _items(path, data, "tools", "name"),
        _items(path, data, "resources", "uri"),
        _items(path, data, "resourceTemplates", "uriTemplate"),
        _items(path, data, "prompts", "name"),
    )


def _items(path: str, data: dict[str, Any], key: str, name: str) -> list[dict[str, Any]]:
    """`data[key]`, each of its items an object with a string `name` (and a tool's schemas objects):
    a file is anyone's, and what a server would send decodes to no less."""
    items = data.get(key, [])
    if not isinstance(items, list):
        raise SystemExit(f"mcpbind: {path}: `{key}` is not an array")
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get(name), str):
            raise SystemExit(f"mcpbind: {path}: {key}[{i}] is not an object with a string `{name}`")
        for schema in ("inputSchema", "outputSchema"):
            if key == "tools" and not isinstance(item.get(schema, {}), dict):
                raise SystemExit(f"mcpbind: {path}: {key}[{i}].{schema} is not an object")
    return items


def _recorded(text: str) -> dict[str, str]:
    """The per-tool hashes a generated module records (`TOOL_SCHEMAS`); empty when it has none."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            if node.target.id == "TOOL_SCHEMAS":
                value = ast.literal_eval(node.value)
                return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}
    return {}


def stubs(surface: Surface, args: argparse.Namespace) -> int:
    try:
        source, widened = render(surface, args.class_name)
    except RecursionError:
        print("mcpbind: a schema nests too deeply to generate a module for", file=sys.stderr)
        return 2
    source, formatted = format_source(source)
    if not formatted:
        print(
            "mcpbind: ruff is not installed (the codegen extra): the module is not formatted", file=sys.stderr
        )
    for path in widened:
        print(f"mcpbind: widened: {path}", file=sys.stderr)
    out = Path(args.output)
    if not args.check:
        out.write_text(source, encoding="utf-8")
        print(f"wrote {out}: {len(surface.tools)} tools", file=sys.stderr)
        return 0
    try:
        current = out.read_text(encoding="utf-8")
    except OSError as exc:
        print(f"mcpbind: cannot read {out}: {exc}", file=sys.stderr)
        return 2
    if current == source:
        print(f"{out} is up to date", file=sys.stderr)
        return 0
    before, after = _recorded(current), _recorded(source)
    changes = [f"  added: {n}" for n in sorted(after.keys() - before.keys())]
    changes += [f"  removed: {n}" for n in sorted(before.keys() - after.keys())]
    changes += [f"  changed: {n}" for n in sorted(before.keys() & after.keys()) if before[n] != after[n]]
    print(f"{out} is out of date with the server; run `mcpbind stubs` again", file=sys.stderr)
    print(
        "\n".join(changes or ["  (resources, templates or prompts changed, or the module was edited)"]),
        file=sys.stderr,
    )
    return 1
