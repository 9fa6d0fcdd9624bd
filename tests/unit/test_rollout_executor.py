"""The rollout executor against the fake agent gateway: no agent process,
a real SQLite store, a fast pace. Each test runs in a fraction of a second."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from switchman.controller.agents import AgentBusy, AgentInvalid, AgentUnreachable
from switchman.controller.errors import InvalidArgument
from switchman.controller.fleet import Host
from switchman.controller.rollouts.executor import Pace, RolloutManager
from switchman.controller.rollouts.model import HostState, Options, Rollout, RolloutState
from switchman.controller.wiring import build, settings

from tests.fakes import Call, FakeAgents, FakeService

HOSTS = ("h1", "h2", "h3")
SPEC = """name = "hello"
command = ["/bin/true"]
front_port = 18080
back_ports = { blue = 18081, green = 18082 }
selector = { role = "web" }
drain_timeout = "10ms"
"""
FAST = Pace(tick_s=0.005, health_every_ms=5, analysis_every_ms=5, retry_s=0.005, converge_slack_s=0.1)


def fleet(version: str = "1") -> FakeAgents:
    return FakeAgents({h: {"hello": FakeService(version, "", "blue")} if version else {} for h in HOSTS})


def run(tmp_path: Path, agents: FakeAgents, body: Callable[[RolloutManager], Awaitable[Rollout]]) -> Rollout:
    async def main() -> Rollout:
        c = await build(settings(tmp_path), agents=agents, pace=FAST)
        now = c.clock_ms()
        for i, h in enumerate(HOSTS):
            await c.fleet.register(Host(h, h, f"127.0.0.{i + 2}:7100", {"role": "web"}, "t", [], now, now))
        await c.services.apply(SPEC, "hello.toml", "test")
        try:
            return await asyncio.wait_for(body(c.rollouts), 5)
        finally:
            await c.close()

    return asyncio.run(main())


def options(**kw: object) -> Options:
    base: dict[str, object] = {"min_healthy_ms": 20, "healthy_deadline_ms": 2000, "progress_deadline_ms": 4000}
    return Options(**{**base, **kw})


def rollout_to(version: str, opts: Options) -> Callable[[RolloutManager], Awaitable[Rollout]]:
    async def body(m: RolloutManager) -> Rollout:
        r = await m.start("hello", version, opts, "test")
        async for seen in m.watch(r.id):
            r = seen
        return r

    return body


def test_blue_green_switches_every_host_once_and_records_what_each_served(tmp_path: Path) -> None:
    agents = fleet("1")
    r = run(tmp_path, agents, rollout_to("2", options()))
    assert r.state is RolloutState.SUCCEEDED, r.message
    assert [agents.flips(h) for h in HOSTS] == [["2"], ["2"], ["2"]]
    assert all(h.from_version == "1" and h.from_recorded for h in r.hosts)
    assert {s["hello"].active for s in agents.hosts.values()} == {"2"}


def test_an_unhealthy_version_rolls_back_every_switched_host_in_reverse_order(tmp_path: Path) -> None:
    agents = fleet("1")
    agents.unhealthy.add("2")
    r = run(tmp_path, agents, rollout_to("2", options(max_parallel=2)))
    assert r.state is RolloutState.ROLLED_BACK, r.message
    assert {s["hello"].active for s in agents.hosts.values()} == {"1"}
    assert agents.flips("h3") == []
    assert [h.state for h in r.hosts] == [HostState.ROLLED_BACK, HostState.ROLLED_BACK, HostState.PENDING]


def test_a_host_that_cannot_be_rolled_back_makes_the_rollout_failed(tmp_path: Path) -> None:
    agents = fleet("1")
    agents.unhealthy.add("2")

    def gone_after_switching(call: Call) -> Exception | None:
        if call.host_id == "h1" and call.op in ("services", "rollback") and agents.flips("h1"):
            return AgentUnreachable("h1", "agent unreachable (UNAVAILABLE)")
        return None

    agents.handler = gone_after_switching
    r = run(tmp_path, agents, rollout_to("2", options(healthy_deadline_ms=300, progress_deadline_ms=600)))
    assert r.state is RolloutState.FAILED, r.message
    assert "could not roll back h1" in r.message
    assert r.host("h1").state is HostState.ROLLBACK_FAILED


def test_a_first_deploy_that_fails_on_one_host_is_undone_on_the_others(tmp_path: Path) -> None:
    agents = fleet("")

    def port_clash(call: Call) -> Exception | None:
        if call.host_id == "h2" and call.op == "switch":
            return AgentInvalid("h2", "service hello: blue port 127.0.0.3:18081 is in use")
        return None

    agents.handler = port_clash
    r = run(tmp_path, agents, rollout_to("1", options()))
    assert r.state is RolloutState.ROLLED_BACK, r.message
    assert "is in use" in r.message, "the agent's reason reaches the operator"
    assert agents.hosts["h1"] == {} and [c.op for c in agents.calls if c.host_id == "h1"][-1] == "stop_service"


def test_a_busy_agent_is_asked_again_until_it_is_free(tmp_path: Path) -> None:
    agents = fleet("1")
    busy = {"left": 3}

    def busy_at_first(call: Call) -> Exception | None:
        if call.host_id == "h1" and call.op == "switch" and busy["left"]:
            busy["left"] -= 1
            return AgentBusy("h1", "service hello: a switch is already running")
        return None

    agents.handler = busy_at_first
    r = run(tmp_path, agents, rollout_to("2", options()))
    assert r.state is RolloutState.SUCCEEDED, r.message
    assert busy["left"] == 0 and agents.hosts["h1"]["hello"].active == "2"


def test_an_unknown_command_is_refused_not_taken_as_an_abort(tmp_path: Path) -> None:
    agents = fleet("1")

    async def body(m: RolloutManager) -> Rollout:
        slow = options(min_healthy_ms=60_000, healthy_deadline_ms=120_000, progress_deadline_ms=240_000)
        r = await m.start("hello", "2", slow, "test")
        with pytest.raises(InvalidArgument, match="'promot' is not one of promote, pause, resume, abort"):
            await m.command(r.id, "promot")
        assert not (await m.get(r.id)).terminal
        return await m.command(r.id, "abort", "done")

    assert run(tmp_path, agents, body).message.startswith("aborted: done")
