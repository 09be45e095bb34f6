"""`mcpbind run FILE` serves the `Server` a Python file defines; `mcpbind config` prints the entry a desktop
MCP client's JSON configuration (`mcpServers`) needs to start or reach a server."""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .commands import key_values
from .connect import is_url

__all__ = ["config", "load_server", "run"]


def load_server(path: str, name: str | None = None) -> Any:
    """The `Server` that the Python file `path` defines: the one named `name`, else the one named
    `server`, else the only one."""
    from ..server import Server

    file = Path(path).resolve()
    if not file.is_file():
        raise SystemExit(f"mcpbind: no such file: {path}")
    sys.path.insert(0, str(file.parent))  # the file's own imports of its neighbours
    spec = importlib.util.spec_from_file_location(f"_mcpbind_run_{file.stem}", file)
    if spec is None or spec.loader is None:
        raise SystemExit(f"mcpbind: {path} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    found = {k: v for k, v in vars(module).items() if isinstance(v, Server)}
    if name is not None:
        if name not in found:
            raise SystemExit(f"mcpbind: {path} defines no Server named {name!r} (it has: {', '.join(found)})")
        return found[name]
    if "server" in found:
        return found["server"]
    if len(found) == 1:
        return next(iter(found.values()))
    what = f"several ({', '.join(sorted(found))}): choose one with --server" if found else "none"
    raise SystemExit(f"mcpbind: {path} must define one mcpbind Server; it defines {what}")


def run(args: argparse.Namespace) -> int:
    server = load_server(args.file, args.server_name)
    if args.transport == "stdio":
        server.run_stdio()
    else:
        server.run_http(args.host, args.port, path=args.path)
    return 0


def config(args: argparse.Namespace) -> int:
    env = key_values(args.env, parse=False)
    entry: dict[str, Any]
    if args.server:
        command, *rest = args.server
        entry = {"command": command, "args": rest}
        name = Path(command).name if not rest else Path(rest[-1]).stem
    elif is_url(args.target):
        entry = {"type": "http", "url": args.target}
        name = urlsplit(args.target).hostname or "server"
    elif args.target is not None:
        file = Path(args.target).resolve()
        if not file.is_file():
            raise SystemExit(f"mcpbind: no such file: {args.target}")
        entry = {"command": sys.executable, "args": ["-m", "mcpbind", "run", str(file)]}
        name = file.stem
    else:
        raise SystemExit("mcpbind: config wants a server file, a URL, or a command after --")
    if env:
        entry["env"] = env
    print(json.dumps({"mcpServers": {args.name or name: entry}}, indent=2))
    return 0
