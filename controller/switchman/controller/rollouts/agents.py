"""What the executor asks of an agent, with a timeout on every call:
converge a service to a version (idempotent: nothing if it already serves
it, the warm previous slot if that holds it, a full switch otherwise) and
report whether the live slot is healthy."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import grpc
from switchman.controller.errors import ControllerError
from switchman.controller.fleet import Fleet
from switchman.controller.services import AgentClients
from switchman.proto.services import ServiceDef, to_proto
from switchman.proto.v1 import agent_pb2, agent_pb2_grpc, common_pb2

STATUS_TIMEOUT_S = 5.0
BUSY_RETRY_S = 0.5


@dataclass(frozen=True)
class Converged:
    host_id: str
    version: str
    ok: bool
    message: str
    from_version: str = ""
    active_slot: str = ""
    touched: bool = True  # False: no Switch or Rollback was sent, the host is as it was


SLOT_NAMES: dict[int, str] = {int(common_pb2.SLOT_BLUE): "blue", int(common_pb2.SLOT_GREEN): "green"}


def slot_name(slot: int) -> str:
    return SLOT_NAMES.get(int(slot), "")


def live_slot_healthy(status: common_pb2.ServiceStatus) -> bool:
    return any(s.slot == status.active_slot and s.state == common_pb2.SLOT_STATE_HEALTHY for s in status.slots)


class AgentOps:
    def __init__(self, fleet: Fleet, clients: AgentClients) -> None:
        self._fleet = fleet
        self._clients = clients

    def _stub(self, host_id: str) -> agent_pb2_grpc.AgentStub:
        host = self._fleet.get(host_id)
        return self._clients.stub(host_id, host.address)

    async def status(self, host_id: str, service: str) -> common_pb2.ServiceStatus | None:
        """:raises grpc.aio.AioRpcError: when the agent does not answer in time."""
        resp = await self._stub(host_id).ListServices(agent_pb2.ListAgentServicesRequest(), timeout=STATUS_TIMEOUT_S)
        return next((s for s in resp.services if s.name == service), None)

    async def health(self, host_id: str, service: str, version: str) -> tuple[bool, str]:
        try:
            s = await self.status(host_id, service)
        except grpc.aio.AioRpcError as exc:
            return False, f"agent unreachable: {exc.code().name}"
        except ControllerError as exc:  # the host is no longer known
            return False, str(exc)
        if s is None:
            return False, "the agent no longer runs the service"
        if s.active_version != version:
            return False, f"serving {s.active_version or 'nothing'}, not {version}"
        if not live_slot_healthy(s):
            return False, f"the live slot {slot_name(s.active_slot)} is not passing its probe"
        return True, "healthy"

    async def converge(self, spec: ServiceDef, host_id: str, version: str, deadline_s: float) -> Converged:
        """Never raises: every failure is a result the state machine decides on."""
        try:
            return await self._converge(spec, host_id, version, deadline_s)
        except ControllerError as exc:
            return Converged(host_id, version, False, str(exc), touched=False)

    async def _converge(self, spec: ServiceDef, host_id: str, version: str, deadline_s: float) -> Converged:
        end = time.monotonic() + deadline_s
        if not self._fleet.is_up(self._fleet.get(host_id)):
            return Converged(host_id, version, False, "host is down", touched=False)
        stub = self._stub(host_id)
        sent = False
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return Converged(host_id, version, False, "no answer within the healthy deadline", touched=sent)
            try:
                s = await self.status(host_id, spec.name)
                before = s.active_version if s else ""
                if s is not None and s.phase not in ("", "idle"):
                    await asyncio.sleep(BUSY_RETRY_S)  # a switch started before a controller restart is finishing
                    continue
                if s is not None and s.active_version == version and live_slot_healthy(s):
                    return Converged(
                        host_id, version, True, f"{version} already live", before, slot_name(s.active_slot)
                    )
                resp: agent_pb2.SwitchResponse
                sent = True
                if s is not None and s.previous_version == version:
                    resp = await stub.Rollback(agent_pb2.RollbackRequest(service=spec.name), timeout=left)
                else:
                    request = agent_pb2.SwitchRequest(
                        spec=to_proto(spec), version=version, healthy_deadline_ms=int(max(left - 1, 1) * 1000)
                    )
                    resp = await stub.Switch(request, timeout=left)
                return Converged(host_id, version, True, resp.message, before, slot_name(resp.status.active_slot))
            except grpc.aio.AioRpcError as exc:
                if exc.code() is grpc.StatusCode.FAILED_PRECONDITION and "already running" in (exc.details() or ""):
                    await asyncio.sleep(BUSY_RETRY_S)
                    continue
                return Converged(host_id, version, False, f"{exc.code().name}: {exc.details()}", touched=sent)
