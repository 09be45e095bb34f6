"""The usual request answered in one step: a call of a plain tool, with no coroutine but the tool's own.

A `tools/call` of a tool that takes no `Context`, never runs as a task and needs no argument adapter
(`ToolEntry.one_step`), on a server with no middleware, task runner or required scopes, needs nothing
of a connection. `answer_now`
reads its params, runs the tool up to its first wait in a copy of the context (so that a context
variable the tool sets never reaches the next request), and gives back its encoded answer. A tool that
waits comes back `Paused`, for the peer to carry on as a task (`aio.eager.carried`) under the same
limits and cancellation as any handler. A text result is encoded around the text by parts prepared
once per server and revision (`Lane.text`, kept in `Server.lanes`; where the era stamps results, with
the server's stamp: `Server.stamped_text`), byte for byte what its result type encodes to.

None from `answer_now`: the request is not such a call (another method, an unknown or non-plain tool,
params or arguments that do not read): nothing was run, and the connection's general path
(`Connection.on_request`) serves it, with every error answer that path gives.
"""

from __future__ import annotations

import contextvars
import inspect
import logging
from asyncio import CancelledError
from collections.abc import Awaitable, Callable, Container, Coroutine, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final, Literal, Union, cast

import msgspec
from msgspec import UnsetType

from .. import shapes, wire
from ..aio import own
from ..aio.eager import Paused
from ..aio.eager import through as _through
from ..aio.interfaces import ROUTE
from ..aio.own import handler_fault
from ..errors import McpError
from ..methods import RequestMethod
from ..protocol import dispatch, eras, revisions
from ..protocol.endpoint import IncomingRequest
from ..protocol.jsonrpc import RequestId, encode_result
from ..protocol.revisions import Revision
from .features import ANSWER_HEAD as _HEAD
from .features import ToolEntry, failure, text_answer, tool_failure, tool_value

if TYPE_CHECKING:
    from .registry import Server
    from .session import Connection

__all__ = [
    "Lane",
    "MAX_FRAMED_TOOLS",
    "answer_decided",
    "answer_lines",
    "answer_now",
    "arguments_reader",
    "lane",
    "reads_direct",
]

_encode: Final = wire.encode
_convert: Final = msgspec.convert
_asdict: Final = msgspec.structs.asdict
_astuple: Final = msgspec.structs.astuple
_copy_context: Final = contextvars.copy_context
_next: Final = next
_Raw: Final = msgspec.Raw
_object: Final = msgspec.json.Decoder(dict[str, Any]).decode
"""What a call's `arguments` are read as by its params' type: an object (a `dict`)."""
LARGE_TEXT: Final = 64 * 1024
"""Text this long is encoded with its answer in one pass (`encode_result`), not joined to the parts
around it: the join copies the whole answer once more (a fifth of a 1 MB answer's encoding), and from
this size on that costs more than making the result's structs."""


class Lane(msgspec.Struct, frozen=True, gc=False):
    """What a plain call of one revision needs, found once per revision."""

    revision: Revision
    module: ModuleType
    spec: RequestMethod[Any, Any]
    read: Any
    """msgspec's decoder of `tools/call` params, made as `wire.decoder` makes it but without its
    tolerant second reading (params it refuses take the general path, which reads them again), their
    `arguments` left as JSON for the tool's own reader (`arguments_reader`)."""
    unread: Any
    """The params type `read` decodes (what a transport that reads a whole request in one pass reads
    its params as: an HTTP session's call, `StatelessRoute.session_call`)."""
    era: eras.Era
    text: tuple[bytes, bytes]
    """A text result's answer around the id and the encoded text: (what follows the id up to the text,
    what follows the text). Where the era stamps results (the envelope era's `_meta`, the server's
    own: `Server.stamped_text`), the server's: a lane is one server's (`Server.lanes`)."""


