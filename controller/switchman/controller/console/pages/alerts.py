"""Alerts (silence one from the page) and silences (create, expire)."""

from __future__ import annotations

import json
import time
from typing import Any

import grpc
from aiohttp import web
from multidict import MultiDictProxy
from switchman.controller.console.ops import OpsFailed
from switchman.controller.console.session import Session
from switchman.controller.console.web import Console, Context, action, page_of, view
from switchman.controller.notify.matchers import MatcherError, parse_matcher
from switchman.controller.views import alert_messages, select_alerts
from switchman.proto.durations import parse_duration_ms
from switchman.proto.v1 import ops_pb2

ALERTS_PAGE = 100


def matcher_lines(labels: dict[str, str]) -> str:
    """The silence form's matchers for an alert: every label, as an exact match."""
    return "\n".join(f"{k}={json.dumps(v)}" for k, v in sorted(labels.items()))


@view("alerts.html")
async def alerts(request: web.Request, s: Session, c: Console) -> Context:
    await c.ops.allow(s.token, "ListAlerts", ops_pb2.ListAlertsRequest())
    found = [a for a in select_alerts(c.core, "", {}) if a.state.value in ("firing", "pending")]
    shown = sorted(found, key=lambda a: a.state.value != "firing")  # firing first; only the page becomes messages
    pages = max(1, (len(shown) + ALERTS_PAGE - 1) // ALERTS_PAGE)
    page = min(page_of(request), pages)
    return {
        "title": "Alerts",
        "alerts": alert_messages(c.core, shown[(page - 1) * ALERTS_PAGE : page * ALERTS_PAGE], c.core.clock_ms()),
        "firing": sum(1 for a in shown if a.state.value == "firing"),
        "pending": sum(1 for a in shown if a.state.value == "pending"),
        "page": page,
        "pages": pages,
        "matchers": matcher_lines,
    }


@view("silences.html")
async def silences(request: web.Request, s: Session, c: Console) -> Context:
    found = await c.ops.call(s.token, "ListSilences", ops_pb2.ListSilencesRequest(include_expired=True))
    return {
        "title": "Silences",
        "silences": sorted(found.silences, key=lambda x: (x.state != "active", -x.ends_at_ms)),
        "prefill": request.query.get("matchers", ""),
    }


def _matchers(text: str) -> list[ops_pb2.Matcher]:
    out = []
    for line in text.splitlines():
        if line.strip():
            try:
                m = parse_matcher(line.strip())
            except MatcherError as exc:
                raise OpsFailed(grpc.StatusCode.INVALID_ARGUMENT, str(exc)) from None
            out.append(ops_pb2.Matcher(name=m.name, op=str(m.op), value=m.value))
    return out


@action
async def add_silence(request: web.Request, form: MultiDictProxy[Any], s: Session, c: Console) -> str:
    try:
        duration = parse_duration_ms(str(form.get("duration", "2h")))
    except ValueError as exc:
        raise OpsFailed(grpc.StatusCode.INVALID_ARGUMENT, f"duration: {exc}") from None
    start = int(time.time() * 1000)
    await c.ops.call(
        s.token,
        "AddSilence",
        ops_pb2.AddSilenceRequest(
            matchers=_matchers(str(form.get("matchers", ""))),
            starts_at_ms=start,
            ends_at_ms=start + duration,
            comment=str(form.get("comment", "")),
            author=s.token.name,
        ),
    )
    return "/silences"


@action
async def expire_silence(request: web.Request, form: MultiDictProxy[Any], s: Session, c: Console) -> str:
    await c.ops.call(s.token, "ExpireSilence", ops_pb2.ExpireSilenceRequest(id=request.match_info["silence_id"]))
    return "/silences"


ROUTES = [
    ("GET", "/alerts", alerts),
    ("GET", "/silences", silences),
    ("POST", "/silences", add_silence),
    ("POST", "/silences/{silence_id}/expire", expire_silence),
]
