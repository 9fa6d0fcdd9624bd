"""Weighted steps and their canary checks, pure: the state machine with an
explicit clock, and the verdicts over request metrics in a memory source
(the same PromQL the executor runs over the store)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from switchman.cli.commands import rollout as cli_rollout
from switchman.controller.errors import InvalidArgument
from switchman.controller.promql.evaluator import Evaluator
from switchman.controller.promql.testfile import MemorySource
from switchman.controller.rollouts import canary
from switchman.controller.rollouts.executor import RolloutManager
from switchman.controller.rollouts.machine import Action, Converge, Machine, Weigh
from switchman.controller.rollouts.model import HostState, Options, Pause, Rollout, RolloutState, Verdict
from switchman.controller.rollouts.views import rollout_message

from tests.unit.test_rollout_executor import HOSTS, fleet, options, rollout_to, run
from tests.unit.test_rollout_machine import S, healthy, rollout


def weighed(m: Machine, actions: list[Action], now: int) -> None:
    """Every step the agents were asked for, done: the new version on green."""
    for a in actions:
        assert isinstance(a, Weigh), a
        m.record_from(a.host_id, "v1")  # as the executor does before it asks
        slots = ("green", "") if a.weight == 100 else ("blue", "green")  # flipped: green is live
        m.on_weighted(a.host_id, True, f"{a.weight}%", a.weight, slots, now)


def passes(now: int) -> list[Verdict]:
    return [Verdict("error rate", "x", "pass", 0.0, now, 0.01, 0.0, 400, "error rate 0.00% of 400 requests")]


def test_every_host_moves_through_the_weights_together_and_100_is_the_flip() -> None:
    m = rollout(Options(steps=[25, 50, 100], bake_ms=10 * S, max_parallel=3, min_healthy_ms=2 * S))
    first = m.tick(0)
    assert first == [Weigh("h1", "v2", 25), Weigh("h2", "v2", 25), Weigh("h3", "v2", 25)]
    assert {h.state for h in m.r.hosts} == {HostState.WEIGHTING}
    weighed(m, first[:2], 1 * S)
    assert m.tick(1 * S) == [] and m.r.state is RolloutState.RUNNING  # h3 not there yet
    weighed(m, first[2:], 2 * S)
    assert m.tick(2 * S) == [] and m.r.state is RolloutState.BAKING and "step 1/3 (25%)" in m.r.message
    assert [h.weight for h in m.r.hosts] == [25, 25, 25] and m.r.host("h1").candidate_slot == "green"
    healthy(m, 3 * S)  # weighted hosts are checked too, and stay weighted
    assert m.r.host("h1").state is HostState.WEIGHTED
    second = m.tick(12 * S)
    assert second == [Weigh(h, "v2", 50) for h in ("h1", "h2", "h3")] and m.r.step == 1
    assert [(s.weight, s.verdict) for s in m.r.step_results] == [(25, "pass")]
    weighed(m, second, 13 * S)
    m.tick(13 * S)
    third = m.tick(23 * S)
    assert third == [Weigh(h, "v2", 100) for h in ("h1", "h2", "h3")]
    weighed(m, third, 24 * S)
    assert {h.state for h in m.r.hosts} == {HostState.VERIFYING}  # flipped: verified like a switch
    healthy(m, 27 * S)
    assert m.tick(27 * S) == [] and m.r.state is RolloutState.BAKING and "step 3/3 (100%)" in m.r.message
    m.tick(37 * S)
    assert m.r.state is RolloutState.SUCCEEDED
    assert [(s.weight, s.verdict) for s in m.r.step_results] == [(25, "pass"), (50, "pass"), (100, "pass")]


def test_a_canary_check_is_judged_on_the_whole_window_and_a_fail_zeroes_every_weighted_host_at_once() -> None:
    m = rollout(Options(steps=[10, 100], bake_ms=10 * S, max_parallel=3, max_error_rate=0.01))
    weighed(m, m.tick(0), 1 * S)
    m.tick(1 * S)
    assert m.analysis_due(3 * S, 1 * S, 2 * S) and not m.analysis_due(3 * S, 2 * S, 2 * S)
    m.on_analysis([Verdict("error rate", "x", "pending", 0.05, 5 * S)], 5 * S)  # numbers so far: no decision
    assert m.r.state is RolloutState.BAKING
    assert m.tick(11 * S) == [] and m.r.state is RolloutState.BAKING  # no verdict from after the window yet
    assert m.analysis_due(11 * S, 10 * S, 2 * S)  # so the executor evaluates at once
    fail = Verdict("error rate", "x", "fail", 0.03, 11 * S, 0.01, 0.0, 412, "error rate 3.00% of 412 requests")
    m.on_analysis([fail], 11 * S)
    assert m.r.state is RolloutState.ROLLING_BACK and "error rate 3.00% of 412 requests" in m.r.message
    assert [(s.weight, s.verdict) for s in m.r.step_results] == [(10, "fail")]
    back = m.tick(12 * S)
    assert back == [Converge(h, "v1") for h in ("h1", "h2", "h3")]  # all at once, not one by one
    for a in back:
        m.on_converged(a.host_id, True, "weight 0", "v1", "blue", 12 * S)
    m.tick(13 * S)
    assert m.r.state is RolloutState.ROLLED_BACK


def test_an_inconclusive_step_pauses_and_promote_takes_the_next_step() -> None:
    m = rollout(Options(steps=[20, 100], bake_ms=10 * S, max_parallel=3, max_error_rate=0.01))
    weighed(m, m.tick(0), 0)
    m.tick(0)
    few = Verdict("error rate", "x", "inconclusive", 0, 10 * S, 0.01, 0, 12, "12 requests on the new slot")
    m.on_analysis([few], 10 * S)
    assert m.tick(10 * S) == [] and m.r.state is RolloutState.PAUSED and m.r.pause is Pause.INCONCLUSIVE
    assert "12 requests on the new slot" in m.r.message
    assert m.r.step_results[-1].verdict == "inconclusive"
    m.promote(20 * S)
    assert m.tick(20 * S) == [Weigh(h, "v2", 100) for h in ("h1", "h2", "h3")]


def test_with_a_canary_only_the_canary_batch_takes_steps() -> None:
    m = rollout(Options(strategy="canary", canary=1, max_parallel=2, steps=[50, 100], bake_ms=5 * S, min_healthy_ms=0))
    assert m.tick(0) == [Weigh("h1", "v2", 50)]
    weighed(m, [Weigh("h1", "v2", 50)], 1 * S)
    m.tick(1 * S)
    m.on_analysis(passes(2 * S), 2 * S)
    assert m.tick(6 * S) == [Weigh("h1", "v2", 100)]
    weighed(m, [Weigh("h1", "v2", 100)], 7 * S)
    healthy(m, 7 * S)
    m.tick(7 * S)
    rest = m.tick(12 * S)
    assert rest == [Converge("h2", "v2"), Converge("h3", "v2")]  # the rest switch in one batch


def test_a_resumed_rollout_asks_again_for_the_step_in_flight_and_a_failed_step_rolls_back() -> None:
    m = rollout(Options(steps=[5, 50, 100], bake_ms=2 * S, max_parallel=3))
    weighed(m, m.tick(0), 0)
    m.tick(0)
    m.tick(3 * S)  # 5 % baked: 50 % asked for
    resumed = Machine(Rollout.from_json(m.r.to_json()))  # what a kill -9 leaves behind
    assert resumed.in_flight() == [Weigh(h, "v2", 50) for h in ("h1", "h2", "h3")]
    resumed.on_weighted("h2", False, "the green slot did not become healthy", 5, ("blue", "green"), 4 * S)
    assert resumed.r.state is RolloutState.ROLLING_BACK
    assert resumed.tick(5 * S) == []  # h1 and h3 are still being weighted: they finish first
    weighed(resumed, [Weigh("h1", "v2", 50), Weigh("h3", "v2", 50)], 6 * S)
    back = resumed.tick(7 * S)
    assert back == [Converge("h1", "v1"), Converge("h3", "v1")]  # at once; then the failed one
    for a in back:
        resumed.on_converged(a.host_id, True, "weight 0", "v1", "blue", 7 * S)
    assert resumed.tick(8 * S) == [Converge("h2", "v1")]


# verdicts ------------------------------------------------------------------
def requests(src: MemorySource, host: str, slot: str, version: str, per_s: dict[str, int], seconds: int) -> None:
    """Counters as the router counts them, one sample a second from t=0."""
    labels = {"service": "hello", "host": host, "slot": slot, "version": version}
    for code, n in per_s.items():
        src.add("switchman_service_requests_total", {**labels, "code": code}, [(t * S, n * t) for t in range(seconds)])


def latencies(src: MemorySource, host: str, slot: str, version: str, per_s: dict[str, int], seconds: int) -> None:
    """A histogram taking ``per_s[le]`` new observations a second in bucket ``le`` (not cumulative)."""
    labels = {"service": "hello", "host": host, "slot": slot, "version": version}
    running = 0
    for le in ("0.025", "0.05", "0.075", "0.1", "+Inf"):
        running += per_s.get(le, 0)
        src.add(
            "switchman_service_request_duration_seconds_bucket",
            {**labels, "le": le},
            [(t * S, running * t) for t in range(seconds)],
        )


def baking(options: Options, hosts: int = 2) -> Rollout:
    m = rollout(options, up=("h1", "h2"), all_hosts=("h1", "h2"))
    weighed(m, m.tick(0), 0)
    m.tick(0)
    assert m.r.state is RolloutState.BAKING
    return m.r


def test_the_new_slots_error_share_fails_the_step_with_its_numbers() -> None:
    src = MemorySource()
    for h in ("h1", "h2"):
        requests(src, h, "green", "v2", {"200": 97, "500": 3}, 12)  # 3 % on the new slot
        requests(src, h, "blue", "v1", {"200": 300}, 12)
    r = baking(Options(steps=[25, 100], bake_ms=10 * S, max_parallel=2, max_error_rate=0.01))
    [pending] = canary.checks(r, Evaluator(src), 5 * S)
    assert pending.verdict == "pending" and abs(pending.value - 0.03) < 1e-9
    [v] = canary.checks(r, Evaluator(src), 10 * S)
    assert v.verdict == "fail" and abs(v.value - 0.03) < 1e-9 and v.threshold == 0.01
    assert v.requests > 1800 and v.baseline == 0.0
    assert v.detail.startswith("error rate 3.00% of ") and "(max 1.00%; old slot 0.00%)" in v.detail


def test_errors_before_the_new_slots_first_sample_count() -> None:
    """A new slot's series starts inside the window: what it counted before
    its first sample is part of the window (``increase`` would drop it)."""
    src = MemorySource()
    labels = {"service": "hello", "host": "h1", "slot": "green", "version": "v2"}
    src.add("switchman_service_requests_total", {**labels, "code": "200"}, [(3 * S, 97.0), (8 * S, 194.0)])
    src.add("switchman_service_requests_total", {**labels, "code": "500"}, [(3 * S, 3.0), (8 * S, 3.0)])
    r = baking(Options(steps=[25, 100], bake_ms=10 * S, max_parallel=2, max_error_rate=0.01))
    [v] = canary.checks(r, Evaluator(src), 10 * S)
    assert v.requests == 197 and abs(v.value - 3 / 197) < 1e-9 and v.verdict == "fail", v


def test_a_clean_new_slot_passes_and_too_few_requests_is_inconclusive() -> None:
    src = MemorySource()
    requests(src, "h1", "green", "v2", {"200": 50}, 12)
    requests(src, "h2", "green", "v2", {"200": 50}, 12)
    r = baking(Options(steps=[25, 100], bake_ms=10 * S, max_parallel=2, max_error_rate=0.01))
    assert [v.verdict for v in canary.checks(r, Evaluator(src), 10 * S)] == ["pass"]
    r.options.min_requests = 5000
    [few] = canary.checks(r, Evaluator(src), 10 * S)
    assert few.verdict == "inconclusive" and "fewer than 5000: inconclusive" in few.detail
    [nothing] = canary.checks(r, Evaluator(MemorySource()), 10 * S)
    assert nothing.verdict == "inconclusive" and "0 requests on the new slot" in nothing.detail


def test_a_slower_p99_on_the_new_slot_fails_against_the_old_slot_on_the_same_hosts() -> None:
    src = MemorySource()
    for h in ("h1", "h2"):
        requests(src, h, "green", "v2", {"200": 100}, 12)
        requests(src, h, "blue", "v1", {"200": 300}, 12)
        latencies(src, h, "blue", "v1", {"0.025": 150, "0.05": 150}, 12)  # p99 in (25, 50] ms
        latencies(src, h, "green", "v2", {"0.025": 40, "0.05": 50, "0.075": 10}, 12)  # p99 in (50, 75] ms
    o = Options(steps=[25, 100], bake_ms=10 * S, max_parallel=2, max_latency_regression=0.2)
    r = baking(o)
    [v] = canary.checks(r, Evaluator(src), 10 * S)
    assert v.verdict == "fail" and v.threshold == 0.2, v
    assert abs(v.baseline - 0.0495) < 1e-6 and abs(v.value - 0.07250) < 1e-6  # histogram_quantile's interpolation
    assert "on the old slot: +46% (max +20%)" in v.detail
    r.options.max_latency_regression = 0.5
    assert canary.checks(r, Evaluator(src), 10 * S)[0].verdict == "pass"


def test_at_100_latency_is_not_compared_and_does_not_stop_the_step() -> None:
    """The old slot takes no requests: another window's p99 is no baseline."""
    src = MemorySource()
    for h in ("h1", "h2"):
        requests(src, h, "green", "v2", {"200": 100}, 40)
        latencies(src, h, "green", "v2", {"0.025": 50, "0.05": 50}, 40)
    m = rollout(
        Options(steps=[50, 100], bake_ms=10 * S, max_parallel=2, max_latency_regression=0.2, min_healthy_ms=0),
        up=("h1", "h2"),
        all_hosts=("h1", "h2"),
    )
    weighed(m, m.tick(0), 0)
    m.tick(0)
    m.on_analysis([Verdict(canary.LATENCY, "x", "pass", 0.05, 10 * S, 0.2, 0.04, 500)], 10 * S)
    weighed(m, m.tick(10 * S), 11 * S)
    healthy(m, 12 * S)
    m.tick(12 * S)
    assert m.r.state is RolloutState.BAKING and m.r.step == 1
    [v] = canary.checks(m.r, Evaluator(src), 22 * S)
    assert v.verdict == "skipped" and abs(v.value - 0.0495) < 1e-6 and "not compared at 100%" in v.detail
    m.on_analysis([v], 22 * S)
    m.tick(22 * S)
    assert m.r.state is RolloutState.SUCCEEDED


