"""``[[notifiers]]`` tables to notifiers, one builder per kind."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from switchman.controller.notify import alertmanager, pagerduty, webhook
from switchman.controller.notify.base import Notifier, NotifierConfigError, Table

BUILDERS: dict[str, tuple[set[str], Callable[[Table], Notifier]]] = {
    "webhook": (webhook.KEYS, webhook.build),
    "alertmanager": (alertmanager.KEYS, alertmanager.build),
    "pagerduty": (pagerduty.KEYS, pagerduty.build),
}


def build_notifiers(tables: Sequence[Mapping[str, object]], source: str) -> list[Notifier]:
    """:raises NotifierConfigError: naming the file, the table and the key."""
    out: list[Notifier] = []
    for i, raw in enumerate(tables):
        where = f"{source}: notifiers[{i}]"
        kind = raw.get("kind")
        if kind not in BUILDERS:
            raise NotifierConfigError(f"{where}: key 'kind': expected one of {', '.join(BUILDERS)}, got {kind!r}")
        keys, builder = BUILDERS[str(kind)]
        try:
            n = builder(Table(raw, where, keys))
        except NotifierConfigError:
            raise
        except ValueError as exc:
            raise NotifierConfigError(str(exc)) from None
        if any(o.name == n.name for o in out):
            raise NotifierConfigError(f"{where}: key 'name': {n.name!r} is used twice")
        out.append(n)
    return out
