"""The sans-I/O protocol core: JSON-RPC framing and correlation, revisions, headers, request state.

Nothing here does I/O or imports asyncio: bytes and messages in, events and bytes out.
"""