# the executor, against the fake agents ---------------------------------------
def test_the_executor_takes_every_host_through_the_steps_and_an_unhealthy_candidate_is_zeroed(tmp_path: Path) -> None:
    agents = fleet("1")
    r = run(tmp_path, agents, rollout_to("2", options(steps=[10, 60], bake_ms=0, max_parallel=3)))
    assert r.state is RolloutState.SUCCEEDED, r.message
    assert r.options.steps == [10, 60, 100]  # 100 added
    weights = [[c.weight for c in agents.calls if c.host_id == h and c.op == "set_weight"] for h in HOSTS]
    assert weights == [[10, 60, 100]] * 3
    assert {s["hello"].active for s in agents.hosts.values()} == {"2"}
    assert [(s.weight, s.verdict) for s in r.step_results] == [(10, "pass"), (60, "pass"), (100, "pass")]

    agents.unhealthy.add("3")
    r = run(tmp_path / "again", agents, rollout_to("3", options(steps=[10], bake_ms=0, max_parallel=3)))
    assert r.state is RolloutState.ROLLED_BACK, r.message
    assert {s["hello"].active for s in agents.hosts.values()} == {"2"}
    assert all(s["hello"].weight == 0 for s in agents.hosts.values())  # the split is over everywhere


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"steps": [50, 25]}, "steps: 50,25: weights must rise, each from 1 to 100"),
        ({"steps": [0, 100]}, "weights must rise, each from 1 to 100"),
        ({"max_error_rate": 0.01}, "max_error_rate: the canary checks compare two slots: they need --steps"),
        ({"steps": [5], "max_error_rate": 0.01}, 'hello has protocol = "tcp": no request metrics'),
    ],
)
def test_steps_and_canary_checks_that_cannot_work_are_refused(
    tmp_path: Path, kw: dict[str, object], message: str
) -> None:
    async def body(m: RolloutManager) -> Rollout:
        with pytest.raises(InvalidArgument, match=re.escape(message)):
            await m.start("hello", "2", options(**kw), "test")
        return await m.start("hello", "2", options(), "test")

    run(tmp_path, fleet("1"), body)


