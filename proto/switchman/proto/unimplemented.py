"""Answer every RPC a servicer does not implement with ``UNIMPLEMENTED`` and a
message that says so plainly, never a fake result."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from google.protobuf.descriptor import ServiceDescriptor
from switchman.proto.channel import ServicerContext


def fill_unimplemented(servicer: object, service: ServiceDescriptor, base: type, component: str) -> None:
    """For each method of ``service`` that ``servicer``'s class does not
    override from the generated ``base``, install a handler that aborts with
    ``UNIMPLEMENTED: <component> does not implement <Service>.<Method> yet``."""
    for method in service.methods:
        impl = getattr(type(servicer), method.name, None)
        if impl is None or impl is getattr(base, method.name, None):
            message = f"{component} does not implement {service.name}.{method.name} yet"
            handler = _stream_aborter(message) if method.server_streaming else _aborter(message)
            setattr(servicer, method.name, handler)


def _aborter(message: str) -> Callable[[Any, ServicerContext], Awaitable[None]]:
    async def handler(request: Any, context: ServicerContext) -> None:
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, message)

    return handler


def _stream_aborter(message: str) -> Callable[[Any, ServicerContext], AsyncIterator[Any]]:
    async def handler(request: Any, context: ServicerContext) -> AsyncIterator[Any]:
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, message)
        yield  # pragma: no cover - makes this an async generator, as streaming handlers are

    return handler
