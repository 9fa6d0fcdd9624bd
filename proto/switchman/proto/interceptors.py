"""Server interceptors: run a check before a method's handler, for unary and
server-streaming methods alike."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from switchman.proto.channel import ServicerContext, peer_identity

Check = Callable[[Any, ServicerContext], Awaitable[None]]


def guard(handler: Any, check: Check) -> Any:
    """``handler`` with ``check(request, context)`` awaited first; ``check``
    aborts the call to refuse it."""
    if handler.unary_unary is not None:
        inner = handler.unary_unary

        async def unary(request: Any, context: ServicerContext) -> Any:
            await check(request, context)
            return await inner(request, context)

        return grpc.unary_unary_rpc_method_handler(
            unary, request_deserializer=handler.request_deserializer, response_serializer=handler.response_serializer
        )
    if handler.unary_stream is not None:
        inner_stream = handler.unary_stream

        async def stream(request: Any, context: ServicerContext) -> AsyncIterator[Any]:
            await check(request, context)
            async for item in inner_stream(request, context):
                yield item

        return grpc.unary_stream_rpc_method_handler(
            stream, request_deserializer=handler.request_deserializer, response_serializer=handler.response_serializer
        )
    return handler


class RequirePeer(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Methods under ``prefix`` answer only callers whose certificate name is in ``allowed``."""

    def __init__(self, prefix: str, allowed: set[str]) -> None:
        self._prefix = prefix
        self._allowed = allowed

    async def intercept_service(self, continuation: Callable[[Any], Awaitable[Any]], details: Any) -> Any:
        handler = await continuation(details)
        if handler is None or not details.method.startswith(self._prefix):
            return handler

        async def check(request: Any, context: ServicerContext) -> None:
            who = peer_identity(context)
            if who is None:
                await context.abort(
                    grpc.StatusCode.UNAUTHENTICATED, "a client certificate from the fleet CA is required"
                )
            if who not in self._allowed:
                await context.abort(grpc.StatusCode.PERMISSION_DENIED, f"certificate {who!r} may not call this service")

        return guard(handler, check)
