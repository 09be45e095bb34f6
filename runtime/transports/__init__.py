"""Transports: thin adapters between the bytes of a wire (stdio, Streamable HTTP) and the asyncio peer."""
