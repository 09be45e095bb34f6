"""OAuth 2.1 authorization for MCP: the resource server (mcpbind.auth.server) and the client (mcpbind.auth.client)."""
