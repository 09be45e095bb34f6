"""Typed stubs for one server's tools: JSON Schema to Structs (`schema`), the module text (`render`).

Used by `mcpbind stubs`; the generated modules stand on `mcpbind.client.toolstubs` at run time.
"""
