"""What every notifier shares: the alert as notifiers see it, the message put
in the outbox, the plan a notifier returns for one tick, and the common
configuration keys. A notifier is pure: given the alerts and the time it
returns messages and its new state; the dispatcher stores both in one
transaction and the outbox delivers (ADR 0008)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from switchman.controller.notify.matchers import MatcherError, matches_all, parse_matcher
from switchman.controller.promql.ast import Matcher
from switchman.proto.durations import parse_duration_ms


@dataclass(frozen=True)
class NotifyAlert:
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    firing: bool  # else resolved
    starts_ms: int
    ends_ms: int  # 0 while firing
    fingerprint: str
    value: float = 0.0

    @property
    def status(self) -> str:
        return "firing" if self.firing else "resolved"


@dataclass(frozen=True)
class Message:
    notifier: str
    url: str
    body: bytes
    content_type: str = "application/json"


@dataclass
class Plan:
    messages: list[Message] = field(default_factory=list)
    state: dict[str, str | None] = field(default_factory=dict)  # key -> JSON value, None deletes


class Notifier(Protocol):
    """One configured ``[[notifiers]]`` entry."""

    common: Common

    @property
    def name(self) -> str:
        """Unique among the configured notifiers."""

    def load_state(self, state: Mapping[str, str]) -> None:
        """The persisted state, as written by earlier plans."""

    def plan(self, alerts: Sequence[NotifyAlert], now_ms: int) -> Plan:
        """Messages due at ``now_ms`` and the state to persist with them.
        Updates the notifier's memory as if the plan was committed."""

    def incident(self, event: str, doc: dict[str, object]) -> Message | None:
        """An incident notification (``event``: triggered, escalated,
        acknowledged, resolved), or None when this kind does not carry them."""


@dataclass(frozen=True)
class Common:
    name: str
    kind: str
    url: str
    timeout_ms: int
    send_resolved: bool
    matchers: tuple[Matcher, ...]
    max_age_ms: int
    incidents: bool = False  # also send incident notifications (opened, escalated, acknowledged, resolved)

    def routes(self, alert: NotifyAlert) -> bool:
        return matches_all(self.matchers, alert.labels)


@dataclass
class BaseNotifier:
    common: Common

    @property
    def name(self) -> str:
        return self.common.name

    def incident(self, event: str, doc: dict[str, object]) -> Message | None:
        return None


class NotifierConfigError(ValueError):
    """A ``[[notifiers]]`` table that cannot be used; the message names the key."""


class Table:
    """Typed reads from one ``[[notifiers]]`` table, with errors naming the key."""

    def __init__(self, raw: Mapping[str, object], where: str, known: set[str]) -> None:
        self.raw, self.where = raw, where
        unknown = set(raw) - known
        if unknown:
            raise NotifierConfigError(
                f"{where}: unknown key {sorted(unknown)[0]!r} (known: {', '.join(sorted(known))})"
            )

    def text(self, key: str, default: str | None = None) -> str:
        v = self.raw.get(key, default)
        if not isinstance(v, str) or (default is None and not v):
            raise NotifierConfigError(f"{self.where}: key {key!r}: expected a non-empty string")
        return v

    def flag(self, key: str, default: bool) -> bool:
        v = self.raw.get(key, default)
        if not isinstance(v, bool):
            raise NotifierConfigError(f"{self.where}: key {key!r}: expected true or false")
        return v

    def duration_ms(self, key: str, default: str) -> int:
        v = self.raw.get(key, default)
        try:
            ms = parse_duration_ms(str(v))
        except ValueError as exc:
            raise NotifierConfigError(f"{self.where}: key {key!r}: {exc}") from None
        if ms <= 0:
            raise NotifierConfigError(f"{self.where}: key {key!r}: must be greater than 0")
        return ms

    def strlist(self, key: str, default: Sequence[str]) -> list[str]:
        v = self.raw.get(key, list(default))
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise NotifierConfigError(f"{self.where}: key {key!r}: expected a list of strings")
        return [str(x) for x in v]


COMMON_KEYS = {"name", "kind", "url", "timeout", "send_resolved", "matchers", "max_age", "incidents"}


def common(t: Table, kind: str, default_url: str | None = None) -> Common:
    url = t.text("url", default_url)
    if not url.startswith(("http://", "https://")):
        raise NotifierConfigError(f"{t.where}: key 'url': expected an http:// or https:// URL, got {url!r}")
    try:
        matchers = tuple(parse_matcher(m) for m in t.strlist("matchers", []))
    except MatcherError as exc:
        raise NotifierConfigError(f"{t.where}: key 'matchers': {exc}") from None
    return Common(
        name=t.text("name"),
        kind=kind,
        url=url.rstrip("/") if kind == "alertmanager" else url,
        timeout_ms=t.duration_ms("timeout", "10s"),
        send_resolved=t.flag("send_resolved", True),
        matchers=matchers,
        max_age_ms=t.duration_ms("max_age", "24h"),
        incidents=t.flag("incidents", False),
    )


def rfc3339(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


ZERO_TIME = "0001-01-01T00:00:00Z"  # Go's zero time, what Alertmanager sends for "no end"


def dumps(obj: object) -> bytes:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()
