"""Hand-written msgspec Structs of the benchmarked messages' shapes: the floor for `bench/codec.py`.

Plain msgspec, no mcpbind layer, written the way a careful hand-writer would with msgspec alone:

* closed objects are `msgspec.Struct`s with wire names and `UNSET` defaults (absent stays absent);
* unions are tagged where the wire has a tag (`type` on content blocks, `method` on input requests,
  `mode` on elicitation params; the form arm's optional `mode` is taken as required here);
* open objects (`_meta`, `inputSchema`, tool `arguments`) are plain `dict[str, Any]`: every member
  survives, none is validated. mcpbind validates the declared members of these (`_meta`'s reserved
  `io.modelcontextprotocol/*` keys, `inputSchema.type`), which is the work this floor skips;
* the elicitation `PrimitiveSchemaDefinition` union, which msgspec cannot tag (four arms share
  `type: "string"`), is one permissive Struct carrying every arm's members.

Imported only by the msgspec worker of `bench/codec.py`, in the mcpbind environment.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from msgspec import UNSET, UnsetType


class _S(msgspec.Struct, kw_only=True):
    pass


# --- shared -----------------------------------------------------------------------------------------


class Annotations(_S, kw_only=True):
    audience: list[Literal["assistant", "user"]] | UnsetType = UNSET
    last_modified: str | UnsetType = msgspec.field(default=UNSET, name="lastModified")
    priority: float | UnsetType = UNSET


class TextContent(_S, kw_only=True, tag_field="type", tag="text"):
    meta: dict[str, Any] | UnsetType = msgspec.field(default=UNSET, name="_meta")
    annotations: Annotations | UnsetType = UNSET
    text: str


class ImageContent(_S, kw_only=True, tag_field="type", tag="image"):
    meta: dict[str, Any] | UnsetType = msgspec.field(default=UNSET, name="_meta")
    annotations: Annotations | UnsetType = UNSET
    data: str
    mime_type: str = msgspec.field(name="mimeType")


class AudioContent(_S, kw_only=True, tag_field="type", tag="audio"):
    meta: dict[str, Any] | UnsetType = msgspec.field(default=UNSET, name="_meta")
    annotations: Annotations | UnsetType = UNSET
    data: str
    mime_type: str = msgspec.field(name="mimeType")


class ResourceLink(_S, kw_only=True, tag_field="type", tag="resource_link"):
    meta: dict[str, Any] | UnsetType = msgspec.field(default=UNSET, name="_meta")
    annotations: Annotations | UnsetType = UNSET
    uri: str
    name: str
    title: str | UnsetType = UNSET
    description: str | UnsetType = UNSET
    mime_type: str | UnsetType = msgspec.field(default=UNSET, name="mimeType")
    size: int | UnsetType = UNSET


class EmbeddedResource(_S, kw_only=True, tag_field="type", tag="resource"):
    meta: dict[str, Any] | UnsetType = msgspec.field(default=UNSET, name="_meta")
    annotations: Annotations | UnsetType = UNSET
    resource: dict[str, Any]


ContentBlock = TextContent | ImageContent | AudioContent | ResourceLink | EmbeddedResource


# --- 1. tools/call request ------------------------------------------------------------------------------


class CallToolRequestParams(_S, kw_only=True):
    meta: dict[str, Any] = msgspec.field(name="_meta")
    name: str
    arguments: dict[str, Any] | UnsetType = UNSET
    input_responses: dict[str, dict[str, Any]] | UnsetType = msgspec.field(
        default=UNSET, name="inputResponses"
    )
    request_state: str | UnsetType = msgspec.field(default=UNSET, name="requestState")


class CallToolRequest(_S, kw_only=True):
    jsonrpc: Literal["2.0"] = "2.0"
    id: int | str
    method: Literal["tools/call"] = "tools/call"
    params: CallToolRequestParams


# --- 2. tools/call result -------------------------------------------------------------------------------


class CallToolResult(_S, kw_only=True):
    meta: dict[str, Any] | UnsetType = msgspec.field(default=UNSET, name="_meta")
    content: list[ContentBlock]
    structured_content: Any | UnsetType = msgspec.field(default=UNSET, name="structuredContent")
    is_error: bool | UnsetType = msgspec.field(default=UNSET, name="isError")
    result_type: str = msgspec.field(default="complete", name="resultType")


# --- 3. tools/list result -------------------------------------------------------------------------------


class ToolAnnotations(_S, kw_only=True):
    title: str | UnsetType = UNSET
    read_only_hint: bool | UnsetType = msgspec.field(default=UNSET, name="readOnlyHint")
    destructive_hint: bool | UnsetType = msgspec.field(default=UNSET, name="destructiveHint")
    idempotent_hint: bool | UnsetType = msgspec.field(default=UNSET, name="idempotentHint")
    open_world_hint: bool | UnsetType = msgspec.field(default=UNSET, name="openWorldHint")


class Icon(_S, kw_only=True):
    src: str
    mime_type: str | UnsetType = msgspec.field(default=UNSET, name="mimeType")
    sizes: list[str] | UnsetType = UNSET
    theme: Literal["light", "dark"] | UnsetType = UNSET


class Tool(_S, kw_only=True):
    meta: dict[str, Any] | UnsetType = msgspec.field(default=UNSET, name="_meta")
    name: str
    title: str | UnsetType = UNSET
    description: str | UnsetType = UNSET
    icons: list[Icon] | UnsetType = UNSET
    input_schema: dict[str, Any] = msgspec.field(name="inputSchema")
    output_schema: dict[str, Any] | UnsetType = msgspec.field(default=UNSET, name="outputSchema")
    annotations: ToolAnnotations | UnsetType = UNSET


class ListToolsResult(_S, kw_only=True):
    meta: dict[str, Any] | UnsetType = msgspec.field(default=UNSET, name="_meta")
    tools: list[Tool]
    next_cursor: str | UnsetType = msgspec.field(default=UNSET, name="nextCursor")
    ttl_ms: int | UnsetType = msgspec.field(default=UNSET, name="ttlMs")
    cache_scope: Literal["private", "public"] | UnsetType = msgspec.field(default=UNSET, name="cacheScope")
    result_type: str = msgspec.field(default="complete", name="resultType")


# --- 4. input-required result (2026-07-28) ------------------------------------------------------------


class PrimitiveSchema(_S, kw_only=True):
    """Every arm of the schema's PrimitiveSchemaDefinition union, flattened (msgspec cannot tag it)."""

    type: Literal["string", "number", "integer", "boolean", "array"]
    title: str | UnsetType = UNSET
    description: str | UnsetType = UNSET
    default: Any | UnsetType = UNSET
    format: Literal["date", "date-time", "email", "uri"] | UnsetType = UNSET
    min_length: int | UnsetType = msgspec.field(default=UNSET, name="minLength")
    max_length: int | UnsetType = msgspec.field(default=UNSET, name="maxLength")
    minimum: float | UnsetType = UNSET
    maximum: float | UnsetType = UNSET
    enum: list[str] | UnsetType = UNSET
    enum_names: list[str] | UnsetType = msgspec.field(default=UNSET, name="enumNames")
    one_of: list[dict[str, str]] | UnsetType = msgspec.field(default=UNSET, name="oneOf")
    items: dict[str, Any] | UnsetType = UNSET
    min_items: int | UnsetType = msgspec.field(default=UNSET, name="minItems")
    max_items: int | UnsetType = msgspec.field(default=UNSET, name="maxItems")


