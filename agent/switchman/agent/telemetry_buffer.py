"""Samples and events produced between collection cycles (probe results,
state changes); the collection loop drains them into the next spool batch."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from switchman.agent.collect.model import Labels
from switchman.proto.v1 import common_pb2

SEVERITY = {
    "info": common_pb2.SEVERITY_INFO,
    "warning": common_pb2.SEVERITY_WARNING,
    "critical": common_pb2.SEVERITY_CRITICAL,
}


@dataclass
class TelemetryBuffer:
    points: dict[tuple[str, Labels], tuple[list[int], list[float]]] = field(default_factory=dict)
    events: list[common_pb2.Event] = field(default_factory=list)
    max_points: int = 50_000
    target: Labels = ()  # the target labels of what is buffered (probe results: job="blackbox", instance)

    def __len__(self) -> int:
        return sum(len(ts) for ts, _ in self.points.values())

    def add(self, name: str, labels: Labels, value: float, ts_ms: int | None = None) -> None:
        ts_list, vs = self.points.setdefault((name, labels), ([], []))
        if len(ts_list) < self.max_points:
            ts_list.append(ts_ms if ts_ms is not None else int(time.time() * 1000))
            vs.append(float(value))

    def event(self, kind: str, message: str, *, service: str = "", severity: str = "info", **attrs: str) -> None:
        self.events.append(
            common_pb2.Event(
                timestamp_ms=int(time.time() * 1000),
                kind=kind,
                severity=SEVERITY[severity],
                service=service,
                message=message,
                attributes=attrs,
            )
        )

    def drain(self) -> tuple[list[common_pb2.Series], list[common_pb2.Event]]:
        series = [
            common_pb2.Series(name=name, labels={**dict(labels), **dict(self.target)}, timestamps_ms=ts, values=vs)
            for (name, labels), (ts, vs) in self.points.items()
        ]
        events, self.points, self.events = self.events, {}, []
        return series, events
