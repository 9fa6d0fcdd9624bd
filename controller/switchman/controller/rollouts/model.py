"""The rollout document: everything the state machine needs, persisted as
JSON after every transition and before any action it calls for."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class RolloutState(StrEnum):
    RUNNING = "running"
    BAKING = "baking"
    PAUSED = "paused"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ROLLING_BACK = "rolling_back"
    ROLLED_BACK = "rolled_back"
    ABORTED = "aborted"


TERMINAL = frozenset({RolloutState.SUCCEEDED, RolloutState.FAILED, RolloutState.ROLLED_BACK, RolloutState.ABORTED})


class HostState(StrEnum):
    PENDING = "pending"
    SWITCHING = "switching"
    WEIGHTING = "weighting"  # a weighted step was asked for (the first one starts the new version)
    WEIGHTED = "weighted"  # the new version takes ``weight`` % of the host's requests (below 100)
    VERIFYING = "verifying"  # switched; must stay healthy for min_healthy
    HEALTHY = "healthy"
    FAILED = "failed"
    ROLLING_BACK = "rolling_back"
    ROLLED_BACK = "rolled_back"
    ROLLBACK_FAILED = "rollback_failed"
    SKIPPED = "skipped"


class Pause(StrEnum):
    NONE = ""
    PROMOTE = "promote"  # --manual: waiting for `rollout promote`
    INCONCLUSIVE = "inconclusive"  # analysis had no data: a human decides
    OPERATOR = "operator"  # `rollout pause`


@dataclass
class Options:
    strategy: str = "blue-green"
    selector: dict[str, str] = field(default_factory=dict)
    max_parallel: int = 1
    canary: int = 0
    min_healthy_ms: int = 10_000
    healthy_deadline_ms: int = 120_000
    progress_deadline_ms: int = 600_000
    bake_ms: int = 0
    analysis: list[str] = field(default_factory=list)
    manual: bool = False
    auto_rollback: bool = True
    require_all: bool = False
    force: bool = False
    steps: list[int] = field(default_factory=list)  # weights of the new version, the last 100; [] = a plain switch
    max_error_rate: float = -1.0  # new slot's 5xx share (0..1) over a step's bake; below 0: not checked
    max_latency_regression: float = -1.0  # new p99 / old p99 - 1 over a step's bake; below 0: not checked
    min_requests: int = 50  # on the new slot in a step's bake, for a canary check to be conclusive


@dataclass
class HostStep:
    host_id: str
    batch: int
    state: HostState = HostState.PENDING
    from_version: str = ""  # what the host served before this rollout ("" and recorded: nothing)
    from_recorded: bool = False  # from_version was read from the agent before it was asked to switch
    message: str = ""
    updated_ms: int = 0
    started_ms: int = 0  # when its switch was issued
    switched_ms: int = 0  # when the agent reported the new version live
    healthy_since_ms: int = 0  # start of the current healthy streak (min_healthy counts from here)
    order: int = 0  # 1, 2, ... in the order switches were issued (0: never)
    active_slot: str = ""
    bad_checks: int = 0
    weight: int = 0  # the new version's share of the host's requests, as the agent last confirmed it
    candidate_slot: str = ""  # where the new version runs while weighted (the old one stays on active_slot)


@dataclass
class Verdict:
    name: str
    expr: str
    verdict: str  # pass | fail | inconclusive | pending (before a canary window ends) | skipped
    value: float
    at_ms: int
    # canary checks: the threshold, the old slot's value, the new slot's requests and the numbers in words
    threshold: float = 0.0
    baseline: float = 0.0
    requests: float = 0.0
    detail: str = ""


@dataclass
class StepResult:
    """How a weighted step's bake ended, with the verdicts that decided it."""

    batch: int
    index: int  # into Options.steps
    weight: int
    verdict: str  # pass | fail | inconclusive
    started_ms: int
    ended_ms: int
    analysis: list[Verdict] = field(default_factory=list)


@dataclass
class Rollout:
    id: int
    service: str
    version: str
    revision: int
    options: Options
    hosts: list[HostStep]
    batches: int
    created_ms: int
    created_by: str = ""
    kind: str = "rollout"  # rollout | rollback (of the service's last rollout)
    state: RolloutState = RolloutState.RUNNING
    from_version: str = ""
    current_batch: int = 0
    updated_ms: int = 0
    finished_ms: int = 0
    message: str = ""
    last_progress_ms: int = 0
    bake_until_ms: int = 0
    pause: Pause = Pause.NONE
    paused_from: str = ""  # the state `resume` returns to
    final_state: str = ""  # rolled_back or aborted, once rolling back
    analysis: list[Verdict] = field(default_factory=list)
    step: int = 0  # the current batch's weighted step (index into options.steps)
    bake_started_ms: int = 0
    step_results: list[StepResult] = field(default_factory=list)

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL

    def host(self, host_id: str) -> HostStep:
        return next(h for h in self.hosts if h.host_id == host_id)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Rollout:
        d: dict[str, Any] = json.loads(text)
        d["options"] = Options(**d["options"])
        d["hosts"] = [HostStep(**{**h, "state": HostState(h["state"])}) for h in d["hosts"]]
        d["analysis"] = [Verdict(**v) for v in d["analysis"]]
        d["step_results"] = [
            StepResult(**{**s, "analysis": [Verdict(**v) for v in s["analysis"]]}) for s in d.get("step_results", [])
        ]
        d["state"] = RolloutState(d["state"])
        d["pause"] = Pause(d["pause"])
        return cls(**d)
