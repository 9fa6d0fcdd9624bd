"""What every HTTP handler reads: the controller the server was started with."""

from __future__ import annotations

from aiohttp import web
from switchman.controller.wiring import Controller, ControllerRef

REF: web.AppKey[ControllerRef] = web.AppKey("ref", ControllerRef)


def controller(request: web.Request) -> Controller:
    """:raises Unavailable: while the controller starts (the auth middleware answers 503 first)."""
    return request.app[REF].get()
