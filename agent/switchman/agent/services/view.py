"""What each slot of each service is doing now, read once for every consumer:
the Agent servicer's ListServices (and the status a switch returns) and the
``switchman_service_slot_*`` collector."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from enum import StrEnum

from switchman.agent.probes.state import ProbeState, Status
from switchman.agent.services.drivers.base import SlotProcess
from switchman.agent.services.errors import UnknownService
from switchman.agent.services.manager import SLOTS, ServiceManager
from switchman.agent.services.state import ServiceRecord


class SlotState(StrEnum):
    STOPPED = "stopped"
    STARTING = "starting"
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"
    FAILED = "failed"


def slot_state(proc: SlotProcess, probe: ProbeState | None) -> SlotState:
    """A slot's state from its process and its probe: healthy or unhealthy
    once the probe has a verdict, starting while it runs without one,
    failed when it died (it was restarted before), else stopped."""
    if probe is not None and proc.running and (probe.total_passes or probe.status is not Status.CRITICAL):
        return SlotState.UNHEALTHY if probe.status is Status.CRITICAL else SlotState.HEALTHY
    if probe is not None and proc.running and probe.failures >= probe.failures_before_critical:
        return SlotState.UNHEALTHY
    if proc.running:
        return SlotState.STARTING
    return SlotState.FAILED if proc.restarts else SlotState.STOPPED


@dataclass(frozen=True)
class SlotView:
    slot: str
    state: SlotState
    version: str  # "" when the slot holds no version
    port: int  # the slot's back port; 0 when the service's spec is unknown
    active: bool  # the slot that gets the traffic
    process: SlotProcess
    connections: int  # what the router holds open to the slot

    @property
    def in_use(self) -> bool:
        """Holds a version or runs something."""
        return bool(self.version) or self.process.running


@dataclass(frozen=True)
class ServiceView:
    record: ServiceRecord
    slots: tuple[SlotView, ...]  # blue, green


def service_view(services: ServiceManager, name: str) -> ServiceView:
    """:raises UnknownService:"""
    rec = services.record(name)
    spec = None
    with contextlib.suppress(UnknownService):  # stored, but its spec did not parse at the last start
        spec = services.spec(name)
    router = services.routers.get(name)
    slots = []
    for slot in SLOTS:
        proc, probe, version = services.slot_status(name, slot)
        slots.append(
            SlotView(
                slot=slot,
                state=slot_state(proc, probe),
                version=version,
                port=spec.port(slot) if spec is not None else 0,
                active=rec.active_slot == slot,
                process=proc,
                connections=router.connections(slot) if router else 0,
            )
        )
    return ServiceView(rec, tuple(slots))


def service_views(services: ServiceManager) -> list[ServiceView]:
    """Every service the agent runs, in the store's order."""
    out = []
    for name in services.names():
        with contextlib.suppress(UnknownService):  # removed since names() was read
            out.append(service_view(services, name))
    return out
