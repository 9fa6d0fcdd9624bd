"""A rollout's probe check counts only the probes since the new version went
live on a host: a 0 left in the slot by what ran there before (a version
rolled back, the new one still starting) does not fail a good version."""

from __future__ import annotations

from switchman.controller.promql.evaluator import Evaluator
from switchman.controller.promql.testfile import MemorySource
from switchman.controller.rollouts.analysis import evaluate
from switchman.controller.rollouts.model import HostState, HostStep, Options, Rollout

S = 1000
LIVE = 100 * S  # the agent confirmed the weighted step here


def rollout() -> Rollout:
    host = HostStep("web-1", 0, HostState.WEIGHTED, updated_ms=LIVE, weight=50, active_slot="blue")
    host.candidate_slot = "green"
    return Rollout(1, "hello", "4", 1, Options(steps=[50, 100]), [host], 1, 0)


def probe_verdict(points: list[tuple[int, float]], now: int) -> str:
    src = MemorySource()
    src.add("probe_success", {"service": "hello", "host": "web-1", "slot": "green"}, points)
    verdicts = evaluate(rollout(), set(), Evaluator(src), lambda: [], now)
    [probe] = [v for v in verdicts if v.name == "probe_success"]
    return probe.verdict


def test_a_zero_before_the_step_is_not_counted_and_one_after_it_is() -> None:
    before = [(60 * S, 1.0), (90 * S, 0.0)]  # the slot's last probe before this version: failed
    assert probe_verdict(before, LIVE + 2 * S) == "pass", "no probe since the step yet: nothing against it"
    assert probe_verdict([*before, (LIVE + 5 * S, 1.0)], LIVE + 6 * S) == "pass"
    assert probe_verdict([*before, (LIVE + 5 * S, 0.0)], LIVE + 6 * S) == "fail", "the new version's own failure"
