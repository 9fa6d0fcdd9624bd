"""An incident and its persisted form."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class IncidentState(StrEnum):
    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    CLOSED = "closed"


OPEN = frozenset({IncidentState.TRIGGERED, IncidentState.ACKNOWLEDGED})


@dataclass
class Entry:
    ts: int
    kind: str  # alert.firing alert.resolved ack note resolved closed escalation ...
    actor: str
    message: str
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass
class IncidentAlert:
    fingerprint: str
    labels: dict[str, str]
    firing: bool
    since_ms: int


@dataclass
class Incident:
    id: int
    dedup_key: str
    priority: str
    title: str
    service: str
    host_id: str
    opened_ms: int
    state: IncidentState = IncidentState.TRIGGERED
    acknowledged_ms: int = 0
    acknowledged_by: str = ""
    resolved_ms: int = 0
    closed_ms: int = 0
    manual: bool = False
    notified_ms: int = 0
    quiet_since_ms: int = 0  # every alert resolved since then (0: some still fire)
    alerts: list[IncidentAlert] = field(default_factory=list)
    timeline: list[Entry] = field(default_factory=list)

    @property
    def open(self) -> bool:
        return self.state in OPEN

    def note(self, ts: int, kind: str, actor: str, message: str, **attrs: str) -> None:
        self.timeline.append(Entry(ts, kind, actor, message, attrs))

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Incident:
        d: dict[str, Any] = json.loads(text)
        d["state"] = IncidentState(d["state"])
        d["alerts"] = [IncidentAlert(**a) for a in d["alerts"]]
        d["timeline"] = [Entry(**e) for e in d["timeline"]]
        return cls(**d)
