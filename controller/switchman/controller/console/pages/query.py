"""PromQL from the browser: the instant result as a table, the range as a
chart, a parse error shown under the expression at its position."""

from __future__ import annotations

import asyncio
import math

from aiohttp import web
from switchman.controller.console.charts import lines_of, svg
from switchman.controller.console.data import ranged
from switchman.controller.console.session import Session
from switchman.controller.console.web import Console, Context, view
from switchman.controller.promql import PromQLError, parse
from switchman.controller.promql.values import Sample, Scalar, String
from switchman.proto.durations import parse_duration_ms

MAX_ROWS = 500
RANGES = ("5m", "15m", "1h", "6h", "1d")


def _format(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return f"{v:.6g}"


@view("query.html")
async def query(request: web.Request, s: Session, c: Console) -> Context:
    expr = request.query.get("expr", "").strip()
    window = request.query.get("range", "1h")
    if window not in RANGES:
        window = "1h"
    context: Context = {"title": "Query", "expr": expr, "range": window, "ranges": RANGES, "error": None}
    context.update(rows=[], scalar=None, chart="", truncated=0)
    if not expr:
        return context
    try:
        node = parse(expr)
        value = await asyncio.to_thread(c.core.evaluator.instant, node, c.core.clock_ms())
        if isinstance(value, Scalar | String):
            context["scalar"] = _format(value.v) if isinstance(value, Scalar) else value.v
        else:
            samples = [x for x in value if isinstance(x, Sample)]
            context["rows"] = [(x.labels, _format(x.v)) for x in samples[:MAX_ROWS]]
            context["truncated"] = max(0, len(samples) - MAX_ROWS)
            if samples or not value:
                series = await ranged(c.core, expr, parse_duration_ms(window) // 1000)
                context["chart"] = svg(expr, lines_of(series))
    except PromQLError as exc:
        context["error"] = {"message": str(exc), "pos": exc.pos, "expr": exc.expr or expr}
    return context


ROUTES = [("GET", "/query", query)]
