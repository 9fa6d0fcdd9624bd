"""The Ops rollout methods, mixed into the Ops servicer."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from switchman.controller.errors import ControllerError
from switchman.controller.rollouts.executor import RolloutManager
from switchman.controller.rollouts.views import options_from_proto, rollout_message
from switchman.controller.rpc_base import BoundServicer, Ctx, rpc, status_for
from switchman.controller.security.auth import actor
from switchman.proto.v1 import ops_pb2


class RolloutRpcs(BoundServicer):
    def _manager(self) -> RolloutManager:
        return self.core.rollouts

    @rpc
    async def StartRollout(self, request: ops_pb2.StartRolloutRequest, context: Ctx) -> ops_pb2.Rollout:
        opts = options_from_proto(request.options)
        r = await self._manager().start(request.service, request.version, opts, actor.get())
        return rollout_message(r)

    @rpc
    async def GetRollout(self, request: ops_pb2.GetRolloutRequest, context: Ctx) -> ops_pb2.Rollout:
        return rollout_message(await self._manager().get(request.id))

    @rpc
    async def ListRollouts(self, request: ops_pb2.ListRolloutsRequest, context: Ctx) -> ops_pb2.ListRolloutsResponse:
        found = await self._manager().find(request.service, request.active_only, request.limit)
        return ops_pb2.ListRolloutsResponse(rollouts=[rollout_message(r) for r in found])

    async def WatchRollout(self, request: ops_pb2.GetRolloutRequest, context: Ctx) -> AsyncIterator[ops_pb2.Rollout]:
        if not self.ref.ready:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "controller is starting (running migrations)")
        try:
            async for r in self._manager().watch(request.id):
                yield rollout_message(r)
        except ControllerError as exc:
            await context.abort(status_for(exc), str(exc))

    async def _command(self, request: ops_pb2.RolloutActionRequest, action: str) -> ops_pb2.Rollout:
        return rollout_message(await self._manager().command(request.id, action, request.reason))

    @rpc
    async def PromoteRollout(self, request: ops_pb2.RolloutActionRequest, context: Ctx) -> ops_pb2.Rollout:
        return await self._command(request, "promote")

    @rpc
    async def AbortRollout(self, request: ops_pb2.RolloutActionRequest, context: Ctx) -> ops_pb2.Rollout:
        return await self._command(request, "abort")

    @rpc
    async def PauseRollout(self, request: ops_pb2.RolloutActionRequest, context: Ctx) -> ops_pb2.Rollout:
        return await self._command(request, "pause")

    @rpc
    async def ResumeRollout(self, request: ops_pb2.RolloutActionRequest, context: Ctx) -> ops_pb2.Rollout:
        return await self._command(request, "resume")

    @rpc
    async def RollbackService(self, request: ops_pb2.RollbackServiceRequest, context: Ctx) -> ops_pb2.Rollout:
        return rollout_message(await self._manager().rollback_service(request.service, actor.get()))
