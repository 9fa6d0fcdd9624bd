"""A drill's journal: what it checked, applied, saw and concluded. Written
after every phase, so a controller restart knows which faults to clear."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

TERMINAL = frozenset({"completed", "deviated", "aborted", "failed"})


@dataclass
class ProbeRecord:
    name: str
    expr: str
    before: float = math.nan
    during: float = math.nan
    after: float = math.nan
    held_before: bool = False
    held_during: bool = True
    held_after: bool = False


@dataclass
class AppliedFault:
    id: str
    host_id: str
    kind: str
    service: str
    params: dict[str, str]
    applied_ms: int
    expires_ms: int
    reverted_ms: int = 0
    error: str = ""


@dataclass
class Journal:
    id: int
    title: str
    description: str
    source: str
    dry_run: bool
    started_ms: int
    state: str = "checking"  # checking injecting running recovering completed deviated aborted failed
    targets: list[str] = field(default_factory=list)
    faults: list[AppliedFault] = field(default_factory=list)
    probes: list[ProbeRecord] = field(default_factory=list)
    timeline: list[tuple[int, str]] = field(default_factory=list)
    finished_ms: int = 0
    injected_ms: int = 0
    reverted_ms: int = 0
    detected_ms: int = 0
    detected_by: str = ""
    recovered_ms: int = 0
    reason: str = ""
    started_by: str = ""

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL

    def note(self, ts: int, message: str) -> None:
        self.timeline.append((ts, message))

    def time_to_detect_s(self) -> float:
        return (self.detected_ms - self.injected_ms) / 1000 if self.detected_ms and self.injected_ms else 0.0

    def time_to_recover_s(self) -> float:
        return (self.recovered_ms - self.reverted_ms) / 1000 if self.recovered_ms and self.reverted_ms else 0.0

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)  # NaN stays NaN (Python's JSON reads it back)

    @classmethod
    def from_json(cls, text: str) -> Journal:
        d: dict[str, Any] = json.loads(text)
        d["faults"] = [AppliedFault(**f) for f in d["faults"]]
        d["probes"] = [ProbeRecord(**p) for p in d["probes"]]
        d["timeline"] = [(int(t), str(m)) for t, m in d["timeline"]]
        return cls(**d)


def value_text(v: float) -> str:
    """A condition's value as every drill view shows it: NaN is "no data"."""
    return "no data" if math.isnan(v) else f"{v:g}"
