"""Tool, resource, prompt and completion execution, and results as JSON-RPC answers (mixed into `Server`).

The registry (`registry.Server`) records what is registered (`entries`); this module runs it:
revision-neutral JSON data in, JSON data (or, on the commonest path, the revision's own result type) out.
"""

from __future__ import annotations

import base64
import inspect
import logging
import typing
from collections.abc import Awaitable, Callable, Iterable, Sequence
from types import FunctionType, ModuleType
from typing import TYPE_CHECKING, Any, Final

import msgspec
from msgspec import UNSET, UnsetType

from .. import wire
from ..aio import own
from ..aio.own import handler_fault
from ..errors import InvalidParams, McpError, clipped, quoted
from ..methods import RequestMethod
from ..protocol import eras, revisions
from ..protocol.jsonrpc import INTERNAL_ERROR, RequestId, encode_error, encode_result
from .context import Context, NeedInput, drop_none
from .entries import PromptEntry, ResourceEntry, TemplateEntry, ToolEntry
from .scopes import RequiredScopes
from .signature import is_whole_result
from .types import is_generated, to_json, to_plain

if TYPE_CHECKING:
    from .middleware import MiddlewareChain  # loaded by the first middleware (cold start)

__all__ = [
    "ToolError",
    "ResourceNotFound",
    "Features",
    "ToolEntry",
    "ResourceEntry",
    "TemplateEntry",
    "PromptEntry",
]

log = logging.getLogger("mcpbind.server")

_asdict: Final = msgspec.structs.asdict
_astuple: Final = msgspec.structs.astuple
_convert: Final = msgspec.convert
_STRUCT: Final = msgspec.StructMeta
_NO_PATHS: Final[dict[str, tuple[str, ...]]] = {}
_DIRECT: dict[str, tuple[ModuleType, RequestMethod[Any, Any], eras.Era]] = {}
"""What a direct answer needs of its revision (module, `tools/call` method, era), by name: found once."""


class ToolError(Exception):
    """Raised by a tool to report a failure the model should see (a result with `isError: true`)."""


class ResourceNotFound(Exception):
    """Raised by a resource function (a template's, say) for a URI it has nothing at: the client gets
    the revision's resource-not-found error."""


def text(value: Any) -> dict[str, Any]:
    return {"type": "text", "text": value if isinstance(value, str) else to_json(value).decode()}


def content_list(value: Any) -> list[dict[str, Any]]:
    """Tool/prompt return values as content blocks (JSON form)."""
    if value is None:
        return []
    if isinstance(value, list):
        return [b for item in value for b in content_list(item)]
    if isinstance(value, msgspec.Struct) and _is_block(value):
        return [wire.to_builtins(value)]
    if isinstance(value, dict) and isinstance(value.get("type"), str):
        return [value]
    return [text(value)]


def _is_block(value: msgspec.Struct) -> bool:
    """`value` is a revision's content block (`TextContent`, `ImageContent`...: its `type` says which);
    a Struct of the user's own is data, sent as its JSON text."""
    return is_generated(type(value)) and isinstance(getattr(value, "type", None), str)


def failure(rid: RequestId, method: str, exc: BaseException) -> bytes:
    """The error answer to a request whose handler raised: its McpError, or an internal error (logged)."""
    if isinstance(exc, McpError):
        return encode_error(rid, exc.code, exc.message, exc.data)
    log.error("internal error answering %s", method, exc_info=exc)
    return encode_error(rid, INTERNAL_ERROR, "Internal error")


def tool_failure(server: Features, tool: ToolEntry, exc: BaseException) -> dict[str, Any]:
    """The result of a call whose tool raised `exc` (`isError: true`); what is no fault of the tool's
    (an McpError, a request for input, the process's end, a real cancellation) is raised again."""
    if isinstance(exc, (McpError, NeedInput)):
        raise exc
    if isinstance(exc, ToolError):
        return {"content": [text(str(exc))], "isError": True}
    if not handler_fault(exc):
        raise exc
    name = tool.name
    log.error("tool %s failed", name, exc_info=exc)
    # What an unexpected exception says may be private (paths, queries, secrets): sent only if asked.
    said = f"{type(exc).__name__}: {exc}" if server.expose_errors else f"Tool {name} failed (internal error)"
    return {"content": [text(said)], "isError": True}


