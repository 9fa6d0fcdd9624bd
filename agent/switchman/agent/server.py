"""The Agent gRPC servicer: thin, converts between proto and the agent's parts.

It is handed the parts it serves and nothing else (no daemon);
:func:`create_server` builds the gRPC server around them, not yet bound, so
a test serves an agent on port 0 without starting the daemon. Errors become
status codes in :mod:`switchman.agent.rpc`.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import grpc
from grpc_health.v1._async import HealthServicer
from switchman.agent.collect.model import Family
from switchman.agent.faults.ledger import FaultRecord
from switchman.agent.faults.manager import FaultManager
from switchman.agent.probes.checks import run_probe
from switchman.agent.probes.runner import ProbeRunner
from switchman.agent.push import Identity, LinkStats
from switchman.agent.rpc import rpc
from switchman.agent.services.manager import ServiceManager, SwitchResult
from switchman.agent.services.state import Phase
from switchman.agent.services.view import ServiceView, SlotState, service_view, service_views
from switchman.agent.spool import SpoolStats
from switchman.agent.telemetry import to_series
from switchman.proto import channel
from switchman.proto.channel import CONTROLLER_IDENTITY, ServicerContext, TlsMaterial, add_health
from switchman.proto.interceptors import RequirePeer
from switchman.proto.services import from_proto
from switchman.proto.unimplemented import fill_unimplemented
from switchman.proto.v1 import agent_pb2, agent_pb2_grpc, common_pb2

SLOT_ENUM = {"blue": common_pb2.SLOT_BLUE, "green": common_pb2.SLOT_GREEN, "": common_pb2.SLOT_UNSPECIFIED}
SLOT_STATE = {
    SlotState.STOPPED: common_pb2.SLOT_STATE_STOPPED,
    SlotState.STARTING: common_pb2.SLOT_STATE_STARTING,
    SlotState.HEALTHY: common_pb2.SLOT_STATE_HEALTHY,
    SlotState.UNHEALTHY: common_pb2.SLOT_STATE_UNHEALTHY,
    SlotState.FAILED: common_pb2.SLOT_STATE_FAILED,
}
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


def service_status(view: ServiceView) -> common_pb2.ServiceStatus:
    rec = view.record
    status = common_pb2.ServiceStatus(
        name=rec.name,
        active_slot=SLOT_ENUM[rec.active_slot],
        active_version=rec.active_version,
        previous_version=rec.previous_version,
        slots=[
            common_pb2.SlotStatus(
                slot=SLOT_ENUM[s.slot],
                state=SLOT_STATE[s.state],
                version=s.version,
                port=s.port,
                pid=s.process.pid,
                restarts=s.process.restarts,
                rss_bytes=s.process.rss_bytes,
                cpu_seconds=s.process.cpu_seconds,
                open_fds=s.process.open_fds,
                active_connections=s.connections,
            )
            for s in view.slots
        ],
        phase=rec.phase.value,
        spec_revision=rec.revision,
    )
    if rec.phase is Phase.WEIGHTED:  # a weighted step's candidate and its share
        status.candidate_slot = SLOT_ENUM[rec.target_slot]
        status.candidate_version = rec.target_version
        status.candidate_weight = rec.weight
    return status


@dataclass(frozen=True)
class AgentInfoSource:
    """What GetInfo and GetSnapshot read: the agent's identity and link, its
    spool, and a fresh metrics reading."""

    identity: Callable[[], Identity]
    controller: str
    started_at_ms: int
    link: LinkStats
    spool_stats: Callable[[], Awaitable[SpoolStats]]
    read_now: Callable[[], Awaitable[list[Family]]]


@dataclass(frozen=True)
class AgentParts:
    """What the Agent service serves."""

    services: ServiceManager
    faults: FaultManager
    probes: ProbeRunner
    info: AgentInfoSource


def create_server(parts: AgentParts, tls: TlsMaterial | None = None) -> tuple[grpc.aio.Server, HealthServicer]:
    """The agent's gRPC server with the Agent and health services, not yet
    bound (:func:`switchman.proto.channel.listen`). With ``tls``, only the
    controller's certificate may call the Agent service."""
    server = channel.create_server(
        interceptors=[] if tls is None else [RequirePeer("/switchman.v1.Agent/", {CONTROLLER_IDENTITY})]
    )
    health = add_health(server)
    servicer = AgentServicer(parts.services, parts.faults, parts.probes, parts.info)
    agent_pb2_grpc.add_AgentServicer_to_server(servicer, server)
    return server, health


