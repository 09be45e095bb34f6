"""The resource server side of MCP authorization: protected resource metadata, token verification (JWT
with JWKS, RFC 7662 introspection), DPoP proofs, required scopes.

Nothing is imported here: `mcpbind.auth.server.principal` is light and read by the core, while the
verifiers need the `mcpbind[auth]` extra (joserfc, httpx). Import what you use from its module:

    from mcpbind.auth.server.resource import ProtectedResource
    from mcpbind.auth.server.jwt import JwtVerifier
"""
