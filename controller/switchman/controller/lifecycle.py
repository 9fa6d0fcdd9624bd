"""Stopping and removing a service (`switchman service stop|remove`).

Stop drains and stops both slots on the chosen hosts through the agents'
``StopService``; the spec stays, and a later rollout or ``service switch``
starts the service again. Remove stops it on every host that is up, then
deletes every revision of the spec (the audit log keeps who removed it and
when); an agent that was down or did not answer learns at its next
registration that the service is gone and reaps its slots itself.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from switchman.controller.agents import AgentError, AgentGateway, AgentUnreachable
from switchman.controller.errors import Conflict
from switchman.controller.fleet import Fleet
from switchman.controller.rollouts.planner import matches
from switchman.controller.services import ServiceRegistry
from switchman.proto.services import ServiceDef

PARALLEL_STOPS = 16


class StopOutcome(enum.StrEnum):
    STOPPED = "stopped"
    NOT_RUNNING = "not_running"
    DOWN = "down"
    UNREACHABLE = "unreachable"
    FAILED = "failed"


@dataclass(frozen=True)
class HostStop:
    """What a stop did on one host."""

    host_id: str
    outcome: StopOutcome
    message: str


def stop_timeout_s(spec: ServiceDef) -> float:
    """Both slots drain one after the other, then the agent answers."""
    return 2 * spec.drain_timeout_ms / 1000 + 30


async def stop_on_hosts(
    fleet: Fleet, agents: AgentGateway, spec: ServiceDef, host_ids: Sequence[str]
) -> list[HostStop]:
    """Stop ``spec`` on ``host_ids``, a few at a time. Without ``host_ids``: on
    every host that is up (the agent's stop is a no-op where the service does
    not run; those hosts are left out of the answer), and a host that is down
    is reported only when the spec's selector matches it.

    :raises NotFound: a named host is not registered."""
    if host_ids:
        hosts = [fleet.get(h) for h in host_ids]
    else:
        everyone = sorted(fleet.hosts.values(), key=lambda h: h.host_id)
        hosts = [h for h in everyone if fleet.is_up(h) or matches(h, spec.selector)]
    limit = asyncio.Semaphore(PARALLEL_STOPS)
    timeout = stop_timeout_s(spec)

    async def one(host_id: str) -> HostStop:
        if not fleet.is_up(fleet.get(host_id)):
            return HostStop(host_id, StopOutcome.DOWN, "host is down: not stopped there")
        async with limit:
            try:
                out = await agents.stop_service(host_id, spec.name, timeout)
            except AgentUnreachable as exc:
                return HostStop(host_id, StopOutcome.UNREACHABLE, exc.reason)
            except AgentError as exc:
                return HostStop(host_id, StopOutcome.FAILED, exc.reason)
        if not out.changed:
            return HostStop(host_id, StopOutcome.NOT_RUNNING, out.message)
        return HostStop(host_id, StopOutcome.STOPPED, out.message)

    results = await asyncio.gather(*(one(h.host_id) for h in hosts))
    if host_ids:
        return list(results)
    return [r for r in results if r.outcome is not StopOutcome.NOT_RUNNING]


async def remove_service(
    registry: ServiceRegistry,
    fleet: Fleet,
    agents: AgentGateway,
    busy: Callable[[str], str],
    name: str,
) -> list[HostStop]:
    """Stop ``name`` everywhere and delete its spec.

    ``busy(name)`` names the rollout or drill that runs on the service ("" when none).

    :raises NotFound: no such service.
    :raises Conflict: a rollout or drill of it runs, or an agent that is up could not stop it (the spec stays)."""
    spec = (await registry.current(name)).spec
    running = busy(name)
    if running:
        raise Conflict(f"service {name}: {running} is in progress; wait for it or abort it, then remove the service")
    results = await stop_on_hosts(fleet, agents, spec, [])
    failed = [r for r in results if r.outcome is StopOutcome.FAILED]
    if failed:
        detail = "; ".join(f"{r.host_id}: {r.message}" for r in failed)
        raise Conflict(f"service {name}: not removed, it could not be stopped on every host ({detail}); try again")
    await registry.remove(name)
    later = (StopOutcome.DOWN, StopOutcome.UNREACHABLE)
    return [
        HostStop(r.host_id, r.outcome, f"{r.message}: its agent stops the service when it registers again")
        if r.outcome in later
        else r
        for r in results
    ]
