"""The drill runner against the fake agent gateway: no agent process, the
faults are applied and cleared through the gateway, and a drill whose agent
cannot be reached fails without leaving a fault behind."""

from __future__ import annotations

import asyncio
from pathlib import Path

from switchman.controller.agents import AgentUnreachable
from switchman.controller.chaos.journal import Journal
from switchman.controller.chaos.spec import parse_drill
from switchman.controller.fleet import Host
from switchman.controller.wiring import build, settings

from tests.fakes import Call, FakeAgents, FakeService

DRILL = """title: latency on one web host
targets: {selector: {role: web}, mode: one}
steady_state:
  - name: always holds
    expr: vector(1) == 1
faults:
  - {kind: latency, duration: 1s, service: hello, params: {latency: 100ms}}
recovery_timeout: 10s
"""


def drill(tmp_path: Path, agents: FakeAgents) -> Journal:
    async def main() -> Journal:
        c = await build(settings(tmp_path), agents=agents)
        try:
            now = c.clock_ms()
            await c.fleet.register(Host("h1", "h1", "127.0.0.2:7100", {"role": "web"}, "t", [], now, now))
            j = await c.drills.start(parse_drill(DRILL), force=False, dry_run=False, actor="test")
            while not (j := await c.drills.get(j.id)).terminal:
                await asyncio.sleep(0.05)
            return j
        finally:
            await c.close()

    return asyncio.run(asyncio.wait_for(main(), 20))


def test_a_drill_applies_and_clears_its_fault_through_the_gateway(tmp_path: Path) -> None:
    agents = FakeAgents({"h1": {"hello": FakeService("1", "", "blue")}})
    j = drill(tmp_path, agents)
    assert j.state == "completed", j.reason
    ops = [c.op for c in agents.calls if c.op in ("inject_fault", "clear_fault")]
    assert ops == ["inject_fault", "clear_fault"] and agents.faults["h1"] == []
    assert [f.host_id for f in j.faults] == ["h1"] and j.faults[0].reverted_ms


def test_a_drill_whose_agent_cannot_be_reached_fails_and_leaves_nothing_applied(tmp_path: Path) -> None:
    def unreachable(call: Call) -> Exception | None:
        return AgentUnreachable(call.host_id, "agent unreachable (UNAVAILABLE)") if call.op == "inject_fault" else None

    agents = FakeAgents({"h1": {"hello": FakeService("1", "", "blue")}}, handler=unreachable)
    j = drill(tmp_path, agents)
    assert j.state in ("failed", "aborted"), j.state
    assert "unreachable" in j.reason or any("unreachable" in f.error for f in j.faults), j.reason
    assert agents.faults.get("h1", []) == []