def _refused(server: Features, what: str, exc: Exception) -> InvalidParams:
    """The error for arguments (a prompt's, a template's variables) that a validator of the
    handler's own refused by raising what is no validation error (a TypeError, a KeyError: pydantic
    lets them through): -32602, as for a bad argument (it was -32603). What the exception says may be
    private (as a tool's): sent, clipped, only if the server exposes errors; logged."""
    log.error("a validator of %s raised %s", what, type(exc).__name__, exc_info=exc)
    said = f"{type(exc).__name__}: {clipped(str(exc))}" if server.expose_errors else type(exc).__name__
    return InvalidParams(f"Invalid arguments for {what}: its validator raised {said}")


def tool_value(
    server: Features, tool: ToolEntry, value: Any, module: ModuleType
) -> dict[str, Any] | msgspec.Struct:
    """The result of a call whose tool returned `value`, in `module`'s revision: a dict in wire form,
    converted (validated) by the caller, or, for the common text answer, the result type itself,
    built from values that cannot be wrong."""
    sig = tool.signature
    if sig.output_schema is not None:
        plain = to_plain(value)
        try:
            assert sig.check_output is not None
            sig.check_output(plain)
        except ValueError as exc:  # msgspec's and pydantic's ValidationError are ValueErrors
            # The tool's own fault: never a structuredContent its outputSchema forbids on the wire.
            log.error("tool %s returned a value its return annotation does not allow: %s", tool.name, exc)
            said = f": {exc}" if server.expose_errors else ""
            return {"content": [text(f"Tool {tool.name} returned an invalid result{said}")], "isError": True}
        structured = {"result": plain} if sig.wraps_output else plain
        return {"content": [text(plain)], "structuredContent": structured}
    if type(value) is str:
        result: msgspec.Struct = module.CallToolResult(content=[module.TextContent(text=value)])
        return result
    if is_whole_result(type(value)):
        # The whole result, built by the tool (its `_meta`, `isError`...): as it is, in the
        # revision's type (converted by the caller).
        whole: dict[str, Any] = wire.to_builtins(value)
        return whole
    return {"content": content_list(value)}


def _json_contents(uri: str, item: Any, mime_type: str | None) -> dict[str, Any]:
    """A resource function's value that is neither text nor bytes nor a contents object: a dict, a
    number, a Struct, a dataclass, a pydantic model... as its JSON text (`application/json` unless the
    resource says otherwise), as other Python MCP servers give it; a value JSON has no form for (a
    `Path`), as its `str`."""
    try:
        plain = to_plain(item)
    except TypeError:
        kind = type(item)
        own_str = any("__str__" in vars(base) for base in kind.__mro__[:-1])  # (object's aside)
        if not own_str and not isinstance(kind.__repr__, FunctionType):
            # No text of its own, its str a builtin repr: `<X object at 0x...>`, a generator's, or a
            # dict or list holding such an object: nothing the client can use, and memory addresses
            # of the server's. The handler's error, said as such (-32603).
            raise TypeError(f"a resource handler returned a {kind.__name__}, which has no text") from None
        return drop_none({"uri": uri, "mimeType": mime_type, "text": str(item)})
    if type(plain) is str:  # (a UUID, a datetime...: its text, not a JSON string)
        return drop_none({"uri": uri, "mimeType": mime_type, "text": plain})
    data = msgspec.json.encode(plain).decode()
    return {"uri": uri, "mimeType": mime_type or "application/json", "text": data}


TEXT_MARK: Final = "mcpbind:text"
_TEXT_KEY: Final = object()
ANSWER_HEAD: Final = b'{"jsonrpc":"2.0","id":'
_TEXT_CONTENT: Final = ({"type": "text", "text": TEXT_MARK},)


