"""The rollout state machine alone: batches, min-healthy, bake and analysis,
manual promotion, deadlines, reverse-order rollback, commands, and the
document surviving a JSON round trip (what a crash leaves behind)."""

from __future__ import annotations

import pytest
from switchman.controller.fleet import Host
from switchman.controller.rollouts.machine import Converge, Machine, TransitionError
from switchman.controller.rollouts.model import HostState, Options, Pause, Rollout, RolloutState, Verdict
from switchman.controller.rollouts.planner import plan

S = 1000


def hosts(*ids: str) -> list[Host]:
    return [Host(h, h, f"127.0.0.{i + 2}:1", {"role": "web"}, "1", [], 0, 0) for i, h in enumerate(ids)]


def rollout(
    options: Options, up: tuple[str, ...] = ("h1", "h2", "h3"), all_hosts: tuple[str, ...] = ("h1", "h2", "h3")
) -> Machine:
    steps, batches = plan(hosts(*all_hosts), set(up), options)
    return Machine(Rollout(1, "hello", "v2", 1, options, steps, batches, 0, last_progress_ms=0))


def switch_ok(m: Machine, actions: list[Converge], now: int) -> None:
    for a in actions:
        m.on_converged(a.host_id, True, "live", "v1", "green", now)


def healthy(m: Machine, now: int) -> None:
    for h in m.verifying():
        m.on_health(h.host_id, True, "", now)


def test_blue_green_switches_one_host_at_a_time_after_min_healthy() -> None:
    m = rollout(Options(min_healthy_ms=5 * S))
    assert m.r.batches == 3
    first = m.tick(0)
    assert first == [Converge("h1", "v2")]
    assert m.tick(1 * S) == []  # h1 still switching
    switch_ok(m, first, 2 * S)
    healthy(m, 4 * S)
    assert m.r.host("h1").state is HostState.VERIFYING  # only 2 s healthy
    healthy(m, 7 * S)
    assert m.r.host("h1").state is HostState.HEALTHY
    second = m.tick(7 * S)
    assert second == [Converge("h2", "v2")] and m.r.current_batch == 1
    switch_ok(m, second, 8 * S)
    healthy(m, 14 * S)
    third = m.tick(14 * S)
    assert third == [Converge("h3", "v2")]
    switch_ok(m, third, 15 * S)
    assert m.r.host("h3").state is HostState.VERIFYING
    healthy(m, 30 * S)
    m.tick(30 * S)
    assert m.r.state is RolloutState.SUCCEEDED and m.r.finished_ms == 30 * S
    assert [h.order for h in m.r.hosts] == [1, 2, 3] and all(h.from_version == "v1" for h in m.r.hosts)


def test_canary_bakes_and_a_failed_analysis_rolls_back_in_reverse_order() -> None:
    m = rollout(Options(strategy="canary", canary=1, max_parallel=2, bake_ms=10 * S, min_healthy_ms=0))
    assert [h.batch for h in m.r.hosts] == [0, 1, 1] and m.r.batches == 2
    switch_ok(m, m.tick(0), 1 * S)
    healthy(m, 1 * S)
    assert m.tick(1 * S) == [] and m.r.state is RolloutState.BAKING
    m.on_analysis([Verdict("probe", "x", "pass", 0, 3 * S)], 3 * S)
    assert m.tick(11 * S) == [Converge("h2", "v2"), Converge("h3", "v2")]
    switch_ok(m, [Converge("h2", "v2"), Converge("h3", "v2")], 12 * S)
    healthy(m, 12 * S)
    m.tick(12 * S)
    assert m.r.state is RolloutState.BAKING
    m.on_analysis([Verdict("errors", "rate(e[1m]) > 1", "fail", 4.0, 14 * S)], 14 * S)
    assert m.r.state is RolloutState.ROLLING_BACK and "analysis failed: errors = 4" in m.r.message
    back = []
    for now in range(15, 30):
        actions = m.tick(now * S)
        assert len(actions) <= 1, "one host at a time"
        for a in actions:
            assert a.version == "v1"
            back.append(a.host_id)
            m.on_converged(a.host_id, True, "rolled back", "", "blue", now * S)
    assert back == ["h3", "h2", "h1"]  # reverse order of switching
    assert m.r.state is RolloutState.ROLLED_BACK
    assert {h.state for h in m.r.hosts} == {HostState.ROLLED_BACK}


