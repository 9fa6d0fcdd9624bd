"""What every console handler shares: the session check, CSRF on every
form, rendering with the page frame, errors as pages."""

from __future__ import annotations

import hmac
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy
from switchman.controller.console.ops import Ops, OpsFailed
from switchman.controller.console.render import render
from switchman.controller.console.session import COOKIE, Session, Sessions
from switchman.controller.security.tokens import Role
from switchman.controller.wiring import Controller, ControllerRef

NAV = (
    ("/fleet", "Fleet"),
    ("/alerts", "Alerts"),
    ("/silences", "Silences"),
    ("/incidents", "Incidents"),
    ("/services", "Services"),
    ("/slos", "SLOs"),
    ("/drills", "Drills"),
    ("/chaos", "Chaos"),
    ("/audit", "Audit"),
    ("/query", "Query"),
)


@dataclass
class Console:
    ref: ControllerRef
    sessions: Sessions
    ops: Ops

    @property
    def core(self) -> Controller:
        return self.ref.get()


CONSOLE: web.AppKey[Console] = web.AppKey("console", Console)
Context = dict[str, Any]
View = Callable[[web.Request, Session, Console], Awaitable[Context | web.StreamResponse]]
Action = Callable[[web.Request, MultiDictProxy[Any], Session, Console], Awaitable[str]]


def console_of(request: web.Request) -> Console:
    return request.app[CONSOLE]


def session_of(request: web.Request) -> Session | None:
    c = console_of(request)
    if not c.ref.ready:
        return None
    return c.sessions.check(request.cookies.get(COOKIE), c.core.clock_ms())


def to_login(request: web.Request) -> web.Response:
    target = "/login?" + urllib.parse.urlencode({"next": request.path_qs})
    return web.Response(status=303, headers={"Location": target, "Cache-Control": "no-store"})


def html(body: str, status: int = 200) -> web.Response:
    return web.Response(
        status=status,
        text=body,
        content_type="text/html",
        charset="utf-8",
        headers={
            "Cache-Control": "no-store",
            "X-Frame-Options": "DENY",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
            "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'",
        },
    )


def frame(
    request: web.Request, s: Session, template: str, context: Mapping[str, Any], status: int = 200
) -> web.Response:
    c = console_of(request)
    full = {
        "nav": NAV,
        "path": request.path,
        "who": s.token.name,
        "role": s.token.role.value,
        "can_operate": s.token.role.allows(Role.OPERATOR),
        "csrf": s.csrf,
        "now_ms": c.core.clock_ms(),
        "query_for": lambda page: urllib.parse.urlencode({**request.query, "page": str(page)}),
        **context,
    }
    return html(render(template, full), status)


def error_page(request: web.Request, s: Session, status: int, message: str) -> web.Response:
    return frame(request, s, "error.html", {"title": f"Error {status}", "status": status, "message": message}, status)


def view(template: str) -> Callable[[View], Callable[[web.Request], Awaitable[web.StreamResponse]]]:
    """A page: its context rendered into ``template`` inside the frame."""

    def wrap(fn: View) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handler(request: web.Request) -> web.StreamResponse:
            s = session_of(request)
            if s is None:
                return to_login(request)
            try:
                got = await fn(request, s, console_of(request))
            except OpsFailed as exc:
                return error_page(request, s, exc.http_status, exc.message)
            if isinstance(got, web.StreamResponse):
                return got
            return frame(request, s, template, got)

        return handler

    return wrap


def csrf_ok(form: Mapping[str, Any], s: Session, headers: Mapping[str, str]) -> bool:
    sent = str(form.get("csrf", "") or headers.get("X-CSRF-Token", ""))
    return bool(sent) and hmac.compare_digest(sent, s.csrf)


def action(fn: Action) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """A form post: session and CSRF token checked, then the change through
    the Ops servicer (which checks the role again and audits it); then back
    to the page it names."""

    async def handler(request: web.Request) -> web.StreamResponse:
        s = session_of(request)
        if s is None:
            return web.Response(status=303, headers={"Location": "/login"})
        form = await request.post()
        if not csrf_ok(form, s, request.headers):
            return error_page(
                request, s, 403, "the form's CSRF token is missing or wrong: reload the page and try again"
            )
        try:
            location = await fn(request, form, s, console_of(request))
        except OpsFailed as exc:
            return error_page(request, s, exc.http_status, exc.message)
        return web.Response(status=303, headers={"Location": location})

    return handler


def page_of(request: web.Request) -> int:
    try:
        return max(1, int(request.query.get("page", "1")))
    except ValueError:
        return 1