def lane(server: Server, revision: Revision) -> Lane:
    """`server`'s `Lane` of `revision` (made on its first call, kept in `Server.lanes`)."""
    found: Lane | None = server.lanes.get(revision)
    if found is None:
        module = revision.module
        spec = revision.requests["tools/call"]
        era = eras.of(revision)
        if era.stamps_results:  # this server's stamp, made once
            text = server.stamped_text(module)
        else:
            text = text_answer()
        # Its `arguments` left as JSON (`msgspec.Raw`): the tool's lookup chooses what reads them. Its
        # `_meta` read into its declared members alone (`wire.members_only`: the same checks, no copy of
        # the rest), which a tool that takes no Context never sees.
        params = _params_read(module, spec)
        unread = msgspec.defstruct(
            params.__name__,
            [("arguments", msgspec.Raw | UnsetType, msgspec.UNSET)],
            bases=(wire.members_only(params),),
            kw_only=True,
            module=params.__module__,
            gc=False,  # (read from JSON and only read: in no cycle, so not tracked by the collector)
        )
        read = msgspec.json.Decoder(unread, dec_hook=shapes.hook_for(params)).decode
        found = server.lanes[revision] = Lane(revision, module, spec, read, unread, era, text)
    return found


def _params_read(module: ModuleType, spec: RequestMethod[Any, Any]) -> Any:
    """The type a lane reads `tools/call` params of `module`'s revision as: its params type, but
    where those carry the input responses of a retried call (2026-07-28) a variant of it that reads
    them as JSON (`msgspec.Raw`), made apart from the module (`Definitions.variant`). The responses'
    types reach the sampling, elicitation and roots results and every content block, some 20
    classes made at a server's first call, which a plain call never reads: one that carries any is
    declined (`answer_now`), and the general path reads them as their type."""
    definitions = getattr(module, "_definitions", None)
    name = "CallToolRequestParams"
    if definitions is not None and _INPUT_RESPONSES in definitions.refers_to(name):
        return definitions.variant(name, {_INPUT_RESPONSES: msgspec.Raw})
    return spec.params_type


_INPUT_RESPONSES: Final = "InputResponses"

MAX_FRAMED_TOOLS: Final = 256
"""At most this many tools are read by a revision's whole-line frame (`answer_line`): a server with
more has none (each call of it read as before), so that neither the frame's making (a params type per
tool) nor its size grows with thousands of tools."""
_TOOLS_CALL: Final = b'"tools/call"'
_NEWLINE: Final = b"\n"
_LATER: Final[tuple[Any, None]] = (None, None)
"""`Server.frames`' entry for a revision whose first line `answer_lines` was given (read the general
way): its frame is made on the next."""
_log: Final = logging.getLogger("mcpbind")