def text_answer(meta: Any = UNSET) -> tuple[bytes, bytes]:
    """`text_parts` of a `tools/call` result of one text block, written as the JSON its type encodes
    to (members in the type's order; `isError` and `structuredContent`, unset, left out) without
    making the type: `CallToolResult` reaches every content block's class, a dozen classes made at a
    server's first call for nothing but these bytes. With `meta` (the envelope era's stamp, converted
    as `Features.server_meta` converts it), that era's form: `_meta` first, `resultType` last. The
    tests compare it with the type's own encoding in every revision."""
    if meta is UNSET:
        result: dict[str, Any] = {"content": _TEXT_CONTENT}
    else:
        result = {"_meta": meta, "content": _TEXT_CONTENT, "resultType": "complete"}
    return text_parts(encode_result(0, result))


def text_parts(sample: bytes) -> tuple[bytes, bytes]:
    """The answer `sample` to request 0, whose result's one text is `TEXT_MARK`, around its id and
    its text: (what follows the id up to the encoded text, what follows the text). An answer to any
    id with any text is then `ANSWER_HEAD`, the id, the first part, the text and the second part,
    byte for byte what its result type encodes to."""
    assert sample.startswith(ANSWER_HEAD + b"0,"), sample
    before, _, after = sample[len(ANSWER_HEAD) + 1 :].partition(wire.encode(TEXT_MARK))
    assert after and TEXT_MARK.encode() not in after, sample
    return before, after


def opt(value: Any) -> Any:
    return None if value is UNSET else value


