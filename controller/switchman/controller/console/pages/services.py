"""Services with their spec history and hosts, and their rollouts: the
latest one updating live (server-sent events from the rollout watch) with
promote, pause, resume, abort and rollback."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncGenerator
from typing import Any

import grpc
from aiohttp import web
from multidict import MultiDictProxy
from switchman.controller.console.ops import OpsFailed
from switchman.controller.console.session import Session
from switchman.controller.console.web import Console, Context, action, console_of, session_of, view
from switchman.proto.v1 import ops_pb2

ROLLOUT_ACTIONS = {
    "promote": "PromoteRollout",
    "pause": "PauseRollout",
    "resume": "ResumeRollout",
    "abort": "AbortRollout",
}
TERMINAL = frozenset({"succeeded", "failed", "rolled_back", "aborted"})
NEW_ROLLOUT_POLL_S = 0.25
KEEPALIVE_S = 15.0


def rollout_doc(r: ops_pb2.Rollout) -> dict[str, Any]:
    """What the page's script draws: the rollout, its hosts by batch, its analysis."""
    return {
        "id": r.id,
        "service": r.service,
        "version": r.version,
        "from_version": r.from_version,
        "state": r.state,
        "batches": r.batches,
        "current_batch": r.current_batch,
        "message": r.message,
        "terminal": r.state in TERMINAL,
        "hosts": [{"host_id": h.host_id, "state": h.state, "batch": h.batch, "message": h.message} for h in r.hosts],
        "analysis": [{"name": a.name, "verdict": a.verdict, "value": a.value} for a in r.analysis],
    }


@view("services.html")
async def services(request: web.Request, s: Session, c: Console) -> Context:
    found = await c.ops.call(s.token, "ListServices", ops_pb2.ListServicesRequest())
    active = await c.ops.call(s.token, "ListRollouts", ops_pb2.ListRolloutsRequest(active_only=True, limit=100))
    return {"title": "Services", "services": found.services, "active": {r.service: r for r in active.rollouts}}


async def _latest(c: Console, s: Session, service: str) -> ops_pb2.Rollout | None:
    found = await c.ops.call(s.token, "ListRollouts", ops_pb2.ListRolloutsRequest(service=service, limit=1))
    return found.rollouts[0] if found.rollouts else None


@view("service.html")
async def service(request: web.Request, s: Session, c: Console) -> Context:
    name = request.match_info["name"]
    found = await c.ops.call(s.token, "GetService", ops_pb2.GetServiceRequest(name=name, history=True))
    rollouts = await c.ops.call(s.token, "ListRollouts", ops_pb2.ListRolloutsRequest(service=name, limit=20))
    latest = rollouts.rollouts[0] if rollouts.rollouts else None
    return {
        "title": f"Service {name}",
        "service": found,
        "rollouts": rollouts.rollouts,
        "rollout": latest,
        "events": f"/services/{name}/events",
    }


@view("rollout.html")
async def rollout(request: web.Request, s: Session, c: Console) -> Context:
    rollout_id = _rollout_id(request)
    found = await c.ops.call(s.token, "GetRollout", ops_pb2.GetRolloutRequest(id=rollout_id))
    return {"title": f"Rollout {rollout_id}", "rollout": found, "events": f"/rollouts/{rollout_id}/events"}


def _rollout_id(request: web.Request) -> int:
    try:
        return int(request.match_info["rollout_id"])
    except ValueError:
        raise OpsFailed(grpc.StatusCode.NOT_FOUND, f"no rollout {request.match_info['rollout_id']!r}") from None


async def _follow(c: Console, s: Session, service: str, rollout_id: int) -> AsyncGenerator[ops_pb2.Rollout, None]:
    """One rollout's changes; with a service, then each newer rollout of it as it starts."""
    last = 0
    while True:
        if service:
            latest = await _latest(c, s, service)
            if latest is None or latest.id <= last:
                await asyncio.sleep(NEW_ROLLOUT_POLL_S)
                continue
            rollout_id = latest.id
        async for r in c.ops.stream(s.token, "WatchRollout", ops_pb2.GetRolloutRequest(id=rollout_id)):
            yield r
        if not service:
            return
        last = rollout_id


async def _events(request: web.Request, service: str, rollout_id: int) -> web.StreamResponse:
    s = session_of(request)
    if s is None:
        return web.Response(status=401, text="log in first")
    c = console_of(request)
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )
    await response.prepare(request)
    changes = _follow(c, s, service, rollout_id)
    try:
        while True:
            try:
                r = await asyncio.wait_for(anext(changes), KEEPALIVE_S)
            except TimeoutError:
                await response.write(b": keepalive\n\n")
                continue
            except StopAsyncIteration:
                break
            await response.write(f"event: rollout\ndata: {json.dumps(rollout_doc(r))}\n\n".encode())
    except (ConnectionResetError, OpsFailed):
        pass
    finally:
        with contextlib.suppress(Exception):
            await changes.aclose()
    return response


async def service_events(request: web.Request) -> web.StreamResponse:
    return await _events(request, request.match_info["name"], 0)


async def rollout_events(request: web.Request) -> web.StreamResponse:
    return await _events(request, "", _rollout_id(request))


@action
async def rollout_action(request: web.Request, form: MultiDictProxy[Any], s: Session, c: Console) -> str:
    rollout_id = _rollout_id(request)
    method = ROLLOUT_ACTIONS.get(request.match_info["verb"])
    if method is None:
        raise OpsFailed(grpc.StatusCode.NOT_FOUND, f"no rollout action {request.match_info['verb']!r}")
    reason = str(form.get("reason", "")) or f"from the console by {s.token.name}"
    await c.ops.call(s.token, method, ops_pb2.RolloutActionRequest(id=rollout_id, reason=reason))
    back = str(form.get("back", ""))
    return back if back.startswith("/") and not back.startswith("//") else f"/rollouts/{rollout_id}"


@action
async def rollback(request: web.Request, form: MultiDictProxy[Any], s: Session, c: Console) -> str:
    name = request.match_info["name"]
    await c.ops.call(s.token, "RollbackService", ops_pb2.RollbackServiceRequest(service=name))
    return f"/services/{name}"


ROUTES = [
    ("GET", "/services", services),
    ("GET", "/services/{name}", service),
    ("GET", "/services/{name}/events", service_events),
    ("POST", "/services/{name}/rollback", rollback),
    ("GET", "/rollouts/{rollout_id}", rollout),
    ("GET", "/rollouts/{rollout_id}/events", rollout_events),
    ("POST", "/rollouts/{rollout_id}/{verb}", rollout_action),
]