def answer_lines(
    connection: Connection,
    lines: Sequence[object],
    at: int,
    end: int,
    running: Container[RequestId],
    queued: Container[RequestId],
    write: Callable[[bytes], object],
    current: contextvars.Context | None = None,
) -> int | tuple[int, RequestId, bytes | Paused | None]:
    """Answer `lines[at:end]` in order, each a plain call of a tool whose arguments read directly
    (`reads_direct`), read in one decode of the whole line (`frame`: the envelope, the params and the
    tool's arguments at once), its id in neither `running` nor `queued`, its answer given to `write` (False:
    refused; anything else, a list's `append`'s None too: taken).
    Gives the index of the first line it did not take (`end`: it took all), at which nothing was run
    and which is read again the general way, with every error answer that gives: anything the frame
    refuses (a line not bytes or not ASCII, another method, an unknown tool, arguments of the wrong
    type, an id in use...). Or, where a call it ran did not end in an answer `write` took, (the index
    after it, its id, and the answer `write` refused, the tool `Paused`, or None: no answer, as a
    handler's CancelledError or failure to answer gives none), for the caller to carry on.
    `current`: given with one line (`end` is `at + 1`), the context this runs in, a copy made for
    that line's call, which runs there with no copy and no `Context.run` of its own."""
    server = connection.server
    if not server.plain_calls:  # (middleware, a task runner or required scopes)
        return at
    revision = connection.session
    if revision is None:
        if ROUTE.get() is not None:
            return at  # (a transport that routes answers: the general path's)
        stateless = server.stateless_lane  # (the revision the last call outside a session named)
        if stateless is None:
            return at
        revision = stateless.revision
    lined = server.frames.get(revision)
    if lined is None:
        # A revision's first line goes the general way, and its frame (a params type per tool, a
        # union of them, a decoder) is made from the second on: a server that answers one call (a
        # cold start's) makes none.
        server.frames[revision] = _LATER
        return at
    found, decode = lined
    if decode is None:
        if lined is not _LATER:
            return at  # (no tool the frame reads, or too many)
        found, decode = frame(server, server.lanes.get(revision) or lane(server, revision))
        if decode is None:
            return at
    direct = found.era.direct_calls
    if at >= end:
        return at
    data = lines[at]
    # (`parse_single`'s UTF-8 check: ASCII is UTF-8)
    # (`partition`, not `in`: 3.11's `in` on bytes first tries its operand as an int, and formats
    # the TypeError it then drops, ~1.8k instructions a test; `find` parses its arguments the
    # slow way, ~170 more than `partition` and the three parts it makes. Only a test to refuse early:
    # the frame reads the method as `tools/call` alone, and a line it refuses costs ~7k more)
    if type(data) is not bytes or not data.partition(_TOOLS_CALL)[1] or not data.isascii():
        return at
    # The lines after the first (a burst's) are tested together as the loop reaches the second (`_tested`)
    whole: bool | None = None
    while True:
        try:
            message = decode(data)
        except (msgspec.DecodeError, RecursionError):  # (a ValidationError is a DecodeError)
            return at
        rid = message.id
        if rid in running or rid in queued:
            return at  # (the general path refuses it)
        call = message.params
        if direct:
            # `_stateless`'s check of the version its `_meta` names, and `answer_now`'s of input
            # responses and request state (the general path checks them; UNSET is falsy)
            if call.meta.protocol_version != revision.name:
                return at
            if getattr(call, "request_state", None) or getattr(call, "input_responses", None):
                return at
        # (the frame holds the tools registered when it was made: `Server._changed` drops it; one
        # attribute of the params' class, not six: 3.11 reads each the generic way)
        tool, fn, positional, at_once, text_head, text_tail = call.plan
        reply: bytes | Paused | None
        try:
            if not at_once:
                reply = answer_decided(server, revision, rid, call, tool, found)
                if reply is None:
                    return at  # (nothing was run)
            else:
                # `coroutine_answer`, inline (a coroutine function that cannot wait): one Python
                # call less.
                values = call.arguments
                coro = fn(*_astuple(values)) if positional else fn(**_asdict(values))
                box: list[Any] = []
                through = _through(coro, box)
                try:
                    if current is None:
                        context = _copy_context()
                        waiting_on = context.run(_next, through, box)
                    else:
                        context = current
                        waiting_on = _next(through, box)
                except BaseException as exc:
                    reply = failed_answer(server, tool, found, rid, exc)
                else:
                    if waiting_on is not box:
                        finish = Finish(server, tool, found, rid, box)
                        coro = cast(Coroutine[Any, Any, None], through)
                        return at + 1, rid, Paused(coro, waiting_on, context, finish)
                    value = box[0]
                    if type(value) is str and text_head is not None and len(value) < LARGE_TEXT:
                        try:
                            encoded = (_HEAD, _encode(rid), text_head, _encode(value), text_tail)
                            reply = b"".join(encoded)
                        except Exception:  # (text it cannot encode is `value_answer`'s to answer)
                            reply = value_answer(server, tool, found, rid, value)
                    else:
                        reply = value_answer(server, tool, found, rid, value)
        except CancelledError:
            return at + 1, rid, None  # (as the peer's `_start`: no answer)
        except Exception:
            _log.exception("could not answer request %r", rid)  # (as the peer's `_start`)
            return at + 1, rid, None
        at += 1
        if type(reply) is not bytes or write(reply) is False:  # (`list.append` takes it: None)
            return at, rid, reply
        if at >= end:
            return at
        data = lines[at]
        if whole is None:
            whole = current is None and _tested(lines, at, end)
        if type(data) is not bytes or not (whole or (data.partition(_TOOLS_CALL)[1] and data.isascii())):
            return at


