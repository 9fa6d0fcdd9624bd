"""Incidents: the list, one incident with its timeline and postmortem
skeleton, and its actions (ack, resolve, close, note)."""

from __future__ import annotations

from typing import Any

import grpc
from aiohttp import web
from multidict import MultiDictProxy
from switchman.controller.console.ops import OpsFailed
from switchman.controller.console.session import Session
from switchman.controller.console.web import Console, Context, action, view
from switchman.proto.v1 import ops_pb2

ACTIONS = {"ack": "AckIncident", "resolve": "ResolveIncident", "close": "CloseIncident", "note": "AddIncidentNote"}


def _id(request: web.Request) -> int:
    try:
        return int(request.match_info["incident_id"])
    except ValueError:
        raise OpsFailed(grpc.StatusCode.NOT_FOUND, f"no incident {request.match_info['incident_id']!r}") from None


@view("incidents.html")
async def incidents(request: web.Request, s: Session, c: Console) -> Context:
    everything = request.query.get("all") == "1"
    found = await c.ops.call(s.token, "ListIncidents", ops_pb2.ListIncidentsRequest(all=everything))
    return {"title": "Incidents", "incidents": sorted(found.incidents, key=lambda i: -i.id), "all": everything}


@view("incident.html")
async def incident(request: web.Request, s: Session, c: Console) -> Context:
    incident_id = _id(request)
    found = await c.ops.call(s.token, "GetIncident", ops_pb2.GetIncidentRequest(id=incident_id))
    postmortem = await c.ops.call(s.token, "IncidentPostmortem", ops_pb2.GetIncidentRequest(id=incident_id))
    return {"title": f"Incident {incident_id}", "incident": found, "postmortem": postmortem.content}


@action
async def incident_action(request: web.Request, form: MultiDictProxy[Any], s: Session, c: Console) -> str:
    incident_id = _id(request)
    method = ACTIONS.get(request.match_info["verb"])
    if method is None:
        raise OpsFailed(grpc.StatusCode.NOT_FOUND, f"no incident action {request.match_info['verb']!r}")
    note = str(form.get("note", ""))
    await c.ops.call(s.token, method, ops_pb2.IncidentActionRequest(id=incident_id, note=note))
    return f"/incidents/{incident_id}"


ROUTES = [
    ("GET", "/incidents", incidents),
    ("GET", "/incidents/{incident_id}", incident),
    ("POST", "/incidents/{incident_id}/{verb}", incident_action),
]
