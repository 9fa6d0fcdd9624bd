"""PagerDuty Events API v2: one ``trigger`` when an alert fires and one
``resolve`` when it resolves, with ``dedup_key`` = the alert's fingerprint so
PagerDuty folds repeats into one incident."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from switchman.controller.notify.base import (
    COMMON_KEYS,
    BaseNotifier,
    Message,
    NotifyAlert,
    Plan,
    Table,
    common,
    dumps,
    rfc3339,
)

KEYS = COMMON_KEYS | {"routing_key", "severity_label"}
DEFAULT_URL = "https://events.pagerduty.com/v2/enqueue"
SEVERITIES = {"critical", "error", "warning", "info"}
ALIASES = {"page": "critical", "high": "error", "ticket": "warning", "low": "info"}


def severity(value: str) -> str:
    v = value.lower()
    return v if v in SEVERITIES else ALIASES.get(v, "error")


@dataclass
class PagerDutyNotifier(BaseNotifier):
    routing_key: str
    severity_label: str = "severity"
    triggered: dict[str, str] = field(default_factory=dict)  # fingerprint -> last action

    def load_state(self, state: Mapping[str, str]) -> None:
        self.triggered = {k: json.loads(v) for k, v in state.items()}

    def plan(self, alerts: Sequence[NotifyAlert], now_ms: int) -> Plan:
        plan = Plan()
        seen = set()
        for a in alerts:
            if not self.common.routes(a):
                continue
            seen.add(a.fingerprint)
            last = self.triggered.get(a.fingerprint)
            if a.firing and last != "trigger":
                plan.messages.append(self.event(a, "trigger"))
            elif not a.firing and last == "trigger":
                if self.common.send_resolved:
                    plan.messages.append(self.event(a, "resolve"))
            else:
                continue
            action = "trigger" if a.firing else "resolve"
            self.triggered[a.fingerprint] = action
            plan.state[a.fingerprint] = json.dumps(action)
        for fp in [fp for fp in self.triggered if fp not in seen]:
            del self.triggered[fp]
            plan.state[fp] = None
        return plan

    def incident(self, event: str, doc: dict[str, object]) -> Message | None:
        """The incident as one PagerDuty alert: trigger (again on escalation), acknowledge, resolve."""
        action = {
            "triggered": "trigger",
            "escalated": "trigger",
            "acknowledged": "acknowledge",
            "resolved": "resolve",
        }.get(event)
        if action is None:
            return None
        body: dict[str, object] = {
            "routing_key": self.routing_key,
            "event_action": action,
            "dedup_key": f"incident-{doc['id']}",
        }
        if action == "trigger":
            body["payload"] = {
                "summary": str(doc.get("title", ""))[:1024],
                "source": str(doc.get("host_id") or "switchman-controller"),
                "severity": {"P1": "critical", "P2": "error", "P3": "warning"}.get(str(doc.get("priority")), "info"),
                "component": str(doc.get("service", "")),
                "custom_details": doc,
            }
        return Message(self.name, self.common.url, dumps(body))

    def event(self, a: NotifyAlert, action: str) -> Message:
        body: dict[str, object] = {"routing_key": self.routing_key, "event_action": action, "dedup_key": a.fingerprint}
        if action == "trigger":
            name = a.labels.get("alertname", "alert")
            where = a.labels.get("service") or a.labels.get("host") or "switchman"
            body["payload"] = {
                "summary": (a.annotations.get("summary") or f"{name} on {where}")[:1024],
                "source": a.labels.get("host") or a.labels.get("instance") or "switchman-controller",
                "severity": severity(a.labels.get(self.severity_label, "")),
                "timestamp": rfc3339(a.starts_ms),
                "component": a.labels.get("service", ""),
                "class": name,
                "custom_details": {"labels": dict(a.labels), "annotations": dict(a.annotations), "value": a.value},
            }
            body["client"] = "Switchman"
        return Message(self.name, self.common.url, dumps(body))


def build(t: Table) -> PagerDutyNotifier:
    return PagerDutyNotifier(
        common(t, "pagerduty", DEFAULT_URL), t.text("routing_key"), severity_label=t.text("severity_label", "severity")
    )
