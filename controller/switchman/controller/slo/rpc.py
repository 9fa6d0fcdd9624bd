"""The Ops SLO methods, mixed into the Ops servicer."""

from __future__ import annotations

import asyncio

from switchman.controller.errors import InvalidArgument
from switchman.controller.rpc_base import BoundServicer, Ctx, rpc
from switchman.controller.slo.engine import SLOEngine
from switchman.controller.slo.report import summary, violations, worst_hours
from switchman.proto.durations import DurationError, parse_duration_ms
from switchman.proto.v1 import ops_pb2


class SLORpcs(BoundServicer):
    def _slo(self) -> SLOEngine:
        return self.core.slo

    @rpc
    async def ListSLOs(self, request: ops_pb2.ListSLOsRequest, context: Ctx) -> ops_pb2.ListSLOsResponse:
        engine = self._slo()
        states = sorted(engine.states.values(), key=lambda s: s.slo.id)
        return ops_pb2.ListSLOsResponse(slos=[summary(st, engine.period, None) for st in states])

    @rpc
    async def SLOReport(self, request: ops_pb2.SLOReportRequest, context: Ctx) -> ops_pb2.SLOReportResponse:
        engine = self._slo()
        period = request.period or engine.period
        try:
            period_ms = parse_duration_ms(period)
        except DurationError as exc:
            raise InvalidArgument(f"period: {exc}") from None
        if not 0 < period_ms <= 400 * 86_400_000:
            raise InvalidArgument("period: must be between 1s and 400d")
        now = self.core.clock_ms()
        out = []
        for st in sorted(engine.states.values(), key=lambda s: s.slo.id):
            if request.service and st.slo.service != request.service:
                continue
            value = await asyncio.to_thread(engine.compute, st.slo, period, period_ms, now)
            entry = ops_pb2.SLOReportEntry(
                slo=summary(st, period, value),
                worst_windows=await asyncio.to_thread(worst_hours, engine, st.slo, now - period_ms, now),
                violations=await asyncio.to_thread(violations, engine, st.slo, now - period_ms, now),
            )
            out.append(entry)
        return ops_pb2.SLOReportResponse(entries=out)
