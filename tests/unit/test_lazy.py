"""Generated types made on first use (`mcpbind.lazy`) behave as classes defined at import did: the same
names, imports, pickling, repr, equality and decoding; and the method tables name their types until
an entry is first read (`mcpbind.methods`)."""

from __future__ import annotations

import pickle
import subprocess
import sys
import threading

import msgspec
import pytest

from mcpbind import wire
from mcpbind.generated import latest
from mcpbind.generated import v2025_11_25 as v25
from mcpbind.generated import v2026_07_28 as v26
from mcpbind.methods import NotificationMethod, RequestMethod


def run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.strip()


def test_reading_a_type_creates_it_with_what_it_refers_to() -> None:
    out = run(
        "import mcpbind.generated.v2026_07_28 as m\n"
        "before = set(vars(m))\n"
        "m.CallToolResult\n"
        "print(sorted(set(vars(m)) - before))"
    )
    created = eval(out)
    # Its content blocks and what they refer to, in one go: msgspec resolves its annotations from
    # the module's namespace, which then holds every name they use.
    reached = {"CallToolResult", "ContentBlock", "TextContent", "EmbeddedResource", "Annotations"}
    assert reached <= set(created)
    assert "ListToolsResult" not in created and "Tool" not in created


def test_a_less_used_type_is_made_from_its_own_module_as_the_revision_s() -> None:
    """The types a server's first answers do not reach are made by functions of a module of their own
    (`_<revision>_more`), read on first use and run with the revision module's globals: the class is
    the revision module's as any other is."""
    out = run(
        "import sys, mcpbind.generated.v2025_11_25 as m\n"
        "m.InitializeResult\n"
        "before = '_v2025_11_25_more' in str(sorted(sys.modules))\n"
        "tool = m.Tool\n"
        "after = 'mcpbind.generated._v2025_11_25_more' in sys.modules\n"
        "print(before, after, tool.__module__, tool.__qualname__, m.Tool is tool, 'Tool' in vars(m))"
    )
    assert out == "False True mcpbind.generated.v2025_11_25 Tool True True"
    stub = v25.ClientStub  # (the typed stubs are less used too)
    assert stub.__module__ == v25.__name__ and callable(stub.call_tool)
    assert wire.decode(b'{"name":"t","inputSchema":{"type":"object"}}', v25.Tool).name == "t"


def test_from_import_and_dir_see_every_definition() -> None:
    assert run("from mcpbind.generated.v2026_07_28 import TextContent; print(TextContent.__qualname__)") == (
        "TextContent"
    )
    names = eval(run("import mcpbind.generated.v2026_07_28 as m; print(dir(m))"))
    assert {"TextContent", "InputRequiredResult", "ClientStub", "REQUESTS", "PROTOCOL_VERSION"} <= set(names)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'NoSuchType'"):
        _ = v26.NoSuchType
    assert not hasattr(v26, "NoSuchType")


def test_types_keep_their_names_pickling_repr_and_equality() -> None:
    block = v26.TextContent(text="hi", annotations=v26.Annotations(priority=0.5))
    assert repr(v26.TextContent) == "<class 'mcpbind.generated.v2026_07_28.TextContent'>"
    assert repr(block) == "TextContent(annotations=Annotations(priority=0.5), text='hi')"
    again = pickle.loads(pickle.dumps(block))
    assert again == block and type(again) is v26.TextContent
    meta = v25.RequestMetaObject(progress_token=3, extra="kept")
    assert pickle.loads(pickle.dumps(meta)) == meta and type(pickle.loads(pickle.dumps(meta))) is type(meta)
    assert latest.TextContent is v26.TextContent


def test_decoding_resolves_forward_references_and_unions() -> None:
    result = wire.decode(
        b'{"content":[{"type":"text","text":"a"},{"type":"resource","resource":{"uri":"f:/x","blob":"AA=="}}]}',
        v25.CallToolResult,
    )
    assert isinstance(result.content[1].resource, v25.BlobResourceContents)
    with pytest.raises(msgspec.ValidationError, match="Expected `str`"):
        wire.decode(b'{"content":[{"type":"text","text":1}]}', v25.CallToolResult)


def test_threads_reading_one_type_get_one_class() -> None:
    code = (
        "import threading, mcpbind.generated.v2025_06_18 as m\n"
        "barrier = threading.Barrier(8); seen = []\n"
        "def read():\n"
        "    barrier.wait(); seen.append(m.CallToolResult)\n"
        "threads = [threading.Thread(target=read) for _ in range(8)]\n"
        "[t.start() for t in threads]; [t.join() for t in threads]\n"
        "print(len(seen), len({id(c) for c in seen}))"
    )
    assert run(code) == "8 1"


