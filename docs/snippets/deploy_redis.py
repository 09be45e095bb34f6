"""first_server.py as one ASGI app per process, all sharing one Redis: `uvicorn deploy_redis:app`
(or `gunicorn -k uvicorn.workers.UvicornWorker deploy_redis:app`), as many as you like."""

import os

from first_server import server

from mcpbind.transports.http.redis import RedisConnection, redis_app

app = redis_app(server, RedisConnection(os.environ.get("REDIS_URL", "redis://redis:6379/0"), prefix="first:"))
