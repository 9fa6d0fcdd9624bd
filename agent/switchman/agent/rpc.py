"""What every Agent servicer method shares: the agent's errors become status
codes here and nowhere else (the tree is drawn in :mod:`switchman.agent.errors`)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from switchman.agent.errors import AgentError
from switchman.proto.channel import ServicerContext
from switchman.proto.probes import ProbeError
from switchman.proto.services import SpecError
from switchman.proto.validate import ValidationError

Req = TypeVar("Req")
Resp = TypeVar("Resp")

#: What a method may raise for its caller to see: anything else is a bug,
#: left to gRPC (logged, UNKNOWN).
MAPPED = (AgentError, ProbeError, SpecError, ValidationError)


def status_for(exc: BaseException) -> grpc.StatusCode:
    """The status code a caller sees for ``exc``."""
    if isinstance(exc, AgentError):
        return exc.code
    if isinstance(exc, ProbeError | SpecError | ValidationError):
        return grpc.StatusCode.INVALID_ARGUMENT
    return grpc.StatusCode.UNKNOWN


def rpc(
    fn: Callable[[Any, Req, ServicerContext], Awaitable[Resp]],
) -> Callable[[Any, Req, ServicerContext], Awaitable[Resp]]:
    """Abort the call with the status of the agent error it raised."""

    @functools.wraps(fn)
    async def wrapper(self: Any, request: Req, context: ServicerContext) -> Resp:
        try:
            return await fn(self, request, context)
        except MAPPED as exc:
            await context.abort(status_for(exc), str(exc))
            raise  # abort raised already: this line only tells the type checker

    return wrapper