def _tested(lines: Sequence[object], at: int, end: int) -> bool:
    """Whether `lines[at:end]` are all ASCII and name `"tools/call"` as many times as they are (one
    join and two scans, where each line's own tests are ~1.2k instructions): what `answer_lines`
    tests of each line, but that a line naming it twice may stand for one that names it not at all,
    which the frame refuses all the same (that test only refuses early). False: each line is tested
    alone (so is one not bytes, as every line is, `type(data)`)."""
    try:
        read = _NEWLINE.join(lines[at:end])  # type: ignore[arg-type]  # (a non-bytes: TypeError)
    except TypeError:  # (an oversized line's error among them)
        return False
    return read.count(_TOOLS_CALL) == end - at and read.isascii()


def frame(server: Server, found: Lane) -> tuple[Lane, Callable[[bytes], Any] | None]:
    """`server`'s decoder of a whole line of `found`'s revision as a `tools/call` request of one of
    its tools answered in one step whose arguments read directly (`reads_direct`): `{jsonrpc: "2.0",
    id: int | str, method: str, params: <one params type per such tool, told apart by their "name">}`,
    each params type the lane's (its declared members, `_meta` read into its declared members alone)
    with `arguments` read as the tool's `Signature.arguments`, and on its class what a call of it
    reads, in one tuple (`plan`: the tool's entry, its function, whether it takes its arguments by
    position, whether it is a coroutine function that cannot wait, and `Lane.text`'s two parts, None
    where it has an output schema); with `found`.
    None: no such tool, or more tools than `MAX_FRAMED_TOOLS`. Kept in `Server.frames` until the
    tools change (`Server._changed`)."""
    tools = [t for t in server.tool_entries() if t.one_step and reads_direct(t)]
    decode = None
    if tools and len(server.tool_entries()) <= MAX_FRAMED_TOOLS:
        base = found.unread
        config = base.__struct_config__
        members = [f for f in msgspec.structs.fields(base) if f.name not in ("name", "arguments")]
        kinds: list[Any] = []
        for tool in tools:
            sig = tool.signature
            fields: list[Any] = [
                (f.name, f.type)
                if f.default is msgspec.NODEFAULT and f.default_factory is msgspec.NODEFAULT
                else (
                    f.name,
                    f.type,
                    f.default
                    if f.default_factory is msgspec.NODEFAULT
                    else msgspec.field(default_factory=f.default_factory),
                )
                for f in members
            ]
            fields.append(("arguments", tool.signature.arguments))
            kinds.append(
                msgspec.defstruct(
                    base.__name__,
                    fields,
                    kw_only=True,
                    rename={f.name: f.encode_name for f in members},
                    module=base.__module__,
                    namespace={
                        "plan": (
                            tool,
                            tool.fn,
                            sig.positional,
                            sig.is_async and not sig.suspends,
                            found.text[0] if sig.output_schema is None else None,
                            found.text[1],
                        )
                    },
                    tag_field="name",
                    tag=tool.name,
                    forbid_unknown_fields=config.forbid_unknown_fields,
                    gc=False,  # (read from JSON and only read: in no cycle)
                )
            )
        params: Any = Union[tuple(kinds)]  # noqa: UP007  # (of the types made here)
        line = msgspec.defstruct(
            "CallToolLine",
            # (the method checked by the decoder: prompts/get's params have the same shape)
            [
                ("jsonrpc", Literal["2.0"]),
                ("id", int | str),
                ("method", Literal["tools/call"]),
                ("params", params),
            ],
            gc=False,
        )
        hook = shapes.hook_for(_params_read(found.module, found.spec))
        decode = msgspec.json.Decoder(line, dec_hook=hook).decode
    lined = server.frames[found.revision] = (found, decode)
    return lined


