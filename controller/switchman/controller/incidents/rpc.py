"""The Ops incident methods, mixed into the Ops servicer."""

from __future__ import annotations

import asyncio

from switchman.controller.incidents.manager import IncidentManager
from switchman.controller.incidents.model import Incident
from switchman.controller.incidents.views import incident_message, mtt, postmortem, timeline
from switchman.controller.rpc_base import BoundServicer, Ctx, rpc
from switchman.controller.security.auth import actor
from switchman.proto.v1 import ops_pb2


class IncidentRpcs(BoundServicer):
    def _incidents(self) -> IncidentManager:
        return self.core.incidents

    async def _full(self, inc: Incident) -> ops_pb2.Incident:
        entries = await asyncio.to_thread(timeline, self.core.storage.events, inc, self.core.clock_ms())
        return incident_message(inc, entries)

    @rpc
    async def ListIncidents(self, request: ops_pb2.ListIncidentsRequest, context: Ctx) -> ops_pb2.ListIncidentsResponse:
        found = await self._incidents().find(request.state, request.all)
        return ops_pb2.ListIncidentsResponse(incidents=[incident_message(i, []) for i in found])

    @rpc
    async def GetIncident(self, request: ops_pb2.GetIncidentRequest, context: Ctx) -> ops_pb2.Incident:
        return await self._full(await self._incidents().get(request.id))

    async def _act(self, request: ops_pb2.IncidentActionRequest, action: str) -> ops_pb2.Incident:
        inc = await self._incidents().act(request.id, action, actor.get() or "unknown", request.note, request.manual)
        return await self._full(inc)

    @rpc
    async def AckIncident(self, request: ops_pb2.IncidentActionRequest, context: Ctx) -> ops_pb2.Incident:
        return await self._act(request, "ack")

    @rpc
    async def ResolveIncident(self, request: ops_pb2.IncidentActionRequest, context: Ctx) -> ops_pb2.Incident:
        return await self._act(request, "resolve")

    @rpc
    async def CloseIncident(self, request: ops_pb2.IncidentActionRequest, context: Ctx) -> ops_pb2.Incident:
        return await self._act(request, "close")

    @rpc
    async def AddIncidentNote(self, request: ops_pb2.IncidentActionRequest, context: Ctx) -> ops_pb2.Incident:
        return await self._act(request, "note")

    @rpc
    async def IncidentReport(
        self, request: ops_pb2.IncidentReportRequest, context: Ctx
    ) -> ops_pb2.IncidentReportResponse:
        found = await self._incidents().find("", True, max(request.since_ms, 0))
        by_priority, by_service = mtt(found)
        return ops_pb2.IncidentReportResponse(by_priority=by_priority, by_service=by_service)

    @rpc
    async def IncidentPostmortem(self, request: ops_pb2.GetIncidentRequest, context: Ctx) -> ops_pb2.Document:
        inc = await self._incidents().get(request.id)
        entries = await asyncio.to_thread(timeline, self.core.storage.events, inc, self.core.clock_ms())
        return ops_pb2.Document(format="markdown", content=postmortem(inc, entries, await self._impact(inc)))

    async def _impact(self, inc: Incident) -> list[str]:
        """The error budget each of the service's SLOs burned while the incident was open."""
        engine = self.core.slo
        if engine is None or not inc.service:
            return []
        end = inc.resolved_ms or self.core.clock_ms()
        span_ms = max(end - inc.opened_ms, 1000)
        out = []
        for st in engine.states.values():
            if st.slo.service != inc.service:
                continue
            v = await asyncio.to_thread(engine.compute, st.slo, f"{span_ms // 1000}s", span_ms, end)
            if v.ratio is None:
                out.append(f"* SLO `{st.slo.name}`: insufficient data for the incident's {span_ms // 1000}s")
                continue
            burned = v.ratio * span_ms / (st.slo.budget * engine.period_ms)
            out.append(
                f"* SLO `{st.slo.name}` ({st.slo.objective:g}%): error ratio {v.ratio:.4f} over {span_ms // 1000}s, "
                f"{burned * 100:.2f}% of the {engine.period} error budget burned"
            )
        return out
