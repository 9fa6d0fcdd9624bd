"""The fleet (paged, filtered by label and state) and one host."""

from __future__ import annotations

from aiohttp import web
from switchman.controller.console.charts import lines_of, svg
from switchman.controller.console.data import HOST_CHARTS, ranged, vitals
from switchman.controller.console.session import Session
from switchman.controller.console.web import Console, Context, page_of, view
from switchman.controller.promql import PromQLError
from switchman.controller.views import host_summary, select_hosts
from switchman.proto.v1 import ops_pb2

PAGE_SIZE = 50


def parse_selector(text: str) -> dict[str, str]:
    """``role=web, zone=a`` -> {role: web, zone: a}; pieces without ``=`` are ignored."""
    out = {}
    for piece in text.split(","):
        key, sep, value = piece.partition("=")
        if sep and key.strip():
            out[key.strip()] = value.strip()
    return out


@view("fleet.html")
async def fleet(request: web.Request, s: Session, c: Console) -> Context:
    selector_text = request.query.get("selector", "")
    state = request.query.get("state", "")
    if state not in ("", "up", "down"):
        state = ""
    core = c.core
    now = core.clock_ms()
    await c.ops.allow(s.token, "ListHosts", ops_pb2.ListHostsRequest())
    hosts = select_hosts(core, parse_selector(selector_text), state, now)  # only the shown page becomes messages
    pages = max(1, (len(hosts) + PAGE_SIZE - 1) // PAGE_SIZE)
    page = min(page_of(request), pages)
    shown = [host_summary(core, h, now) for h in hosts[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]]
    status = await c.ops.call(s.token, "GetStatus", ops_pb2.GetStatusRequest())
    return {
        "title": "Fleet",
        "hosts": shown,
        "total": len(hosts),
        "status": status,
        "vitals": await vitals(c.core, [h.host_id for h in shown]),
        "selector": selector_text,
        "state": state,
        "page": page,
        "pages": pages,
    }


@view("host.html")
async def host(request: web.Request, s: Session, c: Console) -> Context:
    host_id = request.match_info["host_id"]
    detail = await c.ops.call(s.token, "GetHost", ops_pb2.GetHostRequest(host_id=host_id))
    faults = await c.ops.call(s.token, "ListFaults", ops_pb2.OpsListFaultsRequest(host_id=host_id))
    window = 1800
    charts = []
    for title, template in HOST_CHARTS:
        try:
            found = await ranged(c.core, template.format(host=host_id.replace('"', '\\"')), window)
        except PromQLError:
            found = []
        charts.append(svg(title, lines_of(found)))
    return {"title": f"Host {host_id}", "detail": detail, "faults": faults.faults, "charts": charts}


ROUTES = [("GET", "/fleet", fleet), ("GET", "/hosts/{host_id}", host)]
