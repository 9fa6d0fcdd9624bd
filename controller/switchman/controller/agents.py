"""The seam for "call an agent": :class:`AgentGateway`, what the controller
asks of the agent on a host, and :class:`GrpcAgentGateway`, which asks over
the Agent service (mTLS, the agent's name checked against its host id).

Every call has a timeout. gRPC status codes become controller errors here,
once::

    ControllerError
    └── AgentError              (the message names the host)
        ├── AgentUnreachable    UNAVAILABLE, DEADLINE_EXCEEDED: not listening or too slow
        ├── AgentBusy           ABORTED: another switch, rollback or stop of the service runs
        ├── AgentInvalid        INVALID_ARGUMENT (also an InvalidArgument)
        ├── AgentNotFound       NOT_FOUND (also a NotFound)
        └── AgentRefused        any other code: the agent's reason
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import grpc
from google.protobuf.message import Message
from switchman.controller.errors import Conflict, ControllerError, InvalidArgument, NotFound
from switchman.controller.fleet import Host
from switchman.proto.channel import TlsMaterial, create_channel
from switchman.proto.services import ServiceDef, to_proto
from switchman.proto.v1 import agent_pb2, agent_pb2_grpc, common_pb2

CALL_TIMEOUT_S = 10.0


class AgentError(ControllerError):
    """An agent could not do what it was asked: ``str()`` names the host,
    ``reason`` is what went wrong there."""

    def __init__(self, host_id: str, reason: str) -> None:
        super().__init__(f"host {host_id}: {reason}")
        self.host_id = host_id
        self.reason = reason


class AgentUnreachable(AgentError, Conflict):
    """The agent did not answer: not listening, partitioned or too slow."""


class AgentBusy(AgentError, Conflict):
    """The agent is running another switch, rollback or stop of the service."""


class AgentInvalid(AgentError, InvalidArgument):
    """The agent refused the request's content."""


class AgentNotFound(AgentError, NotFound):
    """The agent does not know the service or fault."""


class AgentRefused(AgentError, Conflict):
    """The agent answered with an error; the message is its reason."""


def agent_error(host_id: str, exc: grpc.aio.AioRpcError) -> AgentError:
    """The one place an agent's status codes become controller errors."""
    code, details = exc.code(), exc.details() or ""
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return AgentUnreachable(host_id, f"agent unreachable ({code.name})" + (f": {details}" if details else ""))
    # FAILED_PRECONDITION "already running": agents from before ABORTED meant "busy"
    if code is grpc.StatusCode.ABORTED or (
        code is grpc.StatusCode.FAILED_PRECONDITION and "already running" in details
    ):
        return AgentBusy(host_id, details or "a switch is already running")
    if code is grpc.StatusCode.INVALID_ARGUMENT:
        return AgentInvalid(host_id, details)
    if code is grpc.StatusCode.NOT_FOUND:
        return AgentNotFound(host_id, details)
    return AgentRefused(host_id, f"the agent refused ({code.name}): {details}")


@dataclass(frozen=True)
class SwitchOutcome:
    """What a switch, rollback or stop left on the host."""

    message: str
    changed: bool
    status: common_pb2.ServiceStatus  # empty after a stop


class AgentGateway(Protocol):
    """What the controller asks of the agent on a host. Every method raises
    :class:`AgentError` (one of its subclasses) when the agent cannot do it,
    and :class:`~switchman.controller.errors.NotFound` for an unknown host."""

    async def services(self, host_id: str, timeout: float = CALL_TIMEOUT_S) -> list[common_pb2.ServiceStatus]:
        """The services the agent runs, with their slots."""
        ...

    async def switch(
        self, host_id: str, spec: ServiceDef, version: str, healthy_deadline_ms: int, timeout: float
    ) -> SwitchOutcome:
        """Deploy ``version`` in the idle slot, probe, flip, drain (idempotent)."""
        ...

    async def rollback(self, host_id: str, service: str, timeout: float) -> SwitchOutcome:
        """Flip back to the previous slot (instant when it is warm)."""
        ...

    async def set_weight(
        self, host_id: str, spec: ServiceDef, version: str, weight: int, healthy_deadline_ms: int, timeout: float
    ) -> SwitchOutcome:
        """A weighted step: ``version`` in the idle slot gets ``weight`` % of the
        requests (started and probed first; 100 flips to it, 0 ends the split)."""
        ...

    async def stop_service(self, host_id: str, service: str, timeout: float) -> SwitchOutcome:
        """Close the front port, stop both slots, forget the service (no-op if absent)."""
        ...

    async def inject_fault(
        self, host_id: str, spec: common_pb2.FaultSpec, timeout: float = CALL_TIMEOUT_S
    ) -> common_pb2.Fault:
        """Apply a fault; the agent owns its timer and its revert."""
        ...

    async def list_faults(
        self, host_id: str, include_reverted: bool, timeout: float = CALL_TIMEOUT_S
    ) -> list[common_pb2.Fault]: ...

    async def halt_faults(self, host_id: str, timeout: float = CALL_TIMEOUT_S) -> list[common_pb2.Fault]:
        """Revert every fault now; returns the reverted ones."""
        ...

    async def clear_fault(self, host_id: str, fault_id: str, timeout: float = CALL_TIMEOUT_S) -> common_pb2.Fault:
        """Revert one fault now."""
        ...


