"""SLO summaries and SLA reports: attainment over a period, budget left,
the worst hours, and violations (when the SLO's burn-rate alerts fired),
read back from the stored series."""

from __future__ import annotations

from datetime import UTC, datetime

from switchman.controller.promql import ast
from switchman.controller.slo.engine import SLOEngine, SLOState, WindowValue
from switchman.controller.slo.spec import SLO
from switchman.proto.v1 import ops_pb2

GAP_MS = 90_000  # ALERTS samples further apart than this belong to different violations


def window_message(v: WindowValue, slo: SLO) -> ops_pb2.SLOWindow:
    return ops_pb2.SLOWindow(
        window=v.window,
        error_ratio=v.ratio if v.ratio is not None else 0.0,
        burn_rate=v.ratio / slo.budget if v.ratio is not None else 0.0,
        events=int(v.events or 0),
        insufficient_data=v.insufficient,
    )


def summary(st: SLOState, period: str, period_value: WindowValue | None) -> ops_pb2.SLOSummary:
    slo = st.slo
    p = period_value or st.windows.get(period)
    insufficient = p is None or p.ratio is None
    ratio = p.ratio if p is not None and p.ratio is not None else 0.0
    return ops_pb2.SLOSummary(
        service=slo.service,
        name=slo.name,
        objective=slo.objective,
        attained=0.0 if insufficient else (1 - ratio) * 100,
        budget_remaining=0.0 if insufficient else 1 - ratio / slo.budget,
        insufficient_data=insufficient,
        windows=[window_message(v, slo) for v in st.windows.values()],
        period=period,
    )


def _select(engine: SLOEngine, name: str, extra: list[ast.Matcher], start: int, end: int) -> list[tuple[int, float]]:
    matchers = [ast.Matcher.make("__name__", ast.MatchOp.EQ, name), *extra]
    out: list[tuple[int, float]] = []
    for s in engine.evaluator.source.select(matchers, start, end):
        out += list(zip(s.ts, s.vs, strict=True))
    return sorted(out)


def violations(engine: SLOEngine, slo: SLO, start: int, end: int) -> list[ops_pb2.SLOViolation]:
    """Runs of firing ``ALERTS`` samples of the SLO's alerts."""
    eq = ast.MatchOp.EQ
    points = _select(
        engine,
        "ALERTS",
        [ast.Matcher.make("sloth_id", eq, slo.id), ast.Matcher.make("alertstate", eq, "firing")],
        start,
        end,
    )
    runs: list[list[int]] = []
    for ts, _ in points:
        if runs and ts - runs[-1][1] <= GAP_MS:
            runs[-1][1] = ts
        else:
            runs.append([ts, ts])
    return [
        ops_pb2.SLOViolation(start_ms=a, end_ms=b, duration_seconds=(b - a) / 1000, alert=slo.alert.name)
        for a, b in runs
    ]


def worst_hours(engine: SLOEngine, slo: SLO, start: int, end: int, n: int = 3) -> list[ops_pb2.SLOWindow]:
    points = _select(
        engine, "slo:sli_error:ratio_rate1h", [ast.Matcher.make("sloth_id", ast.MatchOp.EQ, slo.id)], start, end
    )
    worst = sorted(points, key=lambda p: p[1], reverse=True)[:n]
    return [
        ops_pb2.SLOWindow(
            window=f"1h to {datetime.fromtimestamp(ts / 1000, UTC).strftime('%Y-%m-%d %H:%M UTC')}",
            error_ratio=v,
            burn_rate=v / slo.budget,
        )
        for ts, v in worst
    ]