class RequestedSchema(_S, kw_only=True):
    type: Literal["object"] = "object"
    schema: str | UnsetType = msgspec.field(default=UNSET, name="$schema")
    properties: dict[str, PrimitiveSchema]
    required: list[str] | UnsetType = UNSET


class ElicitRequestFormParams(_S, kw_only=True, tag_field="mode", tag="form"):
    message: str
    requested_schema: RequestedSchema = msgspec.field(name="requestedSchema")


class ElicitRequestURLParams(_S, kw_only=True, tag_field="mode", tag="url"):
    message: str
    url: str


class ElicitRequest(_S, kw_only=True, tag_field="method", tag="elicitation/create"):
    params: ElicitRequestFormParams | ElicitRequestURLParams


class ListRootsRequest(_S, kw_only=True, tag_field="method", tag="roots/list"):
    params: dict[str, Any] | UnsetType = UNSET


class CreateMessageRequest(_S, kw_only=True, tag_field="method", tag="sampling/createMessage"):
    params: dict[str, Any]


InputRequest = CreateMessageRequest | ListRootsRequest | ElicitRequest


class InputRequiredResult(_S, kw_only=True):
    meta: dict[str, Any] | UnsetType = msgspec.field(default=UNSET, name="_meta")
    input_requests: dict[str, InputRequest] | UnsetType = msgspec.field(default=UNSET, name="inputRequests")
    request_state: str | UnsetType = msgspec.field(default=UNSET, name="requestState")
    result_type: str = msgspec.field(default="input_required", name="resultType")


TYPES: dict[str, Any] = {
    "call_tool_request": CallToolRequest,
    "call_tool_result": CallToolResult,
    "list_tools_result": ListToolsResult,
    "input_required_result": InputRequiredResult,
}
"""The type each benchmarked message decodes into."""
