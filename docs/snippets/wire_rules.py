"""The wire rules, shown on the generated types of one revision."""

from mcpbind import wire
from mcpbind.generated import v2025_11_25 as mcp_2025
from mcpbind.generated import v2026_07_28 as mcp

# Members left unset are absent; required constants (`type`) are always sent.
print(wire.encode(mcp.TextContent(text="hi")))

# `resultType` absent on input means "complete", and is always sent.
result = wire.decode(b'{"content": [{"type": "text", "text": "hi"}]}', mcp.CallToolResult)
print(result.result_type, wire.encode(result))

# Numbers keep what was sent: 1 stays 1, 1.0 stays 1.0.
progress = b'{"progressToken": "t", "progress": 1, "total": 2.0}'
print(wire.encode(wire.decode(progress, mcp.ProgressNotificationParams)))

# Open objects (`_meta`, free-form maps such as `arguments`) keep every member; closed ones drop
# what the schema does not declare.
call = b'{"name": "add", "arguments": {"a": 1, "x": [1]}, "surprise": true}'
print(wire.encode(wire.decode(call, mcp_2025.CallToolRequestParams)))

# Bounds are enforced on decode, and `integer` members take JSON integers only.
try:
    wire.decode(b'{"completion": {"values": [], "total": 1.0}}', mcp.CompleteResult)
except wire.ValidationError as exc:
    print("refused:", exc)
