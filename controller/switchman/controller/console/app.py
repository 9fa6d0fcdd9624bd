"""The console's routes on the HTTP server: login and logout, the pages,
the static script and style."""

from __future__ import annotations

import hmac
import logging
import secrets
from importlib import resources
from pathlib import Path

from aiohttp import web
from switchman.controller.console.ops import Ops
from switchman.controller.console.pages import alerts, fleet, incidents, operations, query, services
from switchman.controller.console.render import render
from switchman.controller.console.session import COOKIE, Sessions, load_key
from switchman.controller.console.web import CONSOLE, Console, console_of, html, session_of
from switchman.controller.wiring import ControllerRef

LOGIN_CSRF = "switchman_login"
log = logging.getLogger(__name__)
KEY_FILE = "console.key"
ENDED_FILE = "console.ended"  # sessions logged out, until they would have expired
STATIC = {"console.js": "application/javascript", "console.css": "text/css", "favicon.svg": "image/svg+xml"}


def _safe_next(target: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") else "/fleet"


def _login_page(request: web.Request, message: str = "", status: int = 200) -> web.Response:
    nonce = request.cookies.get(LOGIN_CSRF) or secrets.token_urlsafe(16)
    page = render(
        "login.html", {"message": message, "csrf": nonce, "next": _safe_next(request.query.get("next", "/fleet"))}
    )
    response = html(page, status)
    response.set_cookie(LOGIN_CSRF, nonce, httponly=True, samesite="Strict", secure=request.secure, path="/login")
    return response


async def login_form(request: web.Request) -> web.Response:
    if session_of(request) is not None:
        raise web.HTTPSeeOther(_safe_next(request.query.get("next", "/fleet")))
    return _login_page(request)


async def login(request: web.Request) -> web.Response:
    c = console_of(request)
    form = await request.post()
    sent, expected = str(form.get("csrf", "")), request.cookies.get(LOGIN_CSRF, "")
    if not expected or not hmac.compare_digest(sent, expected):
        return _login_page(request, "The form expired: try again.", 403)
    if not c.ref.ready:
        return _login_page(request, "The controller is starting: try again in a moment.", 503)
    opened = c.sessions.open(str(form.get("token", "")).strip(), c.core.clock_ms())
    if opened is None:
        return _login_page(request, "Unknown or revoked token.", 401)
    cookie, _ = opened
    response = web.Response(status=303, headers={"Location": _safe_next(str(form.get("next", "/fleet")))})
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=c.sessions.ttl_ms // 1000,
        httponly=True,
        samesite="Strict",
        secure=request.secure,
        path="/",
    )
    response.del_cookie(LOGIN_CSRF, path="/login")
    return response


async def logout(request: web.Request) -> web.Response:
    s = session_of(request)
    form = await request.post()
    response = web.Response(status=303, headers={"Location": "/login"})
    if s is not None and hmac.compare_digest(str(form.get("csrf", "")), s.csrf):
        try:
            console_of(request).sessions.end(s, console_of(request).core.clock_ms())
        except OSError as exc:  # ended in memory; a restart would bring the cookie back
            log.error("logout: could not write the ended session: %s", exc)
        response.del_cookie(COOKIE, path="/")
    return response


async def root(request: web.Request) -> web.Response:
    raise web.HTTPSeeOther("/fleet")


async def static(request: web.Request) -> web.Response:
    name = request.match_info.get("name", "favicon.svg")
    if name not in STATIC:
        raise web.HTTPNotFound()
    body = resources.files("switchman.controller.console").joinpath("static", name).read_bytes()
    return web.Response(body=body, content_type=STATIC[name], headers={"Cache-Control": "max-age=300"})


def add_console(app: web.Application, ref: ControllerRef, state_dir: Path | None, features: list[str]) -> None:
    """Mount the console on ``app``; sessions are signed with a key kept in the state directory."""
    key = load_key(state_dir / KEY_FILE) if state_dir is not None else secrets.token_bytes(32)
    ended = state_dir / ENDED_FILE if state_dir is not None else None
    app[CONSOLE] = Console(ref, Sessions(key, lambda: ref.get().tokens, ended_file=ended), Ops(ref, features))
    app.router.add_get("/", root)
    app.router.add_get("/login", login_form)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    app.router.add_get("/static/{name}", static)
    app.router.add_get("/favicon.ico", static)
    for module in (fleet, alerts, incidents, services, operations, query):
        for method, path, handler in module.ROUTES:
            app.router.add_route(method, path, handler)
