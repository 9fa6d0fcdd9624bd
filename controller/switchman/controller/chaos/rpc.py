"""The Ops chaos methods, mixed into the Ops servicer."""

from __future__ import annotations

from switchman.controller.chaos.drills import DrillRunner
from switchman.controller.chaos.faults import FaultOps
from switchman.controller.chaos.report import as_json, drill_message, markdown
from switchman.controller.chaos.spec import DrillSpecError, parse_drill
from switchman.controller.errors import InvalidArgument
from switchman.controller.rpc_base import BoundServicer, Ctx, rpc
from switchman.controller.security.auth import actor
from switchman.proto.v1 import common_pb2, ops_pb2


class ChaosRpcs(BoundServicer):
    def _drills(self) -> DrillRunner:
        return self.core.drills

    def _faults(self) -> FaultOps:
        return self.core.faults

    @rpc
    async def InjectFault(self, request: ops_pb2.OpsInjectFaultRequest, context: Ctx) -> common_pb2.Fault:
        return await self._faults().inject(request.host_id, request.spec, request.force)

    @rpc
    async def ListFaults(self, request: ops_pb2.OpsListFaultsRequest, context: Ctx) -> ops_pb2.OpsListFaultsResponse:
        return ops_pb2.OpsListFaultsResponse(
            faults=await self._faults().find(request.host_id, request.include_reverted)
        )

    @rpc
    async def HaltFaults(self, request: ops_pb2.OpsHaltFaultsRequest, context: Ctx) -> ops_pb2.OpsListFaultsResponse:
        return ops_pb2.OpsListFaultsResponse(faults=await self._faults().halt(request.host_id, request.all))

    @rpc
    async def RunDrill(self, request: ops_pb2.RunDrillRequest, context: Ctx) -> ops_pb2.Drill:
        try:
            spec = parse_drill(request.source_yaml, request.file_name or "drill.yml")
        except DrillSpecError as exc:
            raise InvalidArgument(str(exc)) from None
        j = await self._drills().start(spec, request.force, request.dry_run, actor.get())
        return drill_message(j)

    @rpc
    async def ListDrills(self, request: ops_pb2.ListDrillsRequest, context: Ctx) -> ops_pb2.ListDrillsResponse:
        found = await self._drills().recent(min(request.limit or 50, 1000))
        return ops_pb2.ListDrillsResponse(drills=[drill_message(j) for j in found])

    @rpc
    async def GetDrill(self, request: ops_pb2.GetDrillRequest, context: Ctx) -> ops_pb2.Drill:
        return drill_message(await self._drills().get(request.id))

    @rpc
    async def DrillReport(self, request: ops_pb2.DrillReportRequest, context: Ctx) -> ops_pb2.Document:
        if request.format not in ("", "markdown", "json"):
            raise InvalidArgument(f"format: {request.format!r} is not markdown or json")
        j = await self._drills().get(request.id)
        if request.format == "json":
            return ops_pb2.Document(format="json", content=as_json(j))
        return ops_pb2.Document(format="markdown", content=markdown(j))