def answer_now(connection: Connection, event: IncomingRequest) -> bytes | Paused | None:
    """The answer to `event` on `connection` if it is a plain call: its bytes, or `Paused` (the tool
    waits); else None, and nothing was run (see the module's docstring)."""
    params = event.params
    if event.method != "tools/call" or params is None:
        return None
    server = connection.server
    if not server.plain_calls:  # (middleware, a task runner or required scopes)
        return None
    revision = connection.session
    if revision is None:
        found, call = _stateless(server, params)
        if found is None:
            return None
        revision = found.revision
    else:
        found = server.lanes.get(revision)
        if found is None:
            found = lane(server, revision)
        try:
            call = found.read(params)
        except (msgspec.DecodeError, RecursionError):  # (a ValidationError is a DecodeError)
            return None
    # (`Server.answers_directly`'s own part: the tool's and the middleware's, `answer_decided` and the
    # check above make; UNSET is falsy)
    if found.era.direct_calls and (
        getattr(call, "request_state", None) or getattr(call, "input_responses", None)
    ):
        return None  # carries input responses or request state: the general path checks them
    tool = server.tool_entry(call.name)
    if tool is None:
        return None
    sig = tool.signature
    arguments = call.arguments
    if tool.one_step and sig.is_async and not sig.suspends and type(arguments) is _Raw:
        # `answer_decided`'s usual case (a coroutine function that cannot wait, its arguments left as
        # JSON by the lane's read), inline: one Python call less per request.
        try:
            values = (tool.read_arguments or arguments_reader(tool))(arguments)
        except (msgspec.DecodeError, RecursionError):  # (a ValidationError is a DecodeError)
            return None  # answered by the general path, which reads them again, with what was wrong
        return coroutine_answer(server, tool, found, event.id, values)
    return answer_decided(server, revision, event.id, call, tool, found)


def answer_decided(
    server: Server,
    revision: Revision,
    rid: RequestId,
    call: Any,
    tool: ToolEntry | None = None,
    found: Lane | None = None,
) -> bytes | Paused | None:
    """`answer_now` for a `tools/call` whose params (`call`) its transport has read already, as the
    core decided them for `revision` (`dispatch.decide`: an HTTP session's one-pass read; in an era
    of direct calls, `dispatch.answerable_directly`: the stateless route's `direct`): the same
    answer, `Paused` or None (nothing was run), from the tool's lookup on (`tool`: the registration of
    `call.name`, when the transport looked it up already; `found`: the revision's lane, given by a
    caller that found it and checked the server for middleware, tasks and scopes already)."""
    if found is None:
        if not server.plain_calls:  # (middleware, a task runner or required scopes)
            return None
        found = server.lanes.get(revision)
        if found is None:
            found = lane(server, revision)
    if tool is None:
        tool = server.tool_entry(call.name)
        if tool is None:
            return None
    if not tool.one_step:
        return None
    sig = tool.signature
    arguments = call.arguments
    if type(arguments) is sig.arguments:
        values = arguments  # (read straight into its Struct: HTTP's one-pass decode of a stateless call)
    elif type(arguments) is _Raw:
        # Left as JSON by stdio's read (`Lane.read`): read straight into the tool's Struct where that
        # makes what converting them would (`reads_direct`), with no dict between.
        try:
            values = (tool.read_arguments or arguments_reader(tool))(arguments)
        except (msgspec.DecodeError, RecursionError):  # (a ValidationError is a DecodeError)
            return None  # answered by the general path, which reads them again, with what was wrong
    else:
        try:
            values = _convert(arguments or {}, sig.arguments)  # (UNSET is falsy)
        except msgspec.ValidationError:
            return None  # answered by the general path, with what was wrong
    if sig.is_async and not sig.suspends:
        return coroutine_answer(server, tool, found, rid, values)
    context = _copy_context()
    owned: Awaitable[Any] | None = None
    if sig.is_async:
        # By position where the function takes them so (`Signature.positional`): a tuple and a
        # positional call cost about 1.3k instructions less than a dict of keywords. The tool runs
        # as a task of its own (`aio.own`), which carries the rest of the call on itself if it waits
        # (one that cannot wait, `Signature.suspends`, was run above: `coroutine_answer`).
        owned = tool.fn(*_astuple(values)) if sig.positional else tool.fn(**_asdict(values))
    else:
        try:
            if sig.positional:
                value = context.run(tool.fn, *_astuple(values))
            else:
                value = context.run(tool.fn, **_asdict(values))
        except BaseException as exc:
            return failed_answer(server, tool, found, rid, exc)
        # (text first: `isawaitable`'s check of the `Awaitable` ABC was 2.6k instructions of a stdio
        # call of a sync tool returning text, which then went through `value_answer`'s frame as well)
        if type(value) is not str and inspect.isawaitable(value):
            owned = value
    if owned is not None:
        # Its first step, in its own task (in `context`, which that task keeps); one that waits
        # answers from that task (`eager.carry`: `Finish`, there), with no second task awaiting it.
        try:
            value, task = own.step(owned, context)
        except BaseException as exc:
            return failed_answer(server, tool, found, rid, exc)
        if task is not None:
            return Paused(None, task, context, Finish(server, tool, found, rid, None), task)
    if type(value) is str and sig.output_schema is None and len(value) < LARGE_TEXT:
        # (`value_answer`'s usual case, inline; text it cannot encode is its to answer)
        text = found.text
        try:
            return b"".join((_HEAD, _encode(rid), text[0], _encode(value), text[1]))
        except Exception:
            pass
    return value_answer(server, tool, found, rid, value)


