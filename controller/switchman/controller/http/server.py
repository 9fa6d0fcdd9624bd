"""The HTTP server on ``http_listen``: aiohttp in the controller's event
loop, TLS with the controller's certificate. The API takes the Ops tokens
(Bearer, or HTTP basic auth with the token as the password); the web
console beside it has its own login and session cookie."""

from __future__ import annotations

import base64
import binascii
import logging
import ssl
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

from aiohttp import web
from switchman.controller.console.app import add_console
from switchman.controller.http import promapi, status
from switchman.controller.http.context import REF
from switchman.controller.http.encode import error
from switchman.controller.security.tokens import Role
from switchman.controller.wiring import ControllerRef
from switchman.proto.channel import split_host_port

log = logging.getLogger(__name__)

OPEN_PATHS = frozenset({"/-/healthy", "/-/ready"})
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_error(status_code: int, error_type: str, message: str, **headers: str) -> web.Response:
    return web.Response(
        status=status_code, text=error(error_type, message), content_type="application/json", headers=headers
    )


def token_of(headers: Mapping[str, str]) -> str | None:
    """The secret from ``Authorization: Bearer T`` or basic auth's password."""
    header = headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2] or None
    return None


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path in OPEN_PATHS or not request.path.startswith("/api/"):
        return await handler(request)  # the console's pages check their session themselves
    ref = request.app[REF]
    if not ref.ready:
        return json_error(503, "unavailable", "controller is starting (running migrations)")
    secret = token_of(request.headers)
    challenge = {"WWW-Authenticate": 'Basic realm="switchman"'}
    if secret is None:
        return json_error(401, "unauthorized", "no token: send 'Authorization: Bearer <token>'", **challenge)
    rec = ref.get().tokens.authenticate(secret)
    if rec is None:
        return json_error(401, "unauthorized", "unknown or revoked token", **challenge)
    if not rec.role.allows(Role.VIEWER):
        return json_error(403, "forbidden", f"token {rec.name!r} may not read")
    return await handler(request)


async def healthy(request: web.Request) -> web.Response:
    return web.Response(text="Switchman controller is Healthy.\n")


async def ready(request: web.Request) -> web.Response:
    if request.app[REF].ready:
        return web.Response(text="Switchman controller is Ready.\n")
    return web.Response(status=503, text="Service Unavailable")


def make_app(ref: ControllerRef, data_dir: Path | None = None, features: list[str] | None = None) -> web.Application:
    app = web.Application(middlewares=[authenticate], client_max_size=16 * 1024 * 1024)
    app[REF] = ref
    add_console(app, ref, data_dir, features or [])
    app.router.add_get("/-/healthy", healthy)
    app.router.add_get("/-/ready", ready)
    for path, handler in (*promapi.ROUTES, *status.ROUTES):
        app.router.add_route("GET", path, handler)
        app.router.add_route("POST", path, handler)
    return app


class HttpServer:
    """Started after the store opens, stopped before it closes."""

    def __init__(
        self,
        ref: ControllerRef,
        listen: str,
        tls_dir: str | None,
        data_dir: Path | None = None,
        features: list[str] | None = None,
    ) -> None:
        self._ref = ref
        self._data_dir = data_dir
        self._features = features or []
        self._listen = listen
        self._tls_dir = tls_dir
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> int:
        host, port = split_host_port(self._listen)
        context = None
        if self._tls_dir:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(Path(self._tls_dir) / "cert.pem", Path(self._tls_dir) / "key.pem")
        self._runner = web.AppRunner(
            make_app(self._ref, self._data_dir, self._features), access_log=None, handle_signals=False
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, ssl_context=context, reuse_address=True)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = int(sockets[0].getsockname()[1]) if sockets else port
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