class Features:
    """Running what the registry holds. A mixin of `Server`, which fills in these members."""

    name: str
    version: str
    title: str | None
    info_members: dict[str, Any]
    expose_errors: bool
    middleware_chain: MiddlewareChain | None
    page_size: int
    list_ttl_ms: int
    _tools: dict[str, ToolEntry]
    _resources: dict[str, ResourceEntry]
    _templates: list[TemplateEntry]
    _prompts: dict[str, PromptEntry]
    _completions: dict[tuple[str, str], Callable[..., Any]]
    _list_cache: dict[tuple[str, str], tuple[Any, ...]]
    _meta_cache: dict[Any, Any]
    required_scopes: RequiredScopes

    @property
    def info(self) -> dict[str, Any]:
        """The server's `Implementation` in JSON form (each revision is sent the members it has)."""
        info = drop_none({**self.info_members, "name": self.name, "version": self.version})
        if self.title is not None:  # (else `implementation=`'s own title, if it gives one)
            info["title"] = self.title
        return info

    # -- results as answers ------------------------------------------------------------------------

    def server_meta(self, result_type: Any) -> Any:
        """The `_meta` naming this server on stateless results, converted once per result type (an
        object of the exact type passes conversion untouched); a plain dict where the type is not a
        single Struct with a `_meta` member."""
        cached = self._meta_cache.get(result_type)
        if cached is None:
            cached = {revisions.META_SERVER: self.info}
            members = [m.type for m in getattr(result_type, "_union_", ())] or [result_type]
            found: set[Any] = set()
            for member in members:
                if not (isinstance(member, type) and issubclass(member, msgspec.Struct)):
                    found.add(None)
                    continue
                for f in msgspec.structs.fields(member):
                    if f.encode_name == "_meta":
                        found.update(t for t in typing.get_args(f.type) or (f.type,) if t is not UnsetType)
            if len(found) == 1 and None not in found:
                cached = wire.convert(cached, found.pop())
            self._meta_cache[result_type] = cached
        return cached

    def stamped_text(self, module: ModuleType) -> tuple[bytes, bytes]:
        """A text result's answer in `module`'s revision, stamped as `answer` stamps it (the envelope
        era's server `_meta`, made once, as `server_meta` makes it for `CallToolResult`, whose `_meta`
        is a `ResultMetaObject`): `text_answer` of it, once per revision."""
        key = (_TEXT_KEY, module)
        parts: tuple[bytes, bytes] | None = self._meta_cache.get(key)
        if parts is None:
            meta = wire.convert({revisions.META_SERVER: self.info}, module.ResultMetaObject)
            parts = self._meta_cache[key] = text_answer(meta)
        return parts

    def answer(
        self, rid: RequestId, method: str, result: Any, spec: RequestMethod[Any, Any], era: eras.Era
    ) -> bytes:
        """A handler's result as its JSON-RPC answer: a dict is shaped by the era and validated as
        `spec`'s result type; a typed result is stamped by the era (envelope era: the server's `_meta`).
        The result type is read only for a dict: a typed result needs none, and the type (a union of
        every result the method may have) creates the classes it reaches on first read."""
        if type(type(result)) is _STRUCT:
            # A typed result (the usual tool call's), told apart with no `isinstance`: that of a Struct
            # goes through StructMeta's `__instancecheck__`, a lookup and a call, every answer.
            if era.stamps_results:
                era.stamp(result, self)
        elif isinstance(result, dict):
            result_type = spec.result_type
            if era.stamps_results:
                result = era.shape(method, result, result_type, self)
            result = wire.convert(result, result_type)
        elif not isinstance(result, msgspec.Struct):
            # Neither JSON data nor a typed result (a middleware's None, say): checked like data, so
            # that what the revision forbids (`"result": null`) is an error here, never on the wire.
            result = wire.convert(result, spec.result_type)
        elif era.stamps_results:
            era.stamp(result, self)
        return encode_result(rid, result)

    # -- lists -------------------------------------------------------------------------------------

    def page(self, items: Sequence[Any], cursor: str | None) -> tuple[Sequence[Any], str | None]:
        """One page of `items` from `cursor`. A cursor names the last item it followed as well as its
        position: when the list changed between pages (a tool added or removed; or, over several
        workers, a page asked of a worker whose list differs), the next page starts after that item
        wherever it now is, so that nothing listed before is listed again or skipped for the change."""
        start = 0
        if cursor:
            try:
                at, _, after = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
                start = int(at)
            except ValueError:
                raise InvalidParams(f"invalid cursor {quoted(cursor)}") from None
            if not 0 <= start <= len(items):
                raise InvalidParams(f"invalid cursor {quoted(cursor)}")
            if after and (start == 0 or _key(items[start - 1]) != after):
                start = next((i + 1 for i, item in enumerate(items) if _key(item) == after), start)
        end = start + self.page_size
        nxt = None
        if end < len(items):
            nxt = base64.urlsafe_b64encode(f"{end}:{_key(items[end - 1])}".encode()).decode()
        return items[start:end], nxt

    def listed(self, revision: str, kind: str, type_name: str) -> tuple[Any, ...]:
        """The registry's definitions converted for `revision`, once per change of the registry."""
        key = (revision, kind)
        cached = self._list_cache.get(key)
        if cached is None:
            source: Iterable[dict[str, Any]]
            if kind == "tools":
                source = (t.definition for t in self._tools.values())
            elif kind == "resources":
                source = (r.definition for r in self._resources.values())
            elif kind == "templates":
                source = (t.definition for t in self._templates)
            else:
                source = (p.definition for p in self._prompts.values())
            tp = revisions.revision(revision).type(type_name)
            cached = self._list_cache[key] = tuple(wire.convert(d, tp) for d in source)
        return cached

    # -- tools -------------------------------------------------------------------------------------

    async def call_tool(
        self,
        name: str,
        arguments: dict[str, Any] | msgspec.Struct | None,
        ctx: Context | None,
        module: ModuleType | None = None,
    ) -> dict[str, Any] | msgspec.Struct:
        """The result of a tools/call: a dict in wire form, converted (validated) by the caller, or, for
        the common text answer, the result type itself, built from values that cannot be wrong. `ctx`
        is None only for a tool that takes none (`answers_directly`); `module` then names the revision.
        `arguments`: as the request has them, or read already into the tool's `Signature.arguments`."""
        return await self.tool_run(name, arguments, ctx, module)

    def tool_run(
        self,
        name: str,
        arguments: dict[str, Any] | msgspec.Struct | None,
        ctx: Context | None,
        module: ModuleType | None = None,
    ) -> Awaitable[dict[str, Any] | msgspec.Struct]:
        """`call_tool`'s awaitable, with no coroutine of its own (the `tools/call` handler's, every
        call): the tool's run. Raises InvalidParams at once for a tool that is not registered."""
        tool = self._tools.get(name)
        if tool is None:
            raise InvalidParams(f"Unknown tool: {quoted(name)}")
        return self._run_tool(tool, arguments, ctx, module)

    async def call_plain(
        self, rid: RequestId, params: Any, module: ModuleType, spec: RequestMethod[Any, Any], era: eras.Era
    ) -> bytes | None:
        """The answer to a `tools/call` (`params`: its decoded params) when its tool needs nothing of a
        connection (`ToolEntry.plain`, and no middleware sees calls): the tool looked up once, run with
        no `Context`, and its result answered, in one step. None: the call needs a connection (or names
        no tool, which the handler's path refuses), and nothing was run."""
        tool = self._tools.get(params.name)
        if tool is None or not tool.plain or self.middleware_chain is not None:
            return None
        arguments = params.arguments
        result = await self._run_tool(tool, None if arguments is UNSET else arguments, None, module)
        return self.answer(rid, "tools/call", result, spec, era)

    async def _run_tool(
        self,
        tool: ToolEntry,
        arguments: dict[str, Any] | msgspec.Struct | None,
        ctx: Context | None,
        module: ModuleType | None,
    ) -> dict[str, Any] | msgspec.Struct:
        """`call_tool` once the tool is found."""
        name = tool.name
        if self.required_scopes.active:
            self.required_scopes.check("tools/call", name)
        sig = tool.signature
        args: Any = arguments  # (read already where the transport read them with the request)
        if type(args) is not sig.arguments:
            if type(type(arguments)) is _STRUCT:
                # Read by a registration of the tool that another replaced while the call was queued.
                arguments = wire.to_builtins(arguments)
            try:
                args = _convert(arguments or {}, sig.arguments)
            except msgspec.ValidationError as exc:
                from ..protocol import numbers  # (on use: the rare path)

                try:  # (`1.0` for an int: an integer, as JSON Schema counts)
                    args = numbers.convert(arguments or {}, sig.arguments)
                except msgspec.ValidationError:
                    why = clipped(str(exc))
                    return {"content": [text(f"Invalid arguments for tool {name}: {why}")], "isError": True}
        kwargs: dict[str, Any] = {}
        if not sig.positional:
            kwargs = _asdict(args)  # the Struct's fields are the function's parameters, in order
            if sig.adapters:
                try:
                    for param, adapt in sig.adapters:
                        kwargs[param] = adapt(kwargs[param])
                except ValueError as exc:  # (pydantic's ValidationError is one)
                    why = clipped(str(exc))  # (a validator's own message may hold the whole value)
                    return {"content": [text(f"Invalid arguments for tool {name}: {why}")], "isError": True}
                except Exception as exc:
                    # A validator of the tool's own raising what pydantic lets through (a TypeError, a
                    # KeyError): the tool's failure, as if the tool had raised it (was -32603).
                    return tool_failure(self, tool, exc)
        if sig.context_param:
            if ctx is None:
                raise TypeError(f"tool {name} takes a Context and was called without one")
            if not sig.positional:
                kwargs[sig.context_param] = ctx
        try:
            if sig.positional:
                # By position, its Context last (`Signature.positional`): 0.8k instructions less per
                # call than a dict of keywords.
                value = tool.fn(*_astuple(args), ctx) if sig.context_param else tool.fn(*_astuple(args))
            else:
                value = tool.fn(**kwargs)
            if sig.is_async or inspect.isawaitable(value):
                # User code: a task of its own (`aio.own`), but for a coroutine that cannot wait,
                # whose whole run is its first step, as a sync function's is (`Signature.suspends`).
                value = await (own.run(value) if sig.suspends else value)
        except BaseException as exc:
            if ctx is not None and isinstance(exc, McpError):
                said = ctx.failed_ask(exc)  # the client's error to the tool's own request: the tool's
                if said is not None:
                    return {"content": [text(f"Tool {name} failed: {said}")], "isError": True}
            return tool_failure(self, tool, exc)
        mod = ctx.module if ctx is not None else module
        assert mod is not None
        return tool_value(self, tool, value, mod)

    tool_entry: Callable[[str], ToolEntry | None]
    """`tool_entry(name)`: the registration of tool `name` (definition, function, signature), if there
    is one; a new object whenever the tool is registered again. (The registry's own `dict.get`, bound
    once: no Python frame on a call's path.)"""

    def param_paths(self, name: Any) -> dict[str, tuple[str, ...]]:
        """The argument paths the `Mcp-Param-*` headers of a call of tool `name` mirror (its
        `x-mcp-header`s); none for an unknown tool, or one whose annotations are not valid."""
        tool = self._tools.get(name) if isinstance(name, str) else None
        if tool is None:
            return _NO_PATHS
        paths = tool.param_paths
        if paths is None:
            from ..protocol.headers import BASE64_OPEN, InvalidHeaderAnnotation, param_headers  # (HTTP's)

            try:
                paths = param_headers(tool.definition.get("inputSchema"))
            except InvalidHeaderAnnotation:
                paths = {}
            tool.param_paths = paths
            # (A header naming it sent encoded is decoded first, on the classifier's way: a tool may be
            # named `=?base64?...?=`, which the header's text alone would find.)
            tool.at_once = tool.one_step and not paths and not tool.name.startswith(BASE64_OPEN)
        return paths

    def takes_no_context(self, name: str | None) -> bool:
        """A tool of that name is registered and takes no `Context`."""
        return self.plain_tool(name) is not None

    def plain_tool(self, name: str | None) -> ToolEntry | None:
        """The registration of tool `name` if it takes no `Context` (and no middleware sees its calls):
        what a transport carries with the call, so that the tool is looked up once per request."""
        tool = self._tools.get(name) if name is not None else None
        return tool if tool is not None and tool.plain and self.middleware_chain is None else None

    def answers_directly(self, params: Any) -> bool:
        """A stateless `tools/call` with these params can be answered without a connection: its tool
        takes no `Context` (so it cannot ask the client anything, report progress or log), and the
        request carries no input responses or request state to check (`dispatch.answerable_directly`
        judges those alone when its caller found the tool)."""
        tool = self._tools.get(params.name)  # (`takes_no_context`, inlined: this is every direct call)
        # Middleware sees every call: with any, no call bypasses the connection; nor does a task.
        if tool is None or not tool.plain or self.middleware_chain is not None:
            return False
        # UNSET is falsy: only a non-empty state or answers need the multi round-trip path.
        return not (getattr(params, "request_state", UNSET) or getattr(params, "input_responses", UNSET))

    async def call_direct(self, rid: RequestId, params: Any, revision: str) -> bytes:
        """The answer to a stateless `tools/call` the core's rule says needs no connection
        (`dispatch.answerable_directly`): exactly what a connection would answer, with none of its
        machinery (no peer, context or request tracking)."""
        arguments = params.arguments  # (`opt`, inlined: this is every direct call)
        try:
            facts = _DIRECT.get(revision)
            if facts is None:
                rev = revisions.revision(revision)
                facts = _DIRECT[revision] = (rev.module, rev.requests["tools/call"], eras.of(rev))
            module, spec, era = facts
            tool = self._tools.get(params.name)  # (`call_tool`, inlined: one coroutine less per call)
            if tool is None:
                raise InvalidParams(f"Unknown tool: {quoted(params.name)}")
            result = await self._run_tool(tool, None if arguments is UNSET else arguments, None, module)
            return self.answer(rid, "tools/call", result, spec, era)
        except BaseException as exc:
            if not handler_fault(exc):
                raise
            return failure(rid, "tools/call", exc)

    # -- resources, prompts, completions -----------------------------------------------------------

    async def read_resource(
        self, uri: str, ctx: Context
    ) -> tuple[dict[str, Any], ResourceEntry | TemplateEntry]:
        entry: ResourceEntry | TemplateEntry | None = self._resources.get(uri)
        args: dict[str, Any] = {}
        if entry is None:
            for template in self._templates:
                match = template.template.bind(uri)
                if match is not None:
                    entry, args = template, match
                    break
        if entry is None:
            raise ctx.era.resource_not_found(uri)
        if self.required_scopes.active:
            self.required_scopes.check("resources/read", uri)
        if isinstance(entry, TemplateEntry) and entry.arguments is not None:
            try:
                args = entry.arguments(args)
            except ValueError:  # (text that is no value of the parameter's type: nothing there)
                raise ctx.era.resource_not_found(uri) from None
            except Exception as exc:
                raise _refused(self, f"resource template {entry.template.template}", exc) from None
        if entry.context_param:
            args[entry.context_param] = ctx
        try:
            value = entry.fn(**args)
            if inspect.isawaitable(value):
                value = await own.run(value)
        except ResourceNotFound:
            raise ctx.era.resource_not_found(uri) from None
        contents: list[dict[str, Any]] = []
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict) and ("text" in item or "blob" in item):
                contents.append({"uri": uri, **item})  # a contents object as the wire has it
            elif isinstance(item, bytes):
                blob = base64.b64encode(item).decode()
                contents.append(drop_none({"uri": uri, "mimeType": entry.mime_type, "blob": blob}))
            elif type(item) is str:
                contents.append(drop_none({"uri": uri, "mimeType": entry.mime_type, "text": item}))
            else:
                contents.append(_json_contents(uri, item, entry.mime_type))
        return {"contents": contents}, entry

    async def get_prompt(self, name: str, arguments: dict[str, Any] | None, ctx: Context) -> dict[str, Any]:
        prompt = self._prompts.get(name)
        if prompt is None:
            raise InvalidParams(f"Unknown prompt: {quoted(name)}")
        if self.required_scopes.active:
            self.required_scopes.check("prompts/get", name)
        try:
            args = msgspec.convert(arguments or {}, prompt.signature.arguments, strict=False)
            kwargs = _asdict(args)
            for param, adapt in prompt.signature.adapters:  # (pydantic's: its `Field`s, its models)
                kwargs[param] = adapt(kwargs[param])
        except ValueError as exc:  # (msgspec's and pydantic's validation errors are ValueErrors)
            raise InvalidParams(f"Invalid arguments for prompt {name}: {clipped(str(exc))}") from None
        except Exception as exc:
            raise _refused(self, f"prompt {name}", exc) from None
        if prompt.signature.context_param:
            kwargs[prompt.signature.context_param] = ctx
        value = prompt.fn(**kwargs)
        if inspect.isawaitable(value):
            value = await own.run(value)
        description = prompt.definition.get("description")
        messages: list[dict[str, Any]] = []
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, msgspec.Struct) and hasattr(item, "role"):
                item = wire.to_builtins(item)  # a revision's `PromptMessage`, built by the handler
            if isinstance(item, dict) and "role" in item:
                block = item.get("content")
                if not isinstance(block, dict):  # a content helper's block, or text
                    item = {**item, "content": content_list(block)[0]}
                messages.append(item)
            else:
                messages.append({"role": "user", "content": content_list(item)[0]})
        return drop_none({"description": description, "messages": messages})

    async def complete(
        self, ref: dict[str, Any], argument: dict[str, Any], context: dict[str, Any] | None
    ) -> dict[str, Any]:
        kind = "prompt" if ref.get("type") == "ref/prompt" else "resource"
        key = ref.get("name") if kind == "prompt" else ref.get("uri")
        if kind == "prompt" and key not in self._prompts:
            raise InvalidParams(f"Unknown prompt: {quoted(key)}")  # the spec's -32602 for a bad name
        if self.required_scopes.active:
            # Suggestions disclose what the feature holds (the spec: "Control access to sensitive
            # suggestions"): they need the scopes the prompt or resource itself needs.
            method = "prompts/get" if kind == "prompt" else "resources/read"
            self.required_scopes.check(method, key, exact=True)
        fn = self._completions.get((kind, str(key)))
        values: list[str] = []
        if fn is not None:
            out = fn(argument.get("name"), argument.get("value", ""), (context or {}).get("arguments", {}))
            if inspect.isawaitable(out):
                out = await own.run(out)
            # One suggestion given as a bare string is that suggestion, not its characters; what is
            # no string would put a value on the wire that the schema forbids: the handler's bug.
            values = [out] if isinstance(out, str) else list(out)
            if not all(type(value) is str for value in values):
                raise TypeError("a completion handler returns strings (or one string)")
        return {"completion": {"values": values[:100], "total": len(values), "hasMore": len(values) > 100}}


def _key(item: Any) -> str:
    """What names a listed item uniquely: a template's URI template, a resource's URI (resources and
    templates have names too, not unique), a tool's or prompt's name."""
    for member in ("uri_template", "uri", "name"):
        value = getattr(item, member, None)
        if isinstance(value, str):
            return value
    return ""