def coroutine_answer(
    server: Server, tool: ToolEntry, found: Lane, rid: RequestId, values: Any
) -> bytes | Paused:
    """The answer to a call of `tool`, a coroutine function that cannot wait (not `Signature.suspends`),
    with its arguments read (`values`): its whole run is its first step, run here in a copy of the
    context as a sync tool's is, with no task (a task cost 27k instructions a call, stdio in process).
    `Paused` if it waits all the same (a generator-based coroutine's wait). `answer_decided`'s, and
    an HTTP session's call ahead of the classifier (`stateful.early`)."""
    sig = tool.signature
    coro = tool.fn(*_astuple(values)) if sig.positional else tool.fn(**_asdict(values))
    context = _copy_context()
    # Through `_through`: `box` is both where its value goes and what `next` gives back once it is
    # done (nothing the tool awaits can be that list).
    box: list[Any] = []
    through = _through(coro, box)
    try:
        waiting_on = context.run(_next, through, box)
    except BaseException as exc:
        return failed_answer(server, tool, found, rid, exc)
    if waiting_on is not box:
        # (a generator-based coroutine: it is sent to and thrown into as the tool's own would be)
        finish = Finish(server, tool, found, rid, box)
        return Paused(cast(Coroutine[Any, Any, None], through), waiting_on, context, finish)
    value = box[0]
    if type(value) is str and sig.output_schema is None and len(value) < LARGE_TEXT:
        text = found.text  # (`value_answer`'s usual case, inline; text it cannot encode is its to answer)
        try:
            return b"".join((_HEAD, _encode(rid), text[0], _encode(value), text[1]))
        except Exception:
            pass
    return value_answer(server, tool, found, rid, value)


def arguments_reader(tool: ToolEntry) -> Callable[[msgspec.Raw], Any]:
    """`tool`'s reader of a call's `arguments` left as JSON into its `Signature.arguments` (kept in
    `ToolEntry.read_arguments`): the same Struct, or the same refusal, as converting them decoded."""
    read = tool.read_arguments
    if read is None:
        tp = tool.signature.arguments
        if reads_direct(tool):
            read = msgspec.json.Decoder(tp).decode
        else:

            def read(raw: msgspec.Raw) -> Any:
                return _convert(_object(raw), tp)

        tool.read_arguments = read
    return read


def reads_direct(tool: ToolEntry) -> bool:
    """Whether JSON `arguments` read straight into `tool`'s `Signature.arguments` give what converting
    them, decoded, gives (`msgspec.convert`, the general path's), and are refused where it refuses:
    not where the Struct holds, at any depth, a dict whose keys are not text (decoding reads a JSON
    key `"1"` as an `int` key; converting refuses it) or a `Decimal` (decoding reads `1e400` as one;
    converting refuses the `inf` a plain decode makes of it). Found once per registration."""
    found = tool.reads_direct
    if found is None:
        found = tool.reads_direct = _as_converted(tool.signature.arguments)
    return found