def test_manual_canary_waits_for_promote_and_inconclusive_analysis_pauses() -> None:
    m = rollout(Options(strategy="canary", canary=1, bake_ms=2 * S, min_healthy_ms=0, manual=True))
    switch_ok(m, m.tick(0), 0)
    healthy(m, 0)
    m.tick(0)
    m.on_analysis([Verdict("probe", "x", "inconclusive", 0, 1 * S)], 1 * S)
    m.tick(3 * S)
    assert m.r.state is RolloutState.PAUSED and m.r.pause is Pause.INCONCLUSIVE
    assert m.tick(1000 * S) == [], "paused: no progress deadline, no new hosts"
    m.promote(1001 * S)  # a human looked: continue
    assert m.r.state is RolloutState.PAUSED and m.r.pause is Pause.PROMOTE  # the canary gate still applies
    with pytest.raises(TransitionError):
        m.resume(1002 * S)
    m.promote(1002 * S)
    assert m.tick(1002 * S) == [Converge("h2", "v2")]


def test_healthy_deadline_an_unhealthy_host_and_a_flapping_host_fail_the_rollout() -> None:
    m = rollout(Options(healthy_deadline_ms=10 * S, min_healthy_ms=1 * S, auto_rollback=False))
    m.tick(0)
    m.tick(11 * S)  # the agent never answered (gone)
    assert m.r.state is RolloutState.FAILED and m.r.host("h1").state is HostState.FAILED
    assert "healthy deadline" in m.r.message

    m = rollout(Options(min_healthy_ms=5 * S))
    switch_ok(m, m.tick(0), 1 * S)
    m.on_health("h1", False, "probe failing", 2 * S)
    assert m.r.state is RolloutState.RUNNING, "one bad check is not enough"
    m.on_health("h1", False, "probe failing", 3 * S)
    assert m.r.state is RolloutState.ROLLING_BACK and "probe failing" in m.r.message
    assert m.tick(4 * S) == [Converge("h1", "v1")]

    m = rollout(Options(healthy_deadline_ms=15 * S, min_healthy_ms=4 * S))
    switch_ok(m, m.tick(0), 1 * S)
    for now in range(2, 20):  # healthy, but one bad check every 3 s: never 4 s in a row
        m.on_health("h1", now % 3 != 0, "flap", now * S)
        m.tick(now * S)
    assert m.r.state is RolloutState.ROLLING_BACK and "h1 missed its healthy deadline" in m.r.message


def test_down_hosts_are_skipped_and_a_first_deploy_rolls_back_to_nothing() -> None:
    m = rollout(Options(min_healthy_ms=0), up=("h1", "h3"))
    assert m.r.host("h2").state is HostState.SKIPPED and m.r.batches == 2
    first = m.tick(0)
    m.record_from("h1", "")  # the agent said: h1 ran no version of the service
    m.on_converged("h1", True, "live", "", "blue", 1 * S)
    m.abort("operator said so", 2 * S)
    assert m.r.state is RolloutState.ROLLING_BACK
    assert first == [Converge("h1", "v2")]
    assert m.tick(3 * S) == [Converge("h1", "")], "undoing a first deploy stops the service"
    assert "stopping the service" in m.r.host("h1").message
    m.on_converged("h1", True, "stopped", "", "", 4 * S)
    m.tick(4 * S)
    assert m.r.state is RolloutState.ABORTED and m.r.host("h1").state is HostState.ROLLED_BACK
    with pytest.raises(TransitionError, match="nothing to abort"):
        m.abort("", 5 * S)


def test_a_host_that_could_not_be_rolled_back_fails_the_rollout_and_is_named() -> None:
    m = rollout(Options(min_healthy_ms=0, max_parallel=3))
    switch_ok(m, m.tick(0), 1 * S)
    m.on_health("h2", False, "probe failed", 2 * S)
    m.on_health("h2", False, "probe failed", 3 * S)
    assert m.r.state is RolloutState.ROLLING_BACK
    undone = []
    for now in range(4, 12):
        for c in m.tick(now * S):
            undone.append(c.host_id)
            m.on_converged(
                c.host_id, c.host_id != "h2", "UNAVAILABLE: agent gone" if c.host_id == "h2" else "ok", "", "", now * S
            )
    assert undone == ["h3", "h2", "h1"]
    assert m.r.state is RolloutState.FAILED, "rolled_back would claim every host is back on v1"
    assert "could not roll back h2: UNAVAILABLE: agent gone" in m.r.message
    assert [h.state for h in m.r.hosts] == [HostState.ROLLED_BACK, HostState.ROLLBACK_FAILED, HostState.ROLLED_BACK]