class AgentServicer(agent_pb2_grpc.AgentServicer):
    def __init__(
        self, services: ServiceManager, faults: FaultManager, probes: ProbeRunner, info: AgentInfoSource
    ) -> None:
        self._services = services
        self._faults = faults
        self._probes = probes
        self._info = info
        fill_unimplemented(
            self, agent_pb2.DESCRIPTOR.services_by_name["Agent"], agent_pb2_grpc.AgentServicer, "this agent"
        )

    def _host_id(self) -> str:
        return self._info.identity().host_id

    @rpc
    async def GetInfo(self, request: agent_pb2.GetInfoRequest, context: ServicerContext) -> agent_pb2.AgentInfo:
        info = self._info
        ident = info.identity()
        stats = await info.spool_stats()
        return agent_pb2.AgentInfo(
            host_id=ident.host_id,
            hostname=ident.hostname,
            version=ident.version,
            labels=ident.labels,
            capabilities=ident.capabilities,
            advertise=ident.advertise,
            started_at_ms=info.started_at_ms,
            controller=info.controller,
            controller_connected=info.link.connected,
            spool_batches=stats.batches,
            spool_bytes=stats.bytes,
            spool_dropped_samples=stats.dropped_samples,
        )

    @rpc
    async def ListServices(
        self, request: agent_pb2.ListAgentServicesRequest, context: ServicerContext
    ) -> agent_pb2.ListAgentServicesResponse:
        return agent_pb2.ListAgentServicesResponse(services=[service_status(v) for v in service_views(self._services)])

    @rpc
    async def Switch(self, request: agent_pb2.SwitchRequest, context: ServicerContext) -> agent_pb2.SwitchResponse:
        spec = from_proto(request.spec)
        deadline = request.healthy_deadline_ms / 1000 if request.healthy_deadline_ms > 0 else None
        return self._switched(spec.name, await self._services.switch(spec, request.version, deadline))

    def _switched(self, name: str, result: SwitchResult) -> agent_pb2.SwitchResponse:
        return agent_pb2.SwitchResponse(
            status=service_status(service_view(self._services, name)),
            changed=result.changed,
            flip_latency_ms=round(result.flip_latency_ms),
            message=result.message,
        )

    @rpc
    async def Rollback(self, request: agent_pb2.RollbackRequest, context: ServicerContext) -> agent_pb2.SwitchResponse:
        return self._switched(request.service, await self._services.rollback(request.service))

    @rpc
    async def SetWeight(
        self, request: agent_pb2.SetWeightRequest, context: ServicerContext
    ) -> agent_pb2.SwitchResponse:
        spec = from_proto(request.spec)
        deadline = request.healthy_deadline_ms / 1000 if request.healthy_deadline_ms > 0 else None
        return self._switched(
            spec.name, await self._services.set_weight(spec, request.version, request.weight, deadline)
        )

    @rpc
    async def StopService(
        self, request: agent_pb2.StopServiceRequest, context: ServicerContext
    ) -> agent_pb2.SwitchResponse:
        result = await self._services.stop_service(request.service)
        return agent_pb2.SwitchResponse(changed=result.changed, message=result.message)

    @rpc
    async def InjectFault(self, request: agent_pb2.InjectFaultRequest, context: ServicerContext) -> common_pb2.Fault:
        spec = request.spec
        rec = await self._faults.inject(spec.kind, spec.duration_ms, spec.service, dict(spec.params))
        return fault_message(rec, self._host_id())

    @rpc
    async def ClearFault(self, request: agent_pb2.ClearFaultRequest, context: ServicerContext) -> common_pb2.Fault:
        return fault_message(await self._faults.clear(request.id), self._host_id())

    @rpc
    async def ListFaults(
        self, request: agent_pb2.ListFaultsRequest, context: ServicerContext
    ) -> agent_pb2.ListFaultsResponse:
        recs = await self._faults.list(request.include_reverted)
        return agent_pb2.ListFaultsResponse(faults=[fault_message(r, self._host_id()) for r in recs])

    @rpc
    async def HaltFaults(
        self, request: agent_pb2.HaltFaultsRequest, context: ServicerContext
    ) -> agent_pb2.HaltFaultsResponse:
        recs = await self._faults.halt()
        return agent_pb2.HaltFaultsResponse(reverted=[fault_message(r, self._host_id()) for r in recs])

    @rpc
    async def RunProbe(self, request: agent_pb2.RunProbeRequest, context: ServicerContext) -> common_pb2.ProbeResult:
        spec = self._probes.find(request.name)
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

    @rpc
    async def GetSnapshot(self, request: agent_pb2.GetSnapshotRequest, context: ServicerContext) -> agent_pb2.Snapshot:
        families = await self._info.read_now()
        now = int(time.time() * 1000)
        if request.prefix:
            families = [f for f in families if f.name.startswith(request.prefix)]
        return agent_pb2.Snapshot(timestamp_ms=now, series=list(to_series(families, now)))