def _as_converted(tp: Any) -> bool:
    import msgspec.inspect as mi  # (on first use: not imported by a server that never calls a tool)

    todo: list[Any] = [mi.type_info(tp)]
    seen: set[Any] = set()
    while todo:
        info = todo.pop()
        if isinstance(info, mi.Metadata):
            todo.append(info.type)
        elif isinstance(info, (mi.DecimalType, mi.CustomType)):
            return False
        elif isinstance(info, mi.DictType):
            key = info.key_type.type if isinstance(info.key_type, mi.Metadata) else info.key_type
            if not isinstance(key, (mi.StrType, mi.AnyType)):
                return False
            todo.append(info.value_type)
        elif isinstance(info, (mi.StructType, mi.DataclassType, mi.TypedDictType, mi.NamedTupleType)):
            if info.cls not in seen:  # (a recursive type is walked once)
                seen.add(info.cls)
                todo.extend(field.type for field in info.fields)
        elif isinstance(info, (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)):
            todo.append(info.item_type)
        elif isinstance(info, mi.TupleType):
            todo.extend(info.item_types)
        elif isinstance(info, mi.UnionType):
            todo.extend(info.types)
    return True


def _stateless(server: Server, params: msgspec.Raw) -> tuple[Lane | None, Any]:
    """The lane of the revision a request outside a session names in its `_meta`, if the server
    serves it with no session, and its params read by that lane (None, None: anything else, which
    `dispatch.negotiate` answers on the general path).

    The params are read once: by the lane of the revision the last such call named
    (`Server.stateless_lane`), whose reading of `_meta` gives the version named, which must be that
    lane's. Only a call naming another revision, or whose params that lane refuses, is peeked at for
    its version first and read again (the version alone was a decode of its own, 4.4k instructions
    of a stdio call's 87k)."""
    if ROUTE.get() is not None:
        return None, None  # (a transport that routes answers hands over what it read: the general path's)
    found: Lane | None = server.stateless_lane
    if found is not None:
        try:
            call = found.read(params)
        except (msgspec.DecodeError, RecursionError):  # (a ValidationError is a DecodeError)
            call = None
        if call is not None and call.meta.protocol_version == found.revision.name:
            return found, call
    try:
        requested = dispatch.requested_version(params)
    except McpError:
        return None, None
    if type(requested) is not str or requested not in server.revisions or not revisions.is_modern(requested):
        return None, None
    found = server.lanes.get(revision := revisions.revision(requested))
    if found is None:
        found = lane(server, revision)
    try:
        call = found.read(params)
    except (msgspec.DecodeError, RecursionError):
        return None, None
    server.stateless_lane = found
    return found, call


def value_answer(server: Server, tool: ToolEntry, found: Lane, rid: RequestId, value: Any) -> bytes:
    """The answer to a call whose tool returned `value` (an error answer if it cannot be made)."""
    try:
        if type(value) is str and tool.signature.output_schema is None:
            text = found.text
            if len(value) < LARGE_TEXT:
                return b"".join((_HEAD, _encode(rid), text[0], _encode(value), text[1]))
            if not found.era.stamps_results:  # (the answer `text` was cut from, encoded in one pass)
                module = found.module
                return encode_result(rid, module.CallToolResult(content=[module.TextContent(text=value)]))
        result = tool_value(server, tool, value, found.module)
        return server.answer(rid, "tools/call", result, found.spec, found.era)
    except BaseException as exc:
        if not handler_fault(exc):
            raise
        return failure(rid, "tools/call", exc)


def failed_answer(server: Server, tool: ToolEntry, found: Lane, rid: RequestId, exc: BaseException) -> bytes:
    """The answer to a call whose tool raised `exc`."""
    try:
        result = tool_failure(server, tool, exc)
        return server.answer(rid, "tools/call", result, found.spec, found.era)
    except BaseException as raised:
        if not handler_fault(raised):
            raise
        return failure(rid, "tools/call", raised)


class Finish:
    """The rest of a call whose tool waited: awaits the tool's rest, then answers as `answer_now`."""

    __slots__ = ("box", "found", "rid", "server", "tool")

    def __init__(
        self, server: Server, tool: ToolEntry, found: Lane, rid: RequestId, box: list[Any] | None
    ) -> None:
        self.server, self.tool, self.found, self.rid, self.box = server, tool, found, rid, box

    async def __call__(self, rest: Awaitable[Any]) -> bytes | None:
        try:
            value = await rest  # (the tool's value; through `_through` (`box`), its value goes there)
            box = self.box
            if box is not None:
                value = box[0]
        except BaseException as exc:
            return failed_answer(self.server, self.tool, self.found, self.rid, exc)
        return value_answer(self.server, self.tool, self.found, self.rid, value)
