"""The WebSocket transport (SEP-1288, a proposal): one JSON-RPC message per text frame, subprotocol `mcp`."""
