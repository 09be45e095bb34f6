"""How the `mcpbind` command reaches a server: a URL, or a command after `--`, and the options of either.

The options of the connection live here (`add_connection_options`, `connect`). A URL is authorized
with `--token` (a bearer token) or, by default, with the OAuth flow when the server answers 401: the
browser opens the authorization server's page and a loopback listener takes the redirect
(`mcpbind.auth.client.cli_provider`, tokens kept in a 0600 file; needs the `auth` extra).
"""

from __future__ import annotations

import argparse
import os
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
    group.add_argument(
        "--token",
        default=os.environ.get("MCPBIND_TOKEN"),
        help="a bearer token to send to a URL (default: $MCPBIND_TOKEN); without one, a URL that answers "
        "401 runs the OAuth flow in the browser",
    )
    group.add_argument(
        "--no-oauth", dest="oauth", action="store_false", help="never run the OAuth flow (URLs only)"
    )
    group.add_argument(
        "--token-file",
        help="where the OAuth flow keeps tokens (default: $XDG_STATE_HOME/mcpbind/oauth.json)",
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
    options: dict[str, Any] = {"headers": _headers(args.header)}
    if args.token:
        token: str = args.token

        async def bearer() -> str:
            return token

        options["auth"] = bearer
    elif args.oauth:
        try:
            from ..auth.client import cli_provider
        except ImportError:  # the auth extra is not installed: a 401 is reported as it is
            return options
        options["auth"] = cli_provider(args.url, token_file=args.token_file)
    return options


def connect(args: argparse.Namespace, reporter: Reporter) -> Client:
    """The client of the server the arguments name (not connected yet)."""
    if args.mode not in ("auto", "legacy", "draft", *revisions.ALL):
        raise SystemExit(f"mcpbind: --mode must be auto, legacy, draft or one of {', '.join(revisions.ALL)}")
    options: ClientOptions = {
        "mode": args.mode,
        "request_timeout": args.timeout,
        "on_log": reporter.log,
        "log_level": getattr(args, "log_level", None),
    }
    if args.url is not None:
        return Client.http(args.url, **_http_options(args), **options)
    if args.header or args.token:
        print("mcpbind: --header and --token apply to a URL, not to a server command", file=sys.stderr)
    command, *rest = args.server
    return Client.stdio(command, rest, cwd=args.cwd, **options)