def test_a_host_that_missed_its_deadline_before_anything_was_sent_is_neither_rolled_back_nor_switched() -> None:
    m = rollout(Options(min_healthy_ms=0, max_parallel=2, healthy_deadline_ms=5 * S))
    m.tick(0)
    m.record_from("h1", "v1")
    m.on_converged("h1", True, "live", "v1", "green", 1 * S)
    m.on_health("h1", True, "", 2 * S)
    # h2's agent hangs: its status call never answers, so nothing was recorded or sent
    assert m.tick(6 * S) == [Converge("h1", "v1")], "only h1 was switched: only h1 is rolled back"
    assert m.r.host("h2").state is HostState.FAILED and m.r.state is RolloutState.ROLLING_BACK
    assert m.record_from("h2", "v1") is False, "a late answer from h2 must not start its switch now"
    assert m.record_from("h1", "v2") is True
    m.on_converged("h1", True, "rolled back", "", "blue", 8 * S)
    m.tick(8 * S)
    assert m.r.state is RolloutState.ROLLED_BACK
    assert [h.state for h in m.r.hosts][:2] == [HostState.ROLLED_BACK, HostState.FAILED]
    assert "h2 missed its healthy deadline" in m.r.message


def test_the_previous_version_is_recorded_once_before_the_switch() -> None:
    m = rollout(Options(min_healthy_ms=0))
    m.tick(0)
    m.record_from("h1", "v1")
    after_crash = Machine(Rollout.from_json(m.r.to_json()))
    after_crash.record_from("h1", "v2")  # the resumed converge finds v2 already live: v1 stays recorded
    assert after_crash.r.host("h1").from_version == "v1"
    after_crash.on_converged("h1", True, "v2 already live", "v2", "green", 1 * S)
    assert after_crash.r.host("h1").from_version == "v1"


def test_pause_resume_and_crash_recovery_reissue_only_in_flight_steps() -> None:
    m = rollout(Options(min_healthy_ms=0, max_parallel=2))
    issued = m.tick(0)
    assert issued == [Converge("h1", "v2"), Converge("h2", "v2")]
    m.on_converged("h1", True, "live", "v1", "green", 1 * S)
    # the controller dies here: only the document survives
    again = Machine(Rollout.from_json(m.r.to_json()))
    assert again.in_flight() == [Converge("h2", "v2")], "h1 is done; only h2 is converged again"
    again.pause(2 * S)
    assert again.r.state is RolloutState.PAUSED and again.tick(3 * S) == []
    with pytest.raises(TransitionError):
        again.promote(3 * S)
    again.resume(4 * S)
    assert again.r.state is RolloutState.RUNNING


def test_planner_refuses_what_cannot_work() -> None:
    with pytest.raises(Exception, match="no registered host matches"):
        plan(hosts("h1"), {"h1"}, Options(selector={"role": "db"}))
    with pytest.raises(Exception, match="canary: 3 host"):
        plan(hosts("h1", "h2", "h3"), {"h1", "h2", "h3"}, Options(canary=3))


def test_a_host_the_agent_never_switched_is_not_rolled_back() -> None:
    m = rollout(Options(min_healthy_ms=0, max_parallel=1))
    switch_ok(m, m.tick(0), 1 * S)
    healthy(m, 1 * S)
    assert m.tick(1 * S) == [Converge("h2", "v2")]
    m.on_converged("h2", False, "DEADLINE_EXCEEDED: agent did not answer", "", "", 6 * S, touched=False)
    assert m.tick(7 * S) == [Converge("h1", "v1")], "only h1 changed: only h1 is rolled back"
    m.on_converged("h1", True, "rolled back", "", "blue", 8 * S)
    m.tick(8 * S)
    assert m.r.state is RolloutState.ROLLED_BACK
    assert [h.state for h in m.r.hosts] == [HostState.ROLLED_BACK, HostState.FAILED, HostState.PENDING]