def test_threads_reading_the_types_of_one_group_at_once_each_get_it_whole() -> None:
    """A thread could take a class from the module while another was still creating the rest of its
    group (each `global` publishes one class): building its decoder then failed with NameError (some
    rounds in ten). Each round: a fresh module, a thread per type, all reading at once, each building
    a decoder, under a tiny switch interval; none may fail."""
    code = (
        "import importlib, sys, threading, msgspec\n"
        "sys.setswitchinterval(1e-6)\n"
        "name = 'mcpbind.generated.v2026_07_28'\n"
        "failures = []\n"
        "for _ in range(30):\n"
        "    sys.modules.pop(name, None)\n"
        "    m = importlib.import_module(name)\n"
        "    lazy = [n for n in dir(m) if n not in vars(m) and not n.endswith(('Stub', 'Handler'))]\n"
        "    barrier = threading.Barrier(len(lazy))\n"
        "    def read(n):\n"
        "        barrier.wait()\n"
        "        try:\n"
        "            msgspec.json.Decoder(getattr(m, n))\n"
        "        except Exception as exc:\n"
        "            failures.append(f'{n}: {exc!r}')\n"
        "    threads = [threading.Thread(target=read, args=(n,)) for n in lazy]\n"
        "    [t.start() for t in threads]; [t.join() for t in threads]\n"
        "print(len(lazy) > 100, failures[:3])"
    )
    assert run(code) == "True []"


def test_method_tables_name_their_types_until_read() -> None:
    out = run(
        "import mcpbind.generated.v2026_07_28 as m\n"
        "spec = m.REQUESTS['tools/call']\n"
        "made = 'CallToolRequestParams' in vars(m)\n"
        "print(made, spec.params_type.__name__, 'CallToolRequestParams' in vars(m))"
    )
    assert out == "False CallToolRequestParams True"


def test_method_entries_compare_hash_pickle_and_stay_immutable() -> None:
    spec = v26.REQUESTS["tools/call"]
    assert spec.params_type is v26.CallToolRequestParams
    assert spec.result_types == (v26.CallToolResult, v26.InputRequiredResult)
    same = RequestMethod(
        name=spec.name,
        directions=spec.directions,
        message_type=spec.message_type,
        params_type=spec.params_type,
        params_required=spec.params_required,
        result_type=spec.result_type,
        result_types=spec.result_types,
        handler=spec.handler,
    )
    assert same == spec and hash(same) == hash(spec)
    assert spec.replace(handler="other") != spec and spec.replace(handler="other").handler == "other"
    assert pickle.loads(pickle.dumps(spec)) == spec
    assert repr(spec).startswith("RequestMethod(name='tools/call', directions=('client_to_server',), ")
    with pytest.raises(AttributeError):
        spec.name = "x"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        _ = spec.no_such_field  # type: ignore[attr-defined]
    note = v26.NOTIFICATIONS["notifications/progress"]
    assert isinstance(note, NotificationMethod) and note.params_type is v26.ProgressNotificationParams


def test_concurrent_first_reads_of_a_table_entry() -> None:
    """Entries resolve each type field on its own first read; racing threads agree."""
    spec = v25.REQUESTS["resources/read"]
    seen: list[object] = []
    barrier = threading.Barrier(4)

    def read() -> None:
        barrier.wait()
        seen.append(spec.result_type)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == [v25.ReadResourceResult] * 4


def test_a_copy_of_a_table_entry_makes_its_changed_type_on_first_read() -> None:
    """`replace` on a generated entry keeps it lazy: a changed type given as a function of the module
    is made when first read (once), and the unchanged fields are still the table's names."""
    spec = v26.REQUESTS["tools/call"]
    calls: list[object] = []

    def make(mod: object) -> object:
        calls.append(mod)
        return v26.CallToolRequestParams

    copy = spec.replace(params_type=make, handler="other")
    assert calls == []
    assert copy.params_type is v26.CallToolRequestParams and calls == [v26]
    assert copy.params_type is v26.CallToolRequestParams and calls == [v26]  # read once
    assert copy.result_types == spec.result_types and copy.handler == "other"
    assert copy != spec and copy.replace(handler=spec.handler) == spec
    # Types given as such stay types (a copy of a generated entry as of any other).
    typed = spec.replace(params_type=v26.PaginatedRequestParams, result_types=(v26.CallToolResult,))
    assert typed.params_type is v26.PaginatedRequestParams and typed.result_types == (v26.CallToolResult,)
    assert typed.result_type is spec.result_type


def test_loading_the_envelope_revision_creates_no_schema_type() -> None:
    """A server's first request of 2026-07-28 loads its `Revision`, whose tasks-extended listen request
    creates its types (and the core's it extends) on first read; racing first reads get one class."""
    out = run(
        "import threading\n"
        "from mcpbind.protocol import revisions\n"
        "rev = revisions.revision('2026-07-28')\n"
        "m = rev.module\n"
        "print(sum(isinstance(v, type) and v.__module__ == m.__name__ for v in vars(m).values()))\n"
        "seen, barrier = [], threading.Barrier(8)\n"
        "def read():\n"
        "    barrier.wait()\n"
        "    seen.append(rev.requests['subscriptions/listen'].params_type)\n"
        "threads = [threading.Thread(target=read) for _ in range(8)]\n"
        "[t.start() for t in threads]\n"
        "[t.join() for t in threads]\n"
        "print(len({id(t) for t in seen}), issubclass(seen[0], m.SubscriptionsListenRequestParams))"
    )
    assert out.splitlines() == ["0", "1 True"]
