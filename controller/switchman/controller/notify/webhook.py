"""Alertmanager's webhook receiver payload (version 4) with Alertmanager's
grouping: alerts are grouped by ``group_by`` labels; a new group waits
``group_wait``, then is flushed every ``group_interval``, and a flush notifies
when a new alert fires, when an alert resolves (``send_resolved``), or when
``repeat_interval`` has passed since the last notification (the rules of
Alertmanager's ``DedupStage``)."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

from switchman.controller.notify.base import (
    COMMON_KEYS,
    ZERO_TIME,
    BaseNotifier,
    Message,
    NotifyAlert,
    Plan,
    Table,
    common,
    dumps,
    rfc3339,
)

KEYS = COMMON_KEYS | {"group_by", "group_wait", "group_interval", "repeat_interval", "max_alerts", "external_url"}


@dataclass
class Group:
    labels: dict[str, str]
    next_flush_ms: int
    last_notify_ms: int = 0
    notified: bool = False
    firing: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Grouping:
    group_by: tuple[str, ...]
    group_wait_ms: int
    group_interval_ms: int
    repeat_interval_ms: int

    def key(self, labels: Mapping[str, str]) -> tuple[str, dict[str, str]]:
        if self.group_by == ("...",):
            chosen = dict(labels)
        else:
            chosen = {k: labels[k] for k in self.group_by if labels.get(k)}
        inner = ",".join(f"{k}={json.dumps(v)}" for k, v in sorted(chosen.items()))
        return "{}:{" + inner + "}", chosen


def needs_update(
    g: Group, firing: set[str], resolved: set[str], send_resolved: bool, now_ms: int, repeat_ms: int
) -> bool:
    if not g.notified:
        return bool(firing)
    if not firing <= set(g.firing):
        return True
    if not firing:
        return bool(g.firing)
    if send_resolved and not resolved <= set(g.resolved):
        return True
    return now_ms >= g.last_notify_ms + repeat_ms


def common_labels(maps: Sequence[Mapping[str, str]]) -> dict[str, str]:
    if not maps:
        return {}
    first = maps[0]
    return {k: v for k, v in first.items() if all(m.get(k) == v for m in maps[1:])}


@dataclass
class GroupingNotifier(BaseNotifier, ABC):
    """Shared by notifiers that deliver one message per group flush."""

    grouping: Grouping
    groups: dict[str, Group] = field(default_factory=dict)

    def load_state(self, state: Mapping[str, str]) -> None:
        self.groups = {k: Group(**json.loads(v)) for k, v in state.items()}

    def plan(self, alerts: Sequence[NotifyAlert], now_ms: int) -> Plan:
        g = self.grouping
        current: dict[str, list[NotifyAlert]] = {}
        labels_of: dict[str, dict[str, str]] = {}
        for a in alerts:
            if not self.common.routes(a):
                continue
            key, chosen = g.key(a.labels)
            current.setdefault(key, []).append(a)
            labels_of[key] = chosen
        plan = Plan()
        for key in sorted(set(current) | set(self.groups)):
            members = current.get(key, [])
            group = self.groups.get(key)
            known = set(group.firing) if group else set()
            # a resolved alert matters only if this group told someone it fired
            members = [a for a in members if a.firing or a.fingerprint in known]
            firing = {a.fingerprint for a in members if a.firing}
            if group is None:
                if not firing:
                    continue
                group = self.groups[key] = Group(labels_of[key], now_ms + g.group_wait_ms)
                plan.state[key] = json.dumps(asdict(group))
            if now_ms < group.next_flush_ms:
                continue
            resolved = {a.fingerprint for a in members if not a.firing}
            if needs_update(group, firing, resolved, self.common.send_resolved, now_ms, g.repeat_interval_ms):
                sent = members if self.common.send_resolved else [a for a in members if a.firing]
                if sent:
                    plan.messages.append(self.message(key, group.labels, sent))
                group.notified, group.last_notify_ms = True, now_ms
                group.firing, group.resolved = sorted(firing), sorted(resolved)
            group.next_flush_ms = now_ms + g.group_interval_ms
            if not firing:
                del self.groups[key]
                plan.state[key] = None
            else:
                plan.state[key] = json.dumps(asdict(group))
        return plan

    @abstractmethod
    def message(self, key: str, group_labels: dict[str, str], alerts: Sequence[NotifyAlert]) -> Message:
        """One notification for a group flush."""


@dataclass
class WebhookNotifier(GroupingNotifier):
    max_alerts: int = 0
    external_url: str = ""

    def incident(self, event: str, doc: dict[str, object]) -> Message | None:
        body = {"version": "1", "kind": "incident", "event": event, "incident": doc}
        return Message(self.name, self.common.url, dumps(body))

    def message(self, key: str, group_labels: dict[str, str], alerts: Sequence[NotifyAlert]) -> Message:
        alerts = sorted(alerts, key=lambda a: (not a.firing, a.starts_ms, a.fingerprint))
        shown = alerts[: self.max_alerts] if self.max_alerts else alerts
        body = {
            "version": "4",
            "groupKey": key,
            "truncatedAlerts": len(alerts) - len(shown),
            "status": "firing" if any(a.firing for a in alerts) else "resolved",
            "receiver": self.name,
            "groupLabels": group_labels,
            "commonLabels": common_labels([a.labels for a in alerts]),
            "commonAnnotations": common_labels([a.annotations for a in alerts]),
            "externalURL": self.external_url,
            "alerts": [
                {
                    "status": a.status,
                    "labels": dict(a.labels),
                    "annotations": dict(a.annotations),
                    "startsAt": rfc3339(a.starts_ms),
                    "endsAt": rfc3339(a.ends_ms) if a.ends_ms else ZERO_TIME,
                    "generatorURL": generator_url(self.external_url, a),
                    "fingerprint": a.fingerprint,
                }
                for a in shown
            ],
        }
        return Message(self.name, self.common.url, dumps(body))


def generator_url(external_url: str, a: NotifyAlert) -> str:
    return f"{external_url.rstrip('/')}/alerts?fingerprint={a.fingerprint}" if external_url else ""


def grouping(t: Table) -> Grouping:
    return Grouping(
        group_by=tuple(t.strlist("group_by", ["alertname"])),
        group_wait_ms=t.duration_ms("group_wait", "30s"),
        group_interval_ms=t.duration_ms("group_interval", "5m"),
        repeat_interval_ms=t.duration_ms("repeat_interval", "4h"),
    )


def build(t: Table) -> WebhookNotifier:
    max_alerts = t.raw.get("max_alerts", 0)
    if not isinstance(max_alerts, int) or max_alerts < 0:
        raise ValueError(f"{t.where}: key 'max_alerts': expected a whole number >= 0")
    return WebhookNotifier(
        common(t, "webhook"), grouping(t), max_alerts=max_alerts, external_url=t.text("external_url", "")
    )
