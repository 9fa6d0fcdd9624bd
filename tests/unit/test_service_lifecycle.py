"""Stop and remove against the fake agent gateway and a real store: what is
refused, what is kept, and which hosts are left to reap the service."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from switchman.controller import lifecycle
from switchman.controller.agents import AgentBusy, AgentUnreachable
from switchman.controller.errors import Conflict
from switchman.controller.fleet import Host
from switchman.controller.lifecycle import StopOutcome
from switchman.controller.wiring import Controller, build, settings

from tests.fakes import Call, FakeAgents, FakeService

HOSTS = ("h1", "h2")
SPEC = """name = "hello"
command = ["/bin/true"]
front_port = 18080
back_ports = { blue = 18081, green = 18082 }
selector = { role = "web" }
"""


def run(tmp_path: Path, agents: FakeAgents, body: Callable[[Controller], Awaitable[None]]) -> None:
    async def main() -> None:
        c = await build(settings(tmp_path), agents=agents)
        now = c.clock_ms()
        for i, h in enumerate(HOSTS):
            await c.fleet.register(Host(h, h, f"127.0.0.{i + 2}:7100", {"role": "web"}, "t", [], now, now))
        await c.services.apply(SPEC, "hello.toml", "test")
        try:
            await asyncio.wait_for(body(c), 5)
        finally:
            await c.close()

    asyncio.run(main())


def running() -> FakeAgents:
    return FakeAgents({h: {"hello": FakeService("1", "", "blue")} for h in HOSTS})


def remove(c: Controller, busy: str = "") -> Awaitable[list[lifecycle.HostStop]]:
    return lifecycle.remove_service(c.services, c.fleet, c.agents, lambda name: busy, "hello")


def test_remove_is_refused_while_a_drill_runs_and_stops_nothing(tmp_path: Path) -> None:
    agents = running()

    async def body(c: Controller) -> None:
        with pytest.raises(Conflict, match="drill 3 is in progress"):
            await remove(c, busy="drill 3")
        assert await c.services.names() == {"hello"}

    run(tmp_path, agents, body)
    assert [c for c in agents.calls if c.op == "stop_service"] == []


def test_remove_keeps_the_spec_when_an_agent_that_answers_cannot_stop_it(tmp_path: Path) -> None:
    def handler(call: Call) -> Exception | None:
        return AgentBusy(call.host_id, "a switch is already running") if call.host_id == "h2" else None

    agents = running()
    agents.handler = handler

    async def body(c: Controller) -> None:
        with pytest.raises(Conflict, match="h2: a switch is already running"):
            await remove(c)
        assert (await c.services.current("hello")).spec.name == "hello"

    run(tmp_path, agents, body)


def test_remove_leaves_an_unreachable_agent_to_reap_the_service(tmp_path: Path) -> None:
    def handler(call: Call) -> Exception | None:
        return AgentUnreachable(call.host_id, "agent unreachable (UNAVAILABLE)") if call.host_id == "h2" else None

    agents = running()
    agents.handler = handler

    async def body(c: Controller) -> None:
        results = await remove(c)
        assert [(r.host_id, r.outcome) for r in results] == [
            ("h1", StopOutcome.STOPPED),
            ("h2", StopOutcome.UNREACHABLE),
        ]
        assert "registers again" in results[1].message
        assert await c.services.names() == frozenset()

    run(tmp_path, agents, body)
    assert agents.hosts["h1"] == {}


def test_stop_on_one_host_leaves_the_others_and_the_spec(tmp_path: Path) -> None:
    agents = running()

    async def body(c: Controller) -> None:
        spec = (await c.services.current("hello")).spec
        results = await lifecycle.stop_on_hosts(c.fleet, c.agents, spec, ["h1"])
        assert [(r.host_id, r.outcome) for r in results] == [("h1", StopOutcome.STOPPED)]
        assert await c.services.names() == {"hello"}

    run(tmp_path, agents, body)
    assert agents.hosts["h1"] == {} and "hello" in agents.hosts["h2"]
