"""How the `mcpbind` command reaches a server: a URL, or a command after `--`, and the options of either.

The options of the connection live here (`add_connection_options`, `connect`); the auth options
(`--token`, OAuth) belong beside `--header`, in `add_connection_options` and `_http_options`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from ..client import Client
from ..client.options import ClientOptions
from ..protocol import revisions
from .output import Reporter

__all__ = ["add_connection_options", "connect", "is_url", "split_server"]


def is_url(value: str | None) -> bool:
    return bool(value) and str(value).startswith(("http://", "https://"))


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("connection")
    group.add_argument(
        "--url", help="the server's Streamable HTTP endpoint (or give it as the last argument)"
    )
    group.add_argument("--mode", default="auto", help=f"auto, legacy, or one of {', '.join(revisions.ALL)}")
    group.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for each answer (30)")
    group.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="an HTTP header to send with every request (repeatable; URLs only)",
    )
    group.add_argument("--cwd", help="the server command's working directory (commands only)")


def split_server(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """The command's own arguments, and the server's command line (everything after `--`)."""
    if "--" in argv:
        at = list(argv).index("--")
        return list(argv[:at]), list(argv[at + 1 :])
    return list(argv), []


def _headers(values: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for value in values:
        name, sep, rest = value.partition(":")
        if not sep or not name.strip():
            raise SystemExit(f"mcpbind: --header wants 'Name: value', not {value!r}")
        headers[name.strip()] = rest.strip()
    return headers


def _http_options(args: argparse.Namespace) -> dict[str, Any]:
    return {"headers": _headers(args.header)}


def connect(args: argparse.Namespace, reporter: Reporter) -> Client:
    """The client of the server the arguments name (not connected yet)."""
    if args.mode not in ("auto", "legacy", *revisions.ALL):
        raise SystemExit(f"mcpbind: --mode must be auto, legacy or one of {', '.join(revisions.ALL)}")
    options: ClientOptions = {
        "mode": args.mode,
        "request_timeout": args.timeout,
        "on_log": reporter.log,
        "log_level": getattr(args, "log_level", None),
    }
    if args.url is not None:
        return Client.http(args.url, **_http_options(args), **options)
    if args.header:
        print("mcpbind: --header applies to a URL, not to a server command", file=sys.stderr)
    command, *rest = args.server
    return Client.stdio(command, rest, cwd=args.cwd, **options)
