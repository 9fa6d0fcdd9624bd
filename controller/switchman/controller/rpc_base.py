"""What every servicer method shares: refuse calls until the store is open,
map the controller's exceptions to status codes in one place, audit
mutating Ops calls."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from google.protobuf.json_format import MessageToDict
from switchman.controller.errors import (
    Conflict,
    ControllerError,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    Unavailable,
)
from switchman.controller.promql import PromQLError
from switchman.controller.security.auth import actor, required_role
from switchman.controller.security.tokens import Role
from switchman.controller.store.abc import StoreFull
from switchman.controller.wiring import Controller, ControllerRef
from switchman.proto.channel import ServicerContext
from switchman.proto.validate import ValidationError

log = logging.getLogger(__name__)

Ctx = ServicerContext
Req = TypeVar("Req")
Resp = TypeVar("Resp")

_STATUS = {
    InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    NotFound: grpc.StatusCode.NOT_FOUND,
    Conflict: grpc.StatusCode.FAILED_PRECONDITION,
    Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    Unavailable: grpc.StatusCode.UNAVAILABLE,
    StoreFull: grpc.StatusCode.RESOURCE_EXHAUSTED,
}


def status_for(exc: BaseException) -> grpc.StatusCode:
    """The one place exceptions become gRPC status codes."""
    for cls, code in _STATUS.items():
        if isinstance(exc, cls):
            return code
    if isinstance(exc, PromQLError | ValidationError):
        return grpc.StatusCode.INVALID_ARGUMENT
    return grpc.StatusCode.INTERNAL


def rpc(fn: Callable[[Any, Req, Ctx], Awaitable[Resp]]) -> Callable[[Any, Req, Ctx], Awaitable[Resp]]:
    """Refuse calls until the store is open; map errors; never let a peer's
    request crash the daemon."""

    audited = required_role(fn.__name__) is not Role.VIEWER

    @functools.wraps(fn)
    async def wrapper(self: Any, request: Req, context: Ctx) -> Resp:
        if not self.ref.ready:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "controller is starting (running migrations)")
        record = audited and getattr(self, "audits_calls", False)
        try:
            response = await fn(self, request, context)
        except grpc.aio.AbortError:
            raise
        except (ControllerError, PromQLError, ValidationError, StoreFull) as exc:
            if record:
                await audit_call(self.core, fn.__name__, request, f"error: {status_for(exc).name}: {exc}")
            await context.abort(status_for(exc), str(exc))
        except Exception:
            log.exception("%s failed", fn.__name__)
            if record:
                await audit_call(self.core, fn.__name__, request, "error: INTERNAL")
            await context.abort(grpc.StatusCode.INTERNAL, f"internal error in {fn.__name__}; see the controller log")
        if record:
            await audit_call(self.core, fn.__name__, request, "ok", response)
        return response

    return wrapper


class BoundServicer:
    """A servicer that answers from the controller once it is built (``ref``);
    :func:`rpc` refuses calls until then."""

    ref: ControllerRef

    @property
    def core(self) -> Controller:
        return self.ref.get()


TARGET_FIELDS = ("name", "host_id", "service", "id")


def _target(message: Any, fields: tuple[str, ...]) -> str:
    present = {f.name for f, _ in message.ListFields()}
    return next((str(getattr(message, f)) for f in fields if f in present), "")


def audit_target(request: Any, response: Any = None) -> str:
    """What a call acted on: a field of the request naming it; else what the
    call made (an applied service's name, a drill's id); else the file sent."""
    target = _target(request, TARGET_FIELDS)
    if not target and response is not None and hasattr(response, "ListFields"):
        target = _target(response, ("name", "id"))
    return target or _target(request, ("file_name",))


async def audit_call(core: Controller, method: str, request: Any, result: str, response: Any = None) -> None:
    """Append the call to the audit log: who (token name), what, on what, with which arguments, how it ended."""
    arguments = json.dumps(
        MessageToDict(request, preserving_proto_field_name=True), sort_keys=True, separators=(",", ":")
    )
    target = audit_target(request, response)
    await core.audit.append(core.clock_ms(), actor.get() or "unknown", method, target, arguments, result[:1000])
