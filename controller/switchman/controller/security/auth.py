"""Bearer-token authentication and role checks for the Ops service, in one
interceptor. The caller's name is available to handlers via :data:`actor`."""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from switchman.controller.security.tokens import Role, TokenStore
from switchman.proto.channel import ServicerContext
from switchman.proto.interceptors import guard

OPS_PREFIX = "/switchman.v1.Ops/"

actor: contextvars.ContextVar[str] = contextvars.ContextVar("actor", default="")

OPERATOR_METHODS = frozenset(
    {
        "AckIncident",
        "ResolveIncident",
        "CloseIncident",
        "AddIncidentNote",
        "AddSilence",
        "ExpireSilence",
        "SwitchHost",
        "StopService",
        "StartRollout",
        "PromoteRollout",
        "AbortRollout",
        "PauseRollout",
        "ResumeRollout",
        "RollbackService",
        "InjectFault",
        "HaltFaults",
        "RunDrill",
    }
)
ADMIN_METHODS = frozenset({"ApplyService", "RemoveService", "CreateToken", "ListTokens", "RevokeToken", "Backup"})
VIEWER_METHODS = frozenset(
    {
        "GetStatus",
        "ListHosts",
        "GetHost",
        "Query",
        "QueryRange",
        "ListAlerts",
        "ListRules",
        "ListSilences",
        "ListIncidents",
        "GetIncident",
        "IncidentReport",
        "IncidentPostmortem",
        "ListSLOs",
        "SLOReport",
        "GetService",
        "ListServices",
        "GetRollout",
        "ListRollouts",
        "WatchRollout",
        "ListFaults",
        "ListDrills",
        "GetDrill",
        "DrillReport",
        "ListAudit",
        "VerifyAudit",
    }
)


def required_role(method: str) -> Role:
    if method in VIEWER_METHODS:
        return Role.VIEWER
    if method in OPERATOR_METHODS:
        return Role.OPERATOR
    return Role.ADMIN  # anything new defaults to the strictest role


class AuthInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    def __init__(
        self,
        tokens: Callable[[], TokenStore | None],
        on_denied: Callable[[str, Any, str], Awaitable[None]] | None = None,
    ) -> None:
        """``tokens`` returns the token store, or None while the controller is
        still opening its database. ``on_denied(method, request, message)`` is
        awaited (with :data:`actor` set) when a known token is refused a change,
        so the attempt is audited."""
        self._tokens = tokens
        self._on_denied = on_denied

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        method: str = details.method
        if handler is None or not method.startswith(OPS_PREFIX):
            return handler
        name = method[len(OPS_PREFIX) :]
        code, message, who = self._check(details, name)
        on_denied = self._on_denied if code is grpc.StatusCode.PERMISSION_DENIED else None

        async def check(request: Any, context: ServicerContext) -> None:
            actor.set(who)
            if on_denied is not None:
                await on_denied(name, request, message)
            if code is not None:
                await context.abort(code, message)

        return guard(handler, check)

    def _check(self, details: grpc.HandlerCallDetails, method: str) -> tuple[grpc.StatusCode | None, str, str]:
        metadata = dict(details.invocation_metadata or ())
        header = str(metadata.get("authorization", ""))
        if not header:
            return grpc.StatusCode.UNAUTHENTICATED, "no token: pass --token, --token-file or SWITCHMAN_TOKEN", ""
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret:
            return grpc.StatusCode.UNAUTHENTICATED, "authorization metadata must be 'Bearer <token>'", ""
        store = self._tokens()
        if store is None:
            return grpc.StatusCode.UNAVAILABLE, "controller is starting (running migrations)", ""
        rec = store.authenticate(secret.strip())
        if rec is None:
            return grpc.StatusCode.UNAUTHENTICATED, "unknown or revoked token", ""
        needed = required_role(method)
        if not rec.role.allows(needed):
            return (
                grpc.StatusCode.PERMISSION_DENIED,
                f"token {rec.name!r} has role {rec.role.value}; {method} needs {needed.value}",
                rec.name,
            )
        return None, "", rec.name
