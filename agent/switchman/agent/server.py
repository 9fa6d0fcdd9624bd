"""The Agent gRPC servicer: thin, converts between proto and the agent's parts."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import grpc
from switchman.agent.faults.ledger import FaultRecord
from switchman.agent.faults.manager import FaultFailed
from switchman.agent.faults.params import InvalidFault
from switchman.agent.probes.checks import run_probe
from switchman.agent.probes.state import Status
from switchman.agent.services.errors import InvalidService, ServiceError, SwitchFailed, SwitchInProgress, UnknownService
from switchman.agent.services.manager import SwitchResult
from switchman.agent.telemetry import to_series
from switchman.proto.channel import ServicerContext
from switchman.proto.probes import ProbeError
from switchman.proto.services import SpecError, from_proto
from switchman.proto.unimplemented import fill_unimplemented
from switchman.proto.v1 import agent_pb2, agent_pb2_grpc, common_pb2

if TYPE_CHECKING:
    from switchman.agent.daemon import AgentDaemon


SLOT_ENUM = {"blue": common_pb2.SLOT_BLUE, "green": common_pb2.SLOT_GREEN, "": common_pb2.SLOT_UNSPECIFIED}
PROBE_STATE = {
    Status.PASSING: common_pb2.SLOT_STATE_HEALTHY,
    Status.WARNING: common_pb2.SLOT_STATE_HEALTHY,
    Status.CRITICAL: common_pb2.SLOT_STATE_UNHEALTHY,
}
_CODES: list[tuple[type[Exception], grpc.StatusCode]] = [
    (UnknownService, grpc.StatusCode.NOT_FOUND),
    (SwitchInProgress, grpc.StatusCode.ABORTED),
    (SwitchFailed, grpc.StatusCode.FAILED_PRECONDITION),
    (InvalidService, grpc.StatusCode.INVALID_ARGUMENT),
    (SpecError, grpc.StatusCode.INVALID_ARGUMENT),
    (ProbeError, grpc.StatusCode.INVALID_ARGUMENT),
    (InvalidFault, grpc.StatusCode.INVALID_ARGUMENT),
    (FaultFailed, grpc.StatusCode.FAILED_PRECONDITION),
]

FAULT_STATE = {
    "pending": common_pb2.FAULT_STATE_PENDING,
    "active": common_pb2.FAULT_STATE_ACTIVE,
    "reverted": common_pb2.FAULT_STATE_REVERTED,
    "failed": common_pb2.FAULT_STATE_FAILED,
}


def fault_message(rec: FaultRecord, host_id: str) -> common_pb2.Fault:
    return common_pb2.Fault(
        id=rec.id,
        spec=common_pb2.FaultSpec(kind=rec.kind, duration_ms=rec.duration_ms, service=rec.service, params=rec.params),
        state=FAULT_STATE[rec.state],
        applied_at_ms=rec.applied_ms,
        expires_at_ms=rec.expires_ms,
        reverted_at_ms=rec.reverted_ms,
        host_id=host_id,
        error=rec.error,
    )


async def _fail(context: ServicerContext, exc: Exception) -> None:
    """The one place agent errors become status codes."""
    for cls, code in _CODES:
        if isinstance(exc, cls):
            await context.abort(code, str(exc))
    raise exc


class AgentServicer(agent_pb2_grpc.AgentServicer):
    def __init__(self, daemon: AgentDaemon) -> None:
        self._d = daemon
        fill_unimplemented(
            self, agent_pb2.DESCRIPTOR.services_by_name["Agent"], agent_pb2_grpc.AgentServicer, "this agent"
        )

    async def GetInfo(self, request: agent_pb2.GetInfoRequest, context: ServicerContext) -> agent_pb2.AgentInfo:
        d = self._d
        ident = d.identity()
        stats = await d.spool_stats()
        return agent_pb2.AgentInfo(
            host_id=ident.host_id,
            hostname=ident.hostname,
            version=ident.version,
            labels=ident.labels,
            capabilities=ident.capabilities,
            advertise=ident.advertise,
            started_at_ms=d.started_at_ms,
            controller=d.config.controller,
            controller_connected=d.link.stats.connected,
            spool_batches=stats.batches,
            spool_bytes=stats.bytes,
            spool_dropped_samples=stats.dropped_samples,
        )

    def _status(self, name: str) -> common_pb2.ServiceStatus:
        m = self._d.services
        rec = m.record(name)
        slots = []
        for slot in ("blue", "green"):
            proc, probe, version = m.slot_status(name, slot)
            router = m.routers.get(name)
            if probe is not None and proc.running and (probe.total_passes or probe.status is not Status.CRITICAL):
                state = PROBE_STATE[probe.status]
            elif probe is not None and proc.running and probe.failures >= probe.failures_before_critical:
                state = common_pb2.SLOT_STATE_UNHEALTHY
            elif proc.running:
                state = common_pb2.SLOT_STATE_STARTING
            else:
                state = common_pb2.SLOT_STATE_FAILED if proc.restarts else common_pb2.SLOT_STATE_STOPPED
            slots.append(
                common_pb2.SlotStatus(
                    slot=SLOT_ENUM[slot],
                    state=state,
                    version=version,
                    port=m.spec(name).port(slot),
                    pid=proc.pid,
                    restarts=proc.restarts,
                    rss_bytes=proc.rss_bytes,
                    cpu_seconds=proc.cpu_seconds,
                    open_fds=proc.open_fds,
                    active_connections=router.connections(slot) if router else 0,
                )
            )
        return common_pb2.ServiceStatus(
            name=name,
            active_slot=SLOT_ENUM[rec.active_slot],
            active_version=rec.active_version,
            previous_version=rec.previous_version,
            slots=slots,
            phase=rec.phase.value,
            spec_revision=rec.revision,
        )

    async def ListServices(
        self, request: agent_pb2.ListAgentServicesRequest, context: ServicerContext
    ) -> agent_pb2.ListAgentServicesResponse:
        return agent_pb2.ListAgentServicesResponse(services=[self._status(n) for n in self._d.services.names()])

    async def Switch(self, request: agent_pb2.SwitchRequest, context: ServicerContext) -> agent_pb2.SwitchResponse:
        try:
            spec = from_proto(request.spec)
            deadline = request.healthy_deadline_ms / 1000 if request.healthy_deadline_ms > 0 else None
            result = await self._d.services.switch(spec, request.version, deadline)
        except (ServiceError, SpecError, ProbeError) as exc:
            await _fail(context, exc)
            raise
        return self._switched(spec.name, result)

    def _switched(self, name: str, result: SwitchResult) -> agent_pb2.SwitchResponse:
        return agent_pb2.SwitchResponse(
            status=self._status(name),
            changed=result.changed,
            flip_latency_ms=round(result.flip_latency_ms),
            message=result.message,
        )

    async def Rollback(self, request: agent_pb2.RollbackRequest, context: ServicerContext) -> agent_pb2.SwitchResponse:
        try:
            result = await self._d.services.rollback(request.service)
        except ServiceError as exc:
            await _fail(context, exc)
            raise
        return self._switched(request.service, result)

    async def StopService(
        self, request: agent_pb2.StopServiceRequest, context: ServicerContext
    ) -> agent_pb2.SwitchResponse:
        try:
            result = await self._d.services.stop_service(request.service)
        except ServiceError as exc:
            await _fail(context, exc)
            raise
        return agent_pb2.SwitchResponse(changed=result.changed, message=result.message)

    async def InjectFault(self, request: agent_pb2.InjectFaultRequest, context: ServicerContext) -> common_pb2.Fault:
        spec = request.spec
        try:
            rec = await self._d.faults.inject(spec.kind, spec.duration_ms, spec.service, dict(spec.params))
        except (InvalidFault, FaultFailed) as exc:
            await _fail(context, exc)
            raise
        return fault_message(rec, self._d.config.host_id)

    async def ClearFault(self, request: agent_pb2.ClearFaultRequest, context: ServicerContext) -> common_pb2.Fault:
        try:
            rec = await self._d.faults.clear(request.id)
        except InvalidFault as exc:
            await context.abort(grpc.StatusCode.NOT_FOUND, str(exc))
            raise
        return fault_message(rec, self._d.config.host_id)

    async def ListFaults(
        self, request: agent_pb2.ListFaultsRequest, context: ServicerContext
    ) -> agent_pb2.ListFaultsResponse:
        recs = await self._d.faults.list(request.include_reverted)
        return agent_pb2.ListFaultsResponse(faults=[fault_message(r, self._d.config.host_id) for r in recs])

    async def HaltFaults(
        self, request: agent_pb2.HaltFaultsRequest, context: ServicerContext
    ) -> agent_pb2.HaltFaultsResponse:
        recs = await self._d.faults.halt()
        return agent_pb2.HaltFaultsResponse(reverted=[fault_message(r, self._d.config.host_id) for r in recs])

    async def RunProbe(self, request: agent_pb2.RunProbeRequest, context: ServicerContext) -> common_pb2.ProbeResult:
        spec = next((s for s, _ in self._d.probes.specs.values() if s.name == request.name), None)
        if spec is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no probe named {request.name!r} on this agent")
            raise AssertionError("unreachable")
        outcome = await run_probe(spec)
        return common_pb2.ProbeResult(
            name=spec.name,
            service=spec.service,
            success=outcome.success,
            status=common_pb2.PROBE_STATUS_PASSING if outcome.success else common_pb2.PROBE_STATUS_CRITICAL,
            duration_seconds=outcome.duration_s,
            http_status_code=outcome.http_status,
            output=outcome.output,
            timestamp_ms=int(time.time() * 1000),
        )

    async def GetSnapshot(self, request: agent_pb2.GetSnapshotRequest, context: ServicerContext) -> agent_pb2.Snapshot:
        families = await self._d.read_now()
        now = int(time.time() * 1000)
        if request.prefix:
            families = [f for f in families if f.name.startswith(request.prefix)]
        return agent_pb2.Snapshot(timestamp_ms=now, series=list(to_series(families, now)))
