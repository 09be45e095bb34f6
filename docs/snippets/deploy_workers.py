"""first_server.py on four worker processes sharing one port, its sessions and events in Redis."""

import os

from first_server import server

server.run_http(
    host="0.0.0.0",  # behind your load balancer; 127.0.0.1 serves this machine only
    port=int(os.environ.get("PORT", "8000")),
    workers=int(os.environ.get("WORKERS", "4")),
    redis=os.environ.get("REDIS_URL", "redis://redis:6379/0"),
)
