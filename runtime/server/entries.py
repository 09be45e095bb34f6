"""What the registry records of each registration: a tool's, a resource's, a resource template's and
a prompt's function with its definition (the JSON the lists send) and what running it needs."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec

from .signature import Signature

if TYPE_CHECKING:
    from .uritemplate import UriTemplate  # loaded by the first resource template

__all__ = ["PromptEntry", "ResourceEntry", "TemplateEntry", "ToolEntry"]


class ToolEntry(msgspec.Struct):
    name: str
    fn: Callable[..., Any]
    signature: Signature
    definition: dict[str, Any]
    param_paths: dict[str, tuple[str, ...]] | None = None
    """The argument paths its `Mcp-Param-*` headers mirror (its `x-mcp-header`s): found on first need."""
    call_decoders: dict[str, Callable[[bytes], Any]] | None = None
    """HTTP's one-pass decoders of a whole stateless call of it, its arguments read straight into its
    `Signature.arguments`, by revision: made on first need (`StatelessRoute.decode_whole`)."""
    reads_direct: bool | None = None
    """Its `Signature.arguments` read straight from a call's JSON are what converting that JSON's
    arguments object makes, and refused where converting refuses (`plain.reads_direct`): None until
    first asked."""
    read_arguments: Callable[[msgspec.Raw], Any] | None = None
    """stdio's reader of a call's `arguments`, left as JSON, into its `Signature.arguments`: made on
    first need (`plain.arguments_reader`)."""
    task_support: str = "forbidden"
    """Whether it runs as a task: "forbidden", "optional" or "required" (`execution.taskSupport`)."""
    defer_task: bool = False
    """It becomes a task only when it calls `Context.become_task` (after gathering input)."""
    plain: bool = False
    """It takes no `Context` and never runs as a task (set from the two above: a call of it needs
    nothing of a connection unless middleware does)."""
    one_step: bool = False
    """`plain`, and its arguments need no adapter (`Signature.adapters`): a call of it can be answered
    in one step (`server.plain`)."""
    at_once: bool = False
    """`one_step`, with no argument mirrored in an `Mcp-Param-*` header and a name no header value sent
    encoded begins with: a stateless call of it may be answered ahead of the classifier
    (`StatelessRoute.at_once`). Set with `param_paths`, when they are found (by its first call)."""

    def __post_init__(self) -> None:
        self.plain = not self.signature.context_param and self.task_support == "forbidden"
        self.one_step = self.plain and not self.signature.adapters


class ResourceEntry(msgspec.Struct):
    uri: str
    fn: Callable[..., Any]
    definition: dict[str, Any]
    mime_type: str | None
    ttl_ms: int
    cache_scope: str
    context_param: str | None = None
    """The parameter the request's `Context` is passed as, if the function takes one."""


class TemplateEntry(msgspec.Struct):
    template: UriTemplate
    fn: Callable[..., Any]
    definition: dict[str, Any]
    mime_type: str | None
    ttl_ms: int
    cache_scope: str
    context_param: str | None
    arguments: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    """What makes the variables the function's parameter types (`signature.uri_arguments`)."""


class PromptEntry(msgspec.Struct):
    name: str
    fn: Callable[..., Any]
    signature: Signature
    definition: dict[str, Any]
