"""Console actions go through the Ops servicer in-process, as a CLI call
would: the same role check (refused attempts audited), the same validation,
the same audit entry under the token's name."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, NoReturn

import grpc
from switchman.controller.rpc_base import audit_call
from switchman.controller.security.auth import actor, required_role
from switchman.controller.server import OpsServicer
from switchman.controller.wiring import ControllerRef


class OpsFailed(grpc.aio.AbortError):  # type: ignore[misc]
    """An Ops call ended with a status other than OK (an abort, as the servicer's wrapper expects)."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    @property
    def http_status(self) -> int:
        return {
            grpc.StatusCode.INVALID_ARGUMENT: 400,
            grpc.StatusCode.NOT_FOUND: 404,
            grpc.StatusCode.FAILED_PRECONDITION: 409,
            grpc.StatusCode.PERMISSION_DENIED: 403,
            grpc.StatusCode.UNAUTHENTICATED: 401,
            grpc.StatusCode.UNAVAILABLE: 503,
        }.get(self.code, 500)


class _Context:
    """What the servicer's methods use of a gRPC context, for an in-process call."""

    def __init__(self) -> None:
        self._active = True

    async def abort(self, code: grpc.StatusCode, details: str = "") -> NoReturn:
        raise OpsFailed(code, details)

    def is_active(self) -> bool:
        return self._active

    def peer(self) -> str:
        return "console"

    def invocation_metadata(self) -> tuple[()]:
        return ()

    def auth_context(self) -> dict[str, list[bytes]]:
        return {}

    def set_code(self, code: grpc.StatusCode) -> None:
        return None

    def set_details(self, details: str) -> None:
        return None

    def cancel(self) -> None:
        self._active = False


class Ops:
    def __init__(self, ref: ControllerRef, features: list[str]) -> None:
        self._ref = ref
        self._servicer = OpsServicer(ref, features)

    async def allow(self, who: Any, method: str, request: Any) -> None:
        """The role check of ``method`` alone, for a page that reads the controller directly. :raises OpsFailed:"""
        await self._allow(who, method, request)

    async def _allow(self, who: Any, method: str, request: Any) -> None:
        actor.set(who.name)
        needed = required_role(method)
        if not who.role.allows(needed):
            message = f"token {who.name!r} has role {who.role.value}; {method} needs {needed.value}"
            await audit_call(self._ref.get(), method, request, f"denied: {message}")
            raise OpsFailed(grpc.StatusCode.PERMISSION_DENIED, message)

    async def call(self, who: Any, method: str, request: Any) -> Any:
        """:raises OpsFailed:"""
        await self._allow(who, method, request)
        return await getattr(self._servicer, method)(request, _Context())

    async def stream(self, who: Any, method: str, request: Any) -> AsyncIterator[Any]:
        """A server-streaming call's messages. :raises OpsFailed:"""
        await self._allow(who, method, request)
        async for message in getattr(self._servicer, method)(request, _Context()):
            yield message
