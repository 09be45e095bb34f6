"""The tasks extension's member of `subscriptions/listen` (2026-07-28, SEP-2663): `notifications.taskIds`
asks for `notifications/tasks` about those tasks. The core schema's `SubscriptionFilter` has no such
member (the extension extends it), so a revision of the envelope era decodes and encodes the listen
request with these types, the core's own with the extension's member added.

Imported by `revisions` for the revisions it extends, of the envelope era (and importing nothing of
the protocol's), so that the extension's listen request is the revision's own wherever requests are
looked up; a session-era server never loads it.
"""

from __future__ import annotations

from _thread import RLock
from collections.abc import Mapping
from types import ModuleType
from typing import Any, Final

import msgspec
from msgspec import UNSET, UnsetType

from ..methods import RequestMethod

__all__ = ["LISTEN", "NOTIFICATION", "TASK_IDS", "with_task_subscriptions"]

LISTEN: Final = "subscriptions/listen"
NOTIFICATION: Final = "notifications/tasks"
"""The extension's status notification: the whole task, as `tasks/get` would answer it then."""
TASK_IDS: Final = "taskIds"


_MADE: dict[str, Any] = {}
_LOCK = RLock()


def _listen_params(mod: ModuleType) -> Any:
    """`mod`'s listen params, whose filter also carries `taskIds`: made once per revision, whichever
    thread first reads it (the types a revision's method names are one class each)."""
    with _LOCK:
        made = _MADE.get(mod.__name__)
        if made is None:
            made = _MADE[mod.__name__] = _make_listen_params(mod)
        return made


def _make_listen_params(mod: ModuleType) -> Any:
    task_filter = msgspec.defstruct(
        "SubscriptionFilter",
        [("task_ids", list[str] | UnsetType, msgspec.field(default=UNSET, name=TASK_IDS))],
        bases=(mod.SubscriptionFilter,),
        kw_only=True,
        module=__name__,
    )
    return msgspec.defstruct(
        "SubscriptionsListenRequestParams",
        [("notifications", task_filter)],
        bases=(mod.SubscriptionsListenRequestParams,),
        kw_only=True,
        module=__name__,
    )


def with_task_subscriptions(mod: ModuleType) -> Mapping[str, RequestMethod[Any, Any]]:
    """`mod.REQUESTS` with the listen request's params extended (envelope-era revisions with a listen
    request); otherwise `mod.REQUESTS` itself. The extended types are made when the listen request's
    params type is first read, not here: loading a revision creates none of its classes (`dir`, unlike
    `hasattr`, asks the module without creating the type)."""
    requests: Mapping[str, RequestMethod[Any, Any]] = mod.REQUESTS
    spec = requests.get(LISTEN)
    if not mod.STATELESS or spec is None or "SubscriptionFilter" not in dir(mod):
        return requests
    return {**requests, LISTEN: spec.replace(params_type=_listen_params)}
