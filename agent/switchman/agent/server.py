"""The Agent gRPC servicer: thin, converts between proto and the agent's parts."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from switchman.agent.telemetry import to_series
from switchman.proto.channel import ServicerContext
from switchman.proto.unimplemented import fill_unimplemented
from switchman.proto.v1 import agent_pb2, agent_pb2_grpc

if TYPE_CHECKING:
    from switchman.agent.daemon import AgentDaemon


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

    async def GetSnapshot(self, request: agent_pb2.GetSnapshotRequest, context: ServicerContext) -> agent_pb2.Snapshot:
        families = await self._d.read_now()
        now = int(time.time() * 1000)
        if request.prefix:
            families = [f for f in families if f.name.startswith(request.prefix)]
        return agent_pb2.Snapshot(timestamp_ms=now, series=list(to_series(families, now)))
