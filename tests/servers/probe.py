"""tests/servers/full.py with one more tool, `stats`: what the server process holds right now (asyncio
tasks, open file descriptors, resident memory). The fuzz, concurrency and soak tests drive this server
and read `stats` to check that nothing is left behind.

`python tests/servers/probe.py [--max-line N] [--revisions R,R...] [--http PORT]`
"""

from __future__ import annotations

import argparse
import asyncio
import os

from full import server  # type: ignore[import-not-found]  # the folder of this script is on sys.path


def process_stats() -> dict[str, int]:
    """This process's asyncio tasks (the caller's own included), open fds and RSS in kB."""
    rss = 0
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return {"tasks": len(asyncio.all_tasks()), "fds": len(os.listdir("/proc/self/fd")), "rss_kb": rss}


@server.tool()
async def stats() -> dict[str, int]:
    """Tasks, fds and RSS of the server process (structured output)."""
    return process_stats()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-line", type=int, default=None)
    parser.add_argument("--revisions", default=None)
    parser.add_argument("--http", type=int, default=None, metavar="PORT")
    args = parser.parse_args()
    if args.revisions:
        server.revisions = tuple(args.revisions.split(","))
    if args.http is not None:
        # The load tests keep a thousand pooled connections, many idle for seconds between their
        # requests: a keep-alive longer than uvicorn's 5 s keeps the server from closing one just as
        # the client reuses it (a race of HTTP keep-alive that the tests are not about).
        server.run_http(port=args.http, log_level="warning", timeout_keep_alive=120)
    else:
        asyncio.run(server.serve_stdio(max_line=args.max_line))
