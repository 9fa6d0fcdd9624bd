"""A fake :class:`AgentGateway`: agents as plain data, for the rollout and
drill tests that need no real agent. Like httpx's mock transport, the
behaviour worth changing is a plain function: ``handler(call)`` may return
an exception for the call to raise, or ``None`` to let the fake do it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from switchman.controller.agents import AgentNotFound, SwitchOutcome
from switchman.proto.services import ServiceDef
from switchman.proto.v1 import common_pb2


@dataclass
class FakeService:
    active: str = ""  # version on the active slot ("" runs nothing)
    previous: str = ""
    slot: str = ""  # blue | green
    healthy: bool = True
    candidate: str = ""  # a weighted step's version on the idle slot
    weight: int = 0  # its share


@dataclass(frozen=True)
class Call:
    host_id: str
    op: str  # services switch rollback set_weight stop_service inject_fault list_faults halt_faults clear_fault
    service: str = ""
    version: str = ""
    weight: int = -1  # set_weight only


Handler = Callable[[Call], Exception | None]


@dataclass
class FakeAgents:
    """Every host it knows runs its services in memory; a switch to a
    version in ``unhealthy`` leaves the live slot failing its probe."""

    hosts: dict[str, dict[str, FakeService]] = field(default_factory=dict)
    handler: Handler = lambda call: None
    unhealthy: set[str] = field(default_factory=set)
    calls: list[Call] = field(default_factory=list)
    faults: dict[str, list[common_pb2.Fault]] = field(default_factory=dict)

    def _call(self, call: Call) -> dict[str, FakeService]:
        self.calls.append(call)
        exc = self.handler(call)
        if exc is not None:
            raise exc
        if call.host_id not in self.hosts:
            raise AgentNotFound(call.host_id, "no such agent")
        return self.hosts[call.host_id]

    def flips(self, host_id: str) -> list[str]:
        """The versions ``host_id`` was asked to go to, in order."""
        return [
            c.version for c in self.calls if c.host_id == host_id and c.op in ("switch", "rollback", "stop_service")
        ]

    @staticmethod
    def _status(name: str, s: FakeService) -> common_pb2.ServiceStatus:
        slots = {"blue": common_pb2.SLOT_BLUE, "green": common_pb2.SLOT_GREEN}
        active = slots.get(s.slot, common_pb2.SLOT_UNSPECIFIED)
        state = common_pb2.SLOT_STATE_HEALTHY if s.healthy else common_pb2.SLOT_STATE_UNHEALTHY
        status = common_pb2.ServiceStatus(
            name=name,
            active_slot=active,
            active_version=s.active,
            previous_version=s.previous,
            phase="weighted" if s.candidate else "idle",
            slots=[common_pb2.SlotStatus(slot=active, state=state, version=s.active)] if s.active else [],
        )
        if s.candidate:
            idle = slots["green" if s.slot == "blue" else "blue"]
            status.candidate_slot, status.candidate_version, status.candidate_weight = idle, s.candidate, s.weight
            status.slots.append(common_pb2.SlotStatus(slot=idle, state=state, version=s.candidate))
        return status

    async def services(self, host_id: str, timeout: float = 10.0) -> list[common_pb2.ServiceStatus]:
        running = self._call(Call(host_id, "services"))
        return [self._status(n, s) for n, s in running.items() if s.active]

    async def switch(
        self, host_id: str, spec: ServiceDef, version: str, healthy_deadline_ms: int, timeout: float
    ) -> SwitchOutcome:
        s = self._call(Call(host_id, "switch", spec.name, version)).setdefault(spec.name, FakeService())
        if s.active == version:
            return SwitchOutcome(f"{version} is already active", False, self._status(spec.name, s))
        s.previous, s.active = s.active, version
        s.slot = "green" if s.slot == "blue" else "blue"
        s.healthy = version not in self.unhealthy
        return SwitchOutcome(f"{version} live on {s.slot}", True, self._status(spec.name, s))

    async def set_weight(
        self, host_id: str, spec: ServiceDef, version: str, weight: int, healthy_deadline_ms: int, timeout: float
    ) -> SwitchOutcome:
        """Splits in memory: a candidate in ``unhealthy`` is unhealthy; 100 is :meth:`switch`."""
        s = self._call(Call(host_id, "set_weight", spec.name, version, weight)).setdefault(spec.name, FakeService())
        if weight == 100:
            s.candidate, s.weight = "", 0
            return await self.switch(host_id, spec, version, healthy_deadline_ms, timeout)
        changed = (s.candidate, s.weight) != ((version, weight) if weight else ("", 0))
        s.candidate, s.weight = (version, weight) if weight else ("", 0)
        s.healthy = s.candidate not in self.unhealthy
        return SwitchOutcome(f"{version} takes {weight}%", changed, self._status(spec.name, s))

    async def rollback(self, host_id: str, service: str, timeout: float) -> SwitchOutcome:
        s = self._call(Call(host_id, "rollback", service)).setdefault(service, FakeService())
        if s.candidate:
            s.candidate, s.weight, s.healthy = "", 0, True
            return SwitchOutcome("weight back to 0", True, self._status(service, s))
        s.previous, s.active = s.active, s.previous
        s.slot = "green" if s.slot == "blue" else "blue"
        s.healthy = s.active not in self.unhealthy
        self.calls[-1] = Call(host_id, "rollback", service, s.active)
        return SwitchOutcome(f"rolled back to {s.active}", True, self._status(service, s))

    async def stop_service(self, host_id: str, service: str, timeout: float) -> SwitchOutcome:
        running = self._call(Call(host_id, "stop_service", service))
        running.pop(service, None)
        return SwitchOutcome("stopped", True, common_pb2.ServiceStatus())

    async def inject_fault(self, host_id: str, spec: common_pb2.FaultSpec, timeout: float = 10.0) -> common_pb2.Fault:
        self._call(Call(host_id, "inject_fault", spec.service))
        fault = common_pb2.Fault(id=f"f{len(self.calls)}", spec=spec, host_id=host_id)
        self.faults.setdefault(host_id, []).append(fault)
        return fault

    async def list_faults(self, host_id: str, include_reverted: bool, timeout: float = 10.0) -> list[common_pb2.Fault]:
        self._call(Call(host_id, "list_faults"))
        return list(self.faults.get(host_id, []))

    async def halt_faults(self, host_id: str, timeout: float = 10.0) -> list[common_pb2.Fault]:
        self._call(Call(host_id, "halt_faults"))
        return self.faults.pop(host_id, [])

    async def clear_fault(self, host_id: str, fault_id: str, timeout: float = 10.0) -> common_pb2.Fault:
        self._call(Call(host_id, "clear_fault"))
        kept = self.faults.get(host_id, [])
        for f in kept:
            if f.id == fault_id:
                kept.remove(f)
                return f
        raise AgentNotFound(host_id, f"no fault {fault_id}")
