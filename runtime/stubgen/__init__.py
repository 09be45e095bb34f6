"""Typed stubs for one server's tools: JSON Schema to Structs (`schema`), the module text (`render`);
a schema as a type made in this process (`compiled`), which checks structured tool results.

Used by `mcpbind stubs`; the generated modules stand on `mcpbind.client.toolstubs` at run time.
"""
