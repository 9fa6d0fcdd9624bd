"""What the executor asks of an agent, with a timeout on every call:
converge a service to a version (idempotent: nothing if it already serves
it, the warm previous slot if that holds it, a full switch otherwise) and
report whether the live slot is healthy."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
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


RecordFrom = Callable[[str, str], Awaitable[None]]


class AgentUnreachable(ControllerError):
    """The agent did not answer (not listening, or too slow)."""


class AgentBusy(ControllerError):
    """The agent is running another switch, rollback or stop of the service."""


class AgentRefused(ControllerError):
    """The agent answered with an error: the message is its reason."""


def agent_failure(exc: grpc.aio.AioRpcError) -> ControllerError:
    """One place where an agent's status codes become controller errors."""
    code, details = exc.code(), exc.details() or ""
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return AgentUnreachable(
            f"agent unreachable ({code.name}): {details}" if details else f"agent unreachable ({code.name})"
        )
    if code is grpc.StatusCode.ABORTED or (
        code is grpc.StatusCode.FAILED_PRECONDITION and "already running" in details
    ):
        return AgentBusy(details or "a switch is already running")
    return AgentRefused(f"the agent refused ({code.name}): {details}")


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

    async def status(
        self, host_id: str, service: str, timeout: float = STATUS_TIMEOUT_S
    ) -> common_pb2.ServiceStatus | None:
        """:raises grpc.aio.AioRpcError: when the agent does not answer in time."""
        resp = await self._stub(host_id).ListServices(agent_pb2.ListAgentServicesRequest(), timeout=timeout)
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

    async def converge(
        self, spec: ServiceDef, host_id: str, version: str, deadline_s: float, record_from: RecordFrom
    ) -> Converged:
        """Make the host serve ``version`` (``""``: serve nothing, stop the
        service). Asks the agent for its actual state first, hands what the
        host served before to ``record_from`` (which persists it) before
        anything is sent, and retries an unreachable agent until the deadline.
        Never raises: every failure is a result the state machine decides on."""
        try:
            return await self._converge(spec, host_id, version, deadline_s, record_from)
        except ControllerError as exc:
            return Converged(host_id, version, False, str(exc), touched=False)

    async def _converge(
        self, spec: ServiceDef, host_id: str, version: str, deadline_s: float, record_from: RecordFrom
    ) -> Converged:
        end = time.monotonic() + deadline_s
        stub = self._stub(host_id)
        sent = False
        last = "no answer within the healthy deadline"
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return Converged(host_id, version, False, last, touched=sent)
            try:
                s = await self.status(host_id, spec.name, min(STATUS_TIMEOUT_S, left))
                if s is not None and s.phase not in ("", "idle"):
                    last = f"the agent is still {s.phase} (a switch started earlier is finishing)"
                    await asyncio.sleep(BUSY_RETRY_S)
                    continue
                live = s.active_version if s is not None and s.active_slot else ""
                if live == version and (not version or (s is not None and live_slot_healthy(s))):
                    before = s.previous_version if s is not None else ""
                    await record_from(host_id, before)
                    return Converged(
                        host_id,
                        version,
                        True,
                        f"{version or 'nothing'} already live",
                        before,
                        slot_name(s.active_slot if s else 0),
                    )
                await record_from(host_id, live)  # persisted before the agent is asked to change anything
                sent = True
                resp: agent_pb2.SwitchResponse
                if not version:
                    resp = await stub.StopService(agent_pb2.StopServiceRequest(service=spec.name), timeout=left)
                elif s is not None and s.previous_version == version:
                    resp = await stub.Rollback(agent_pb2.RollbackRequest(service=spec.name), timeout=left)
                else:
                    request = agent_pb2.SwitchRequest(
                        spec=to_proto(spec), version=version, healthy_deadline_ms=int(max(left - 1, 1) * 1000)
                    )
                    resp = await stub.Switch(request, timeout=left)
                return Converged(host_id, version, True, resp.message, live, slot_name(resp.status.active_slot))
            except grpc.aio.AioRpcError as exc:
                failure = agent_failure(exc)
                if isinstance(failure, AgentBusy | AgentUnreachable):
                    last = str(failure)
                    await asyncio.sleep(BUSY_RETRY_S)  # ask again: converging is idempotent
                    continue
                return Converged(host_id, version, False, str(failure), touched=sent)
