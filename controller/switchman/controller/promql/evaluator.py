"""Evaluates the AST at an instant or over a range, with Prometheus 2.x
semantics: a vector selector takes, per series, the newest sample in
``[t - lookback, t]`` (lookback 5m); range selectors take ``[t - range, t]``."""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from switchman.controller.promql import ast
from switchman.controller.promql.errors import PromQLError
from switchman.controller.promql.source import SampleSource
from switchman.controller.promql.values import Matrix, Sample, Scalar, Series, String, Value, Vector

LOOKBACK_MS = 5 * 60_000
MAX_STEPS = 11_000


@dataclass
class Evaluator:
    source: SampleSource
    lookback_ms: int = LOOKBACK_MS

    def instant(self, node: ast.Expr, t: int) -> Value:
        if isinstance(node, ast.NumberLiteral):
            return Scalar(t, node.value)
        if isinstance(node, ast.StringLiteral):
            return String(t, node.value)
        if isinstance(node, ast.Paren):
            return self.instant(node.expr, t)
        if isinstance(node, ast.VectorSelector):
            return self._vector_at(node, [t])[t]
        if isinstance(node, ast.MatrixSelector):
            return self._matrix_at(node, t)
        raise PromQLError(f"cannot evaluate {type(node).__name__}")

    def range(self, node: ast.Expr, start: int, end: int, step: int) -> Matrix:
        """A range query: the expression at every step; returns a matrix."""
        if step <= 0:
            raise PromQLError("zero or negative query resolution step widths are not accepted")
        if end < start:
            raise PromQLError("end timestamp must not be before start time")
        if (end - start) // step + 1 > MAX_STEPS:
            raise PromQLError(f"exceeded maximum resolution of {MAX_STEPS} points per timeseries; try a larger step")
        steps = list(range(start, end + 1, step))
        inner = node.expr if isinstance(node, ast.Paren) else node
        if isinstance(inner, ast.MatrixSelector):
            raise PromQLError(
                'invalid expression type "range vector" for range query, must be Scalar or instant Vector'
            )
        if isinstance(inner, ast.StringLiteral):
            raise PromQLError('invalid expression type "string" for range query, must be Scalar or instant Vector')
        if isinstance(inner, ast.NumberLiteral):
            return [Series({}, steps, [inner.value] * len(steps))]
        if isinstance(inner, ast.VectorSelector):
            per_step = self._vector_at(inner, steps)
            out: dict[tuple[tuple[str, str], ...], Series] = {}
            for t in steps:
                for s in per_step[t]:
                    key = tuple(sorted(s.labels.items()))
                    series = out.setdefault(key, Series(s.labels))
                    series.ts.append(t)
                    series.vs.append(s.v)
            return list(out.values())
        raise PromQLError(f"cannot evaluate {type(inner).__name__}")

    def _vector_at(self, sel: ast.VectorSelector, steps: list[int]) -> dict[int, Vector]:
        lo = steps[0] - sel.offset_ms - self.lookback_ms
        hi = steps[-1] - sel.offset_ms
        raw = self.source.select(sel.matchers, lo, hi)
        out: dict[int, Vector] = {t: [] for t in steps}
        for series in raw:
            for t in steps:
                at = t - sel.offset_ms
                i = bisect.bisect_right(series.ts, at) - 1
                if i >= 0 and series.ts[i] >= at - self.lookback_ms:
                    out[t].append(Sample(series.labels, t, series.vs[i]))
        return out

    def _matrix_at(self, node: ast.MatrixSelector, t: int) -> Matrix:
        at = t - node.vector.offset_ms
        return self.source.select(node.vector.matchers, at - node.range_ms, at)
