"""Ad hoc faults: forwarded to the host's agent, which owns applying,
timing and reverting them (SPEC 3.5). The controller checks what only it
knows (the host, a rollout on the service) and fans list/halt out to every
agent."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3

import grpc
from switchman.controller.core import Core
from switchman.controller.errors import Conflict, InvalidArgument, NotFound
from switchman.controller.services import AgentClients
from switchman.proto.v1 import agent_pb2, agent_pb2_grpc, common_pb2

log = logging.getLogger(__name__)

AGENT_TIMEOUT_S = 10.0


def _translate(host_id: str, exc: grpc.aio.AioRpcError) -> Exception:
    detail = f"host {host_id}: {exc.details()}"
    if exc.code() is grpc.StatusCode.INVALID_ARGUMENT:
        return InvalidArgument(detail)
    if exc.code() is grpc.StatusCode.NOT_FOUND:
        return NotFound(detail)
    return Conflict(f"host {host_id}: {exc.code().name}: {exc.details()}")


class FaultOps:
    def __init__(self, core: Core, clients: AgentClients) -> None:
        self._core = core
        self._clients = clients
        self._injected: dict[str, common_pb2.Fault] = {}  # for the status screen: what this controller applied

    def active(self) -> list[common_pb2.Fault]:
        now = self._core.clock_ms()
        for fid in [fid for fid, f in self._injected.items() if f.expires_at_ms <= now]:
            del self._injected[fid]
        return sorted(self._injected.values(), key=lambda f: f.expires_at_ms)

    def _stub(self, host_id: str) -> agent_pb2_grpc.AgentStub:
        host = self._core.fleet.get(host_id)
        return self._clients.stub(host_id, host.address)

    def _up(self, host_id: str = "") -> list[str]:
        fleet = self._core.fleet
        if host_id:
            host = fleet.get(host_id)  # NotFound for an unknown host
            if not fleet.is_up(host):
                raise Conflict(f"host {host_id} is down")
            return [host_id]
        return sorted(h.host_id for h in fleet.hosts.values() if fleet.is_up(h))

    async def inject(self, host_id: str, spec: common_pb2.FaultSpec, force: bool) -> common_pb2.Fault:
        self._up(host_id)
        rollouts = self._core.rollouts
        running = rollouts.active_for(spec.service) if rollouts is not None and spec.service else None
        if running is not None and not force:
            raise Conflict(f"rollout {running.id} of {spec.service} is in progress; wait for it or use --force")
        try:
            fault: common_pb2.Fault = await self._stub(host_id).InjectFault(
                agent_pb2.InjectFaultRequest(spec=spec), timeout=AGENT_TIMEOUT_S
            )
        except grpc.aio.AioRpcError as exc:
            raise _translate(host_id, exc) from None
        self._injected[fault.id] = fault
        await self._event(
            host_id, spec.service, "chaos.fault", f"{spec.kind} injected for {spec.duration_ms // 1000}s", fault.id
        )
        return fault

    async def find(self, host_id: str, include_reverted: bool) -> list[common_pb2.Fault]:
        hosts = self._up(host_id)

        async def one(h: str) -> list[common_pb2.Fault]:
            try:
                resp = await self._stub(h).ListFaults(
                    agent_pb2.ListFaultsRequest(include_reverted=include_reverted), timeout=AGENT_TIMEOUT_S
                )
            except grpc.aio.AioRpcError as exc:
                if host_id:
                    raise _translate(h, exc) from None
                log.warning("listing faults on %s: %s", h, exc.code().name)
                return []
            return list(resp.faults)

        return [f for batch in await asyncio.gather(*(one(h) for h in hosts)) for f in batch]

    async def halt(self, host_id: str, everywhere: bool) -> list[common_pb2.Fault]:
        if not host_id and not everywhere:
            raise InvalidArgument("halt: name a host or ask for all of them (--all)")
        hosts = self._up(host_id) if host_id else self._up()

        async def one(h: str) -> list[common_pb2.Fault]:
            try:
                resp = await self._stub(h).HaltFaults(agent_pb2.HaltFaultsRequest(), timeout=AGENT_TIMEOUT_S)
            except grpc.aio.AioRpcError as exc:
                log.error("halting faults on %s failed: %s (its own timers still revert them)", h, exc.code().name)
                return []
            return list(resp.reverted)

        halted = [f for batch in await asyncio.gather(*(one(h) for h in hosts)) for f in batch]
        for f in halted:
            self._injected.pop(f.id, None)
            await self._event(f.host_id, f.spec.service, "chaos.halt", f"{f.spec.kind} halted", f.id)
        return halted

    async def clear(self, host_id: str, fault_id: str) -> common_pb2.Fault | None:
        """Revert one fault now; None when the agent cannot be reached (its own timer still reverts it)."""
        try:
            fault: common_pb2.Fault = await self._stub(host_id).ClearFault(
                agent_pb2.ClearFaultRequest(id=fault_id), timeout=AGENT_TIMEOUT_S
            )
        except (grpc.aio.AioRpcError, NotFound) as exc:
            log.error("clearing fault %s on %s failed: %s (its own timer still reverts it)", fault_id, host_id, exc)
            return None
        self._injected.pop(fault_id, None)
        return fault

    async def _event(self, host_id: str, service: str, kind: str, message: str, fault_id: str) -> None:
        now = self._core.clock_ms()
        attrs = json.dumps({"fault": fault_id})

        def job(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO events (host_id, ts, kind, severity, service, message, attributes) VALUES (?,?,?,?,?,?,?)",
                (host_id, now, kind, 2, service, message, attrs),
            )

        assert self._core.writer is not None
        await self._core.writer.run(job)
