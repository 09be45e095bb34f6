"""Streamable HTTP: the ASGI server application, and the client transports over an HTTP/1.1 client."""
