"""A range query computes its selectors and range functions for every step at
once (evaluator._Steps); the answer must be, bit for bit, the expression
evaluated at each step on its own, for random series with counter resets,
gaps, NaN and staleness markers, steps that do not divide the range, and
offset and @ modifiers. Aggregations and comparisons over columns must
answer as over samples."""

from __future__ import annotations

import math
import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from switchman.controller.promql.evaluator import Evaluator
from switchman.controller.promql.parser import parse
from switchman.controller.promql.testfile import MemorySource
from switchman.controller.promql.values import STALE_NAN, Sample, Scalar, Series

EXPRESSIONS = (
    "m",
    "m offset 1m",
    "m @ 300",
    "rate(m[2m])",
    "increase(m[90s] offset 30s)",
    "delta(m[3m])",
    "irate(m[2m])",
    "avg_over_time(m[3m])",
    "sum_over_time(m[150s])",
    "stddev_over_time(m[4m])",
    "min_over_time(m[2m]) + max_over_time(m[2m])",
    "count_over_time(m[1m] @ 600)",
    "quantile_over_time(0.5, m[5m])",
    "last_over_time(m[2m])",
    "changes(m[4m])",
    "resets(m[4m])",
    "deriv(m[3m])",
    "predict_linear(m[3m], 60)",
    "holt_winters(m[5m], 0.5, 0.5)",
    "timestamp(m)",
    "sum by (g) (rate(m[2m]))",
    "avg without (i) (m)",
    "max(m)",
    "count(m > 2)",
    "m > 2",
    "2 < m",
    "rate(m[2m]) >= bool 0.05",
    "sum(m) / count(m)",
    "topk(1, m)",
    "bottomk by (g) (2, rate(m[3m]))",
    "absent(m)",
    "vector(1)",
    "time()",
)

VALUES = st.one_of(
    st.integers(0, 20).map(float),
    st.sampled_from([math.nan, STALE_NAN, -0.0, math.inf, 1e300, 0.5]),
)


@st.composite
def sources(draw: st.DrawFn) -> MemorySource:
    src = MemorySource()
    for i in range(draw(st.integers(1, 4))):
        t, points = draw(st.integers(0, 40_000)), []
        v = 0.0
        for _ in range(draw(st.integers(0, 40))):
            if draw(st.integers(0, 5)):
                v += draw(st.integers(0, 9))  # mostly a counter, sometimes anything (a reset, NaN, a marker)
                points.append((t, v))
            else:
                points.append((t, draw(VALUES)))
            t += draw(st.sampled_from([15_000, 15_000, 30_000, 7_000, 200_000]))
        src.add("m", {"i": str(i), "g": "ab"[i % 2]}, points)
    return src


def bits(v: float) -> object:
    return "nan" if math.isnan(v) else struct.pack("<d", v)


def by_labels(matrix: list[Series]) -> dict[tuple[tuple[str, str], ...], list[tuple[int, object]]]:
    return {tuple(sorted(s.labels.items())): [(t, bits(v)) for t, v in zip(s.ts, s.vs, strict=True)] for s in matrix}


def stepwise(src: MemorySource, expr: str, start: int, end: int, step: int) -> list[Series]:
    out: dict[tuple[tuple[str, str], ...], Series] = {}
    node = parse(expr)
    for t in range(start, end + 1, step):
        v = Evaluator(src).instant(node, t)
        samples = [Sample({}, t, v.v)] if isinstance(v, Scalar) else [s for s in v if isinstance(s, Sample)]
        for s in samples:
            series = out.setdefault(tuple(sorted(s.labels.items())), Series(s.labels))
            series.ts.append(t)
            series.vs.append(s.v)
    return list(out.values())


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    src=sources(),
    expr=st.sampled_from(EXPRESSIONS),
    start=st.integers(-60_000, 600_000),
    span=st.integers(0, 900_000),
    step=st.sampled_from([1_000, 7_000, 15_000, 60_000, 61_000, 250_000]),
)
def test_a_range_query_answers_as_each_step_alone(
    src: MemorySource, expr: str, start: int, span: int, step: int
) -> None:
    got = Evaluator(src).range(parse(expr), start, start + span, step)
    assert by_labels(got) == by_labels(stepwise(src, expr, start, start + span, step))


AGGREGATED = (
    ("sum by (g) (m)", "sum by (g) (m * 1)"),
    ("avg(rate(m[2m]))", "avg(rate(m[2m]) * 1)"),
    ("max by (g) (m offset 30s)", "max by (g) (m offset 30s * 1)"),
    ("min(m)", "min(m * 1)"),
    ("stddev without (i) (m)", "stddev without (i) (m * 1)"),
    ("quantile(0.3, avg_over_time(m[2m]))", "quantile(0.3, avg_over_time(m[2m]) * 1)"),
    ("count(m)", "count(m * 1)"),
    ("topk(2, m)", "topk(2, m * 1)"),
    ("bottomk by (g) (1, rate(m[2m]))", "bottomk by (g) (1, rate(m[2m]) * 1)"),
    ("topk without (i) (3, m offset 1m)", "topk without (i) (3, m offset 1m * 1)"),
    ("m > 3", "m * 1 > 3"),
    ("rate(m[2m]) < bool 0.1", "rate(m[2m]) * 1 < bool 0.1"),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(src=sources(), pair=st.sampled_from(AGGREGATED), t=st.integers(0, 900_000))
def test_columns_aggregate_and_compare_as_samples_do(src: MemorySource, pair: tuple[str, str], t: int) -> None:
    columnar, listed = (Evaluator(src).instant(parse(e), t) for e in pair)
    assert isinstance(columnar, list) and isinstance(listed, list)

    def canonical(v: list[Sample]) -> list[tuple[tuple[tuple[str, str], ...], object]]:
        return [(tuple(sorted((k, x) for k, x in s.labels.items() if k != "__name__")), bits(s.v)) for s in v]

    assert canonical([s for s in columnar if isinstance(s, Sample)]) == canonical(
        [s for s in listed if isinstance(s, Sample)]
    )
