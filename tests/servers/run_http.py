"""A one-tool server started the way users start one: `Server.run_http`, at uvicorn log level info.

`python tests/servers/run_http.py --http PORT [--json] [--access-log] [--max-body N]`
"""

from __future__ import annotations

import argparse

from mcpbind.server import Server
from mcpbind.transports.http import HttpSecurity

server = Server("run-http", "1.0.0")


@server.tool()
async def echo(text: str) -> str:
    return text


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--http", type=int, required=True, metavar="PORT")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--access-log", action="store_true")
    parser.add_argument("--max-body", type=int, default=None)
    args = parser.parse_args()
    options = {"access_log": True} if args.access_log else {}
    security = HttpSecurity(max_body=args.max_body) if args.max_body is not None else None
    server.run_http(port=args.http, json_response=args.json, security=security, log_level="info", **options)
