"""Ad hoc faults: forwarded to the host's agent, which owns applying,
timing and reverting them (SPEC 3.5). The controller checks what only it
knows (the host, a rollout on the service) and fans list/halt out to every
agent."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from switchman.controller.agents import AgentError, AgentGateway
from switchman.controller.errors import Conflict, InvalidArgument, NotFound
from switchman.controller.fleet import Fleet
from switchman.controller.rollouts.model import Rollout
from switchman.controller.store.abc import Event, Store
from switchman.proto.v1 import common_pb2

log = logging.getLogger(__name__)

AGENT_TIMEOUT_S = 10.0


class FaultOps:
    def __init__(
        self,
        store: Store,
        clock_ms: Callable[[], int],
        fleet: Fleet,
        agents: AgentGateway,
        rollout_of: Callable[[str], Rollout | None],
    ) -> None:
        """``rollout_of(service)``: the rollout in progress on the service, if any."""
        self._store = store
        self._clock_ms = clock_ms
        self._fleet = fleet
        self._rollout_of = rollout_of
        self._agents = agents
        self._injected: dict[str, common_pb2.Fault] = {}  # for the status screen: what this controller applied

    def active(self) -> list[common_pb2.Fault]:
        now = self._clock_ms()
        for fid in [fid for fid, f in self._injected.items() if f.expires_at_ms <= now]:
            del self._injected[fid]
        return sorted(self._injected.values(), key=lambda f: f.expires_at_ms)

    def _up(self, host_id: str = "") -> list[str]:
        fleet = self._fleet
        if host_id:
            host = fleet.get(host_id)  # NotFound for an unknown host
            if not fleet.is_up(host):
                raise Conflict(f"host {host_id} is down")
            return [host_id]
        return sorted(h.host_id for h in fleet.hosts.values() if fleet.is_up(h))

    async def inject(self, host_id: str, spec: common_pb2.FaultSpec, force: bool) -> common_pb2.Fault:
        self._up(host_id)
        running = self._rollout_of(spec.service) if spec.service else None
        if running is not None and not force:
            raise Conflict(f"rollout {running.id} of {spec.service} is in progress; wait for it or use --force")
        fault = await self._agents.inject_fault(host_id, spec, AGENT_TIMEOUT_S)
        self._injected[fault.id] = fault
        await self._event(
            host_id, spec.service, "chaos.fault", f"{spec.kind} injected for {spec.duration_ms // 1000}s", fault.id
        )
        return fault

    async def find(self, host_id: str, include_reverted: bool) -> list[common_pb2.Fault]:
        hosts = self._up(host_id)

        async def one(h: str) -> list[common_pb2.Fault]:
            try:
                return await self._agents.list_faults(h, include_reverted, AGENT_TIMEOUT_S)
            except AgentError as exc:
                if host_id:
                    raise
                log.warning("listing faults: %s", exc)
                return []

        return [f for batch in await asyncio.gather(*(one(h) for h in hosts)) for f in batch]

    async def halt(self, host_id: str, everywhere: bool) -> list[common_pb2.Fault]:
        if not host_id and not everywhere:
            raise InvalidArgument("halt: name a host or ask for all of them (--all)")
        hosts = self._up(host_id) if host_id else self._up()

        async def one(h: str) -> list[common_pb2.Fault]:
            try:
                return await self._agents.halt_faults(h, AGENT_TIMEOUT_S)
            except AgentError as exc:
                log.error("halting faults failed: %s (its own timers still revert them)", exc)
                return []

        halted = [f for batch in await asyncio.gather(*(one(h) for h in hosts)) for f in batch]
        for f in halted:
            self._injected.pop(f.id, None)
            await self._event(f.host_id, f.spec.service, "chaos.halt", f"{f.spec.kind} halted", f.id)
        return halted

    async def clear(self, host_id: str, fault_id: str) -> common_pb2.Fault | None:
        """Revert one fault now; None when the agent cannot be reached (its own timer still reverts it)."""
        try:
            fault = await self._agents.clear_fault(host_id, fault_id, AGENT_TIMEOUT_S)
        except (AgentError, NotFound) as exc:
            log.error("clearing fault %s on %s failed: %s (its own timer still reverts it)", fault_id, host_id, exc)
            return None
        self._injected.pop(fault_id, None)
        return fault

    async def _event(self, host_id: str, service: str, kind: str, message: str, fault_id: str) -> None:
        event = Event(host_id, self._clock_ms(), kind, 2, service, message, {"fault": fault_id})
        await self._store.write(lambda tx: self._store.events.add(tx, event))
