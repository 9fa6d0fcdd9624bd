"""SLOs with their budget and burn charts, drills and their reports, chaos
faults (halt all), the audit log (with verify)."""

from __future__ import annotations

from typing import Any

import grpc
from aiohttp import web
from multidict import MultiDictProxy
from switchman.controller.console.charts import lines_of, svg
from switchman.controller.console.data import ranged
from switchman.controller.console.ops import OpsFailed
from switchman.controller.console.session import Session
from switchman.controller.console.web import Console, Context, action, page_of, view
from switchman.proto.v1 import ops_pb2

AUDIT_PAGE = 100
SLO_POINTS = 120


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


@view("slos.html")
async def slos(request: web.Request, s: Session, c: Console) -> Context:
    found = await c.ops.call(s.token, "ListSLOs", ops_pb2.ListSLOsRequest())
    period_s = c.core.slo.period_ms // 1000
    step_s = max(1, period_s // SLO_POINTS)  # each point: the last value recorded in its step
    shown = []
    for slo in found.slos:
        selector = f'sloth_service="{_quoted(slo.service)}",sloth_slo="{_quoted(slo.name)}"'
        budget_expr = f"last_over_time(slo:period_error_budget_remaining:ratio{{{selector}}}[{step_s}s]) * 100"
        burn_expr = f"last_over_time(slo:current_burn_rate:ratio{{{selector}}}[{step_s}s])"
        budget = await ranged(c.core, budget_expr, period_s, SLO_POINTS)
        burn = await ranged(c.core, burn_expr, period_s, SLO_POINTS)
        period = c.core.slo.period
        charts = [
            svg(f"Error budget remaining % over {period}", lines_of(budget)),
            svg(f"Burn rate (5m) over {period}", lines_of(burn)),
        ]
        shown.append((slo, charts))
    return {"title": "SLOs", "slos": shown}


@view("drills.html")
async def drills(request: web.Request, s: Session, c: Console) -> Context:
    found = await c.ops.call(s.token, "ListDrills", ops_pb2.ListDrillsRequest(limit=100))
    return {"title": "Drills", "drills": found.drills}


@view("drill.html")
async def drill(request: web.Request, s: Session, c: Console) -> Context:
    try:
        drill_id = int(request.match_info["drill_id"])
    except ValueError:
        raise OpsFailed(grpc.StatusCode.NOT_FOUND, f"no drill {request.match_info['drill_id']!r}") from None
    found = await c.ops.call(s.token, "GetDrill", ops_pb2.GetDrillRequest(id=drill_id))
    report = await c.ops.call(s.token, "DrillReport", ops_pb2.DrillReportRequest(id=drill_id, format="markdown"))
    return {"title": f"Drill {drill_id}", "drill": found, "report": report.content}


@view("chaos.html")
async def chaos(request: web.Request, s: Session, c: Console) -> Context:
    found = await c.ops.call(s.token, "ListFaults", ops_pb2.OpsListFaultsRequest(include_reverted=True))
    faults = sorted(found.faults, key=lambda f: -f.applied_at_ms)
    active = [f for f in faults if not f.reverted_at_ms]
    return {"title": "Chaos", "active": active, "recent": [f for f in faults if f.reverted_at_ms][:50]}


@action
async def halt(request: web.Request, form: MultiDictProxy[Any], s: Session, c: Console) -> str:
    await c.ops.call(s.token, "HaltFaults", ops_pb2.OpsHaltFaultsRequest(all=True))
    return "/chaos"


@view("audit.html")
async def audit(request: web.Request, s: Session, c: Console) -> Context:
    who = request.query.get("actor", "")
    found = await c.ops.call(s.token, "ListAudit", ops_pb2.ListAuditRequest(actor=who, limit=10_000))
    entries = sorted(found.entries, key=lambda e: -e.id)
    pages = max(1, (len(entries) + AUDIT_PAGE - 1) // AUDIT_PAGE)
    page = min(page_of(request), pages)
    verified = None
    if request.query.get("verify") == "1":
        verified = await c.ops.call(s.token, "VerifyAudit", ops_pb2.VerifyAuditRequest())
    return {
        "title": "Audit log",
        "entries": entries[(page - 1) * AUDIT_PAGE : page * AUDIT_PAGE],
        "actor": who,
        "page": page,
        "pages": pages,
        "verified": verified,
    }


ROUTES = [
    ("GET", "/slos", slos),
    ("GET", "/drills", drills),
    ("GET", "/drills/{drill_id}", drill),
    ("GET", "/chaos", chaos),
    ("POST", "/chaos/halt", halt),
    ("GET", "/audit", audit),
]