def test_a_bake_the_controller_was_not_there_to_watch_starts_over_on_resume() -> None:
    m = rollout(Options(steps=[50, 100], bake_ms=4 * S, max_parallel=3, max_error_rate=0.01))
    weighed(m, m.tick(0), 0)
    m.tick(1 * S)
    assert m.r.state is RolloutState.BAKING and m.r.bake_until_ms == 5 * S
    resumed = Machine(Rollout.from_json(m.r.to_json()))  # killed, back 9 s later: the window ended meanwhile
    resumed.resumed(10 * S)
    assert resumed.r.bake_started_ms == 10 * S and resumed.r.bake_until_ms == 14 * S and resumed.r.analysis == []
    assert resumed.tick(11 * S) == [] and resumed.r.state is RolloutState.BAKING


def test_rolling_a_service_back_after_a_stepped_rollout_is_a_plain_switch(tmp_path: Path) -> None:
    agents = fleet("1")

    async def body(m: RolloutManager) -> Rollout:
        await rollout_to("2", options(steps=[50], bake_ms=0, max_parallel=3))(m)
        r = await m.rollback_service("hello", "test")
        async for seen in m.watch(r.id):
            r = seen
        return r

    r = run(tmp_path, agents, body)
    assert r.state is RolloutState.SUCCEEDED and r.version == "1" and r.options.steps == []
    assert [c.op for c in agents.calls if c.host_id == "h1" and c.op != "services"][-1] == "rollback"


