"""Streamable HTTP: the ASGI server application (`HttpApp`) and the client transports over HTTP/1.1."""

from .app import HttpApp
from .security import HttpSecurity, TokenVerifier
from .sessions import MemorySessionStore, SessionState, SessionStore, StoreUnavailable
from .sse import EventStore, MemoryEventStore

__all__ = [
    "HttpApp",
    "HttpSecurity",
    "TokenVerifier",
    "SessionState",
    "SessionStore",
    "MemorySessionStore",
    "EventStore",
    "MemoryEventStore",
    "StoreUnavailable",
]