class GrpcAgentGateway:
    """:class:`AgentGateway` over the Agent service: one channel per host and
    address, made on first use and closed with :meth:`close`."""

    def __init__(self, hosts: Callable[[str], Host], tls: TlsMaterial | None) -> None:
        """``hosts(host_id)`` gives the host's advertised address (raises NotFound)."""
        self._hosts = hosts
        self._tls = tls
        self._channels: dict[tuple[str, str], grpc.aio.Channel] = {}

    def _stub(self, host_id: str) -> agent_pb2_grpc.AgentStub:
        key = (host_id, self._hosts(host_id).address)
        ch = self._channels.get(key)
        if ch is None:
            ch = create_channel(key[1], self._tls, server_name=host_id if self._tls else None)
            self._channels[key] = ch
        return agent_pb2_grpc.AgentStub(ch)

    async def close(self) -> None:
        for ch in self._channels.values():
            await ch.close(None)
        self._channels.clear()

    async def _call(self, host_id: str, method: str, request: Message, timeout: float) -> Any:
        """One Agent RPC; the one place its status codes become :class:`AgentError`."""
        try:
            return await getattr(self._stub(host_id), method)(request, timeout=timeout)
        except grpc.aio.AioRpcError as exc:
            raise agent_error(host_id, exc) from None

    async def services(self, host_id: str, timeout: float = CALL_TIMEOUT_S) -> list[common_pb2.ServiceStatus]:
        resp = await self._call(host_id, "ListServices", agent_pb2.ListAgentServicesRequest(), timeout)
        return list(resp.services)

    @staticmethod
    def _outcome(resp: agent_pb2.SwitchResponse) -> SwitchOutcome:
        return SwitchOutcome(resp.message, resp.changed, resp.status)

    async def switch(
        self, host_id: str, spec: ServiceDef, version: str, healthy_deadline_ms: int, timeout: float
    ) -> SwitchOutcome:
        request = agent_pb2.SwitchRequest(spec=to_proto(spec), version=version, healthy_deadline_ms=healthy_deadline_ms)
        return self._outcome(await self._call(host_id, "Switch", request, timeout))

    async def rollback(self, host_id: str, service: str, timeout: float) -> SwitchOutcome:
        return self._outcome(await self._call(host_id, "Rollback", agent_pb2.RollbackRequest(service=service), timeout))

    async def set_weight(
        self, host_id: str, spec: ServiceDef, version: str, weight: int, healthy_deadline_ms: int, timeout: float
    ) -> SwitchOutcome:
        request = agent_pb2.SetWeightRequest(
            spec=to_proto(spec), version=version, weight=weight, healthy_deadline_ms=healthy_deadline_ms
        )
        return self._outcome(await self._call(host_id, "SetWeight", request, timeout))

    async def stop_service(self, host_id: str, service: str, timeout: float) -> SwitchOutcome:
        request = agent_pb2.StopServiceRequest(service=service)
        return self._outcome(await self._call(host_id, "StopService", request, timeout))

    async def inject_fault(
        self, host_id: str, spec: common_pb2.FaultSpec, timeout: float = CALL_TIMEOUT_S
    ) -> common_pb2.Fault:
        fault: common_pb2.Fault = await self._call(
            host_id, "InjectFault", agent_pb2.InjectFaultRequest(spec=spec), timeout
        )
        return fault

    async def list_faults(
        self, host_id: str, include_reverted: bool, timeout: float = CALL_TIMEOUT_S
    ) -> list[common_pb2.Fault]:
        request = agent_pb2.ListFaultsRequest(include_reverted=include_reverted)
        return list((await self._call(host_id, "ListFaults", request, timeout)).faults)

    async def halt_faults(self, host_id: str, timeout: float = CALL_TIMEOUT_S) -> list[common_pb2.Fault]:
        return list((await self._call(host_id, "HaltFaults", agent_pb2.HaltFaultsRequest(), timeout)).reverted)

    async def clear_fault(self, host_id: str, fault_id: str, timeout: float = CALL_TIMEOUT_S) -> common_pb2.Fault:
        fault: common_pb2.Fault = await self._call(
            host_id, "ClearFault", agent_pb2.ClearFaultRequest(id=fault_id), timeout
        )
        return fault