def test_status_shows_each_hosts_weight_and_each_steps_verdict_with_its_numbers() -> None:
    m = rollout(Options(steps=[25, 100], bake_ms=10 * S, max_parallel=3, max_error_rate=0.01))
    weighed(m, m.tick(0), 0)
    m.tick(0)
    fail = Verdict("error rate", "x", "fail", 0.03, 10 * S, 0.01, 0.0, 412, "error rate 3.00% of 412 requests")
    m.on_analysis([fail], 10 * S)
    msg = rollout_message(m.r)
    table = "\n".join(cli_rollout.lines(msg))
    assert "step 1/2 (25%)" in table and "step 1 (25%), batch 1: fail" in table
    assert "error rate: fail (error rate 3.00% of 412 requests)" in table
    weighted = rollout_message(rollout(Options(steps=[25, 100], max_parallel=3)).r)
    weighted.hosts[0].state, weighted.hosts[0].weight = "weighted", 25
    assert "h1:weighted 25%" in "\n".join(cli_rollout.lines(weighted))
    doc = cli_rollout.doc(msg)
    assert doc["steps"] == [25, 100] and doc["step"] == {"index": 1, "weight": 25}
    assert [h["weight"] for h in doc["hosts"]] == [25, 25, 25]
    [step] = doc["step_verdicts"]
    assert (step["weight"], step["verdict"]) == (25, "fail")
    [check] = step["analysis"]
    assert (check["value"], check["threshold"], check["requests"]) == (0.03, 0.01, 412)
