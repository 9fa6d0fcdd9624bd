"""Query and QueryRange: parse, evaluate off the event loop, shape the answer
as Prometheus' API does (``resultType``, ``result[]``)."""

from __future__ import annotations

import asyncio

from switchman.controller.errors import InvalidArgument
from switchman.controller.promql import parse
from switchman.controller.promql.evaluator import Evaluator
from switchman.controller.promql.values import Sample, Scalar, Series, String, Value
from switchman.proto.v1 import common_pb2, ops_pb2


def to_response(value: Value) -> ops_pb2.QueryResponse:
    if isinstance(value, Scalar):
        return ops_pb2.QueryResponse(result_type="scalar", scalar=common_pb2.Point(timestamp_ms=value.t, value=value.v))
    if isinstance(value, String):
        return ops_pb2.QueryResponse(result_type="string", string_value=value.v)
    if value and isinstance(value[0], Series):  # matrix
        return ops_pb2.QueryResponse(
            result_type="matrix",
            result=[
                ops_pb2.SeriesResult(
                    metric=s.labels,
                    points=[common_pb2.Point(timestamp_ms=t, value=v) for t, v in zip(s.ts, s.vs, strict=True)],
                )
                for s in value
                if isinstance(s, Series)
            ],
        )
    return ops_pb2.QueryResponse(
        result_type="vector",
        result=[
            ops_pb2.SeriesResult(metric=s.labels, points=[common_pb2.Point(timestamp_ms=s.t, value=s.v)])
            for s in value
            if isinstance(s, Sample)
        ],
    )


class QueryService:
    def __init__(self, evaluator: Evaluator) -> None:
        self.evaluator = evaluator

    async def instant(self, expr: str, t_ms: int) -> ops_pb2.QueryResponse:
        node = parse(expr)
        value = await asyncio.to_thread(self.evaluator.instant, node, t_ms)
        return to_response(value)

    async def range(self, expr: str, start_ms: int, end_ms: int, step_ms: int) -> ops_pb2.QueryResponse:
        if start_ms <= 0 or end_ms <= 0:
            raise InvalidArgument("start and end must be set (Unix milliseconds)")
        node = parse(expr)
        matrix = await asyncio.to_thread(self.evaluator.range, node, start_ms, end_ms, step_ms)
        resp = to_response(matrix)
        resp.result_type = "matrix"  # an empty matrix is still a matrix
        return resp
