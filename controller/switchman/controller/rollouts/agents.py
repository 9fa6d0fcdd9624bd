"""What the executor asks of an agent, with a timeout on every call:
converge a service to a version (idempotent: nothing if it already serves
it, the warm previous slot if that holds it, a full switch otherwise; a
weighted step's split ends first), take a weighted step, and report whether
the new version's slot is healthy."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from switchman.controller.agents import AgentBusy, AgentError, AgentGateway, AgentUnreachable
from switchman.controller.errors import ControllerError
from switchman.proto.services import ServiceDef
from switchman.proto.v1 import common_pb2

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


@dataclass(frozen=True)
class Weighed:
    """A weighted step's outcome: the weight ``version`` has on the host now."""

    host_id: str
    version: str
    ok: bool
    message: str
    weight: int = 0
    active_slot: str = ""
    candidate_slot: str = ""


AT_REST = ("", "idle", "weighted")  # phases with no operation running on the agent

RecordFrom = Callable[[str, str], Awaitable[bool]]  # (host, what it served) -> still to be changed?


SLOT_NAMES: dict[int, str] = {int(common_pb2.SLOT_BLUE): "blue", int(common_pb2.SLOT_GREEN): "green"}


def slot_name(slot: int) -> str:
    return SLOT_NAMES.get(int(slot), "")


def live_slot_healthy(status: common_pb2.ServiceStatus) -> bool:
    return slot_healthy(status, status.active_slot)


def slot_healthy(status: common_pb2.ServiceStatus, slot: int) -> bool:
    return any(s.slot == slot and s.state == common_pb2.SLOT_STATE_HEALTHY for s in status.slots)


class AgentOps:
    def __init__(self, gateway: AgentGateway, retry_s: float = BUSY_RETRY_S) -> None:
        self._gateway = gateway
        self._retry_s = retry_s

    async def status(
        self, host_id: str, service: str, timeout: float = STATUS_TIMEOUT_S
    ) -> common_pb2.ServiceStatus | None:
        """:raises AgentError: when the agent does not answer in time."""
        return next((s for s in await self._gateway.services(host_id, timeout) if s.name == service), None)

    async def health(self, host_id: str, service: str, version: str) -> tuple[bool, str]:
        try:
            s = await self.status(host_id, service)
        except AgentError as exc:
            return False, exc.reason
        except ControllerError as exc:  # the host is no longer known
            return False, str(exc)
        if s is None:
            return False, "the agent no longer runs the service"
        if s.candidate_version == version and s.candidate_weight:  # a weighted step: the candidate's slot
            if not slot_healthy(s, s.candidate_slot):
                return False, f"the {slot_name(s.candidate_slot)} slot of {version} is not passing its probe"
            return True, "healthy"
        if s.active_version != version:
            return False, f"serving {s.active_version or 'nothing'}, not {version}"
        if not live_slot_healthy(s):
            return False, f"the live slot {slot_name(s.active_slot)} is not passing its probe"
        return True, "healthy"

    async def _settled(self, host_id: str, service: str, left: float) -> common_pb2.ServiceStatus | None:
        """The service's status when nothing runs on it.

        :raises AgentBusy: a switch or rollback is under way (ask again after a pause).
        """
        s = await self.status(host_id, service, min(STATUS_TIMEOUT_S, left))
        if s is not None and s.phase not in AT_REST:
            raise AgentBusy(host_id, f"the agent is still {s.phase} (a switch started earlier is finishing)")
        return s

    async def converge(
        self, spec: ServiceDef, host_id: str, version: str, deadline_s: float, record_from: RecordFrom
    ) -> Converged:
        """Make the host serve ``version`` (``""``: serve nothing, stop the
        service). Asks the agent for its actual state first, hands what the
        host served before to ``record_from`` (which persists it) before
        anything is sent, and retries an unreachable or busy agent until the
        deadline. Never raises: every failure is a result the state machine
        decides on."""
        try:
            return await self._converge(spec, host_id, version, deadline_s, record_from)
        except ControllerError as exc:  # an unknown host: nothing was sent
            return Converged(host_id, version, False, str(exc), touched=False)

    async def _converge(
        self, spec: ServiceDef, host_id: str, version: str, deadline_s: float, record_from: RecordFrom
    ) -> Converged:
        end = time.monotonic() + deadline_s
        sent = False
        last = "no answer within the healthy deadline"
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return Converged(host_id, version, False, last, touched=sent)
            try:
                s = await self._settled(host_id, spec.name, left)
                live = s.active_version if s is not None and s.active_slot else ""
                if s is not None and s.candidate_weight and live == version:  # a weighted step ends: weight 0
                    if not await record_from(host_id, live):
                        return Converged(host_id, version, False, "the rollout moved on; nothing sent", touched=sent)
                    sent = True
                    await self._gateway.set_weight(host_id, spec, s.candidate_version, 0, 1000, left)
                    continue  # and converge from what that left
                if live == version and (not version or (s is not None and live_slot_healthy(s))):
                    before = s.previous_version if s is not None else ""
                    if not await record_from(host_id, before):
                        return Converged(host_id, version, False, "the rollout moved on", touched=sent)
                    slot = slot_name(s.active_slot) if s is not None else ""
                    return Converged(host_id, version, True, f"{version or 'nothing'} already live", before, slot)
                if not await record_from(host_id, live):  # persisted before the agent is asked to change anything
                    return Converged(host_id, version, False, "the rollout moved on; nothing sent", touched=sent)
                sent = True
                if not version:
                    out = await self._gateway.stop_service(host_id, spec.name, left)
                elif s is not None and s.previous_version == version:
                    out = await self._gateway.rollback(host_id, spec.name, left)
                else:
                    out = await self._gateway.switch(host_id, spec, version, int(max(left - 1, 1) * 1000), left)
                return Converged(host_id, version, True, out.message, live, slot_name(out.status.active_slot))
            except (AgentUnreachable, AgentBusy) as exc:
                last = exc.reason
                await asyncio.sleep(self._retry_s)  # ask again: converging is idempotent
            except AgentError as exc:
                return Converged(host_id, version, False, exc.reason, touched=sent)

    async def weigh(
        self, spec: ServiceDef, host_id: str, version: str, weight: int, deadline_s: float, record_from: RecordFrom
    ) -> Weighed:
        """Give ``version`` ``weight`` % of the host's requests. What the host
        served is handed to ``record_from`` before anything is sent; a host
        that serves nothing yet is switched outright (weight 100). Retries an
        unreachable or busy agent until the deadline; never raises."""
        end = time.monotonic() + deadline_s
        last = "no answer within the healthy deadline"
        while (left := end - time.monotonic()) > 0:
            try:
                s = await self._settled(host_id, spec.name, left)
                live = s.active_version if s is not None and s.active_slot else ""
                before = s.previous_version if s is not None and live == version else live
                if not await record_from(host_id, before):  # persisted before the agent is asked to change
                    return Weighed(host_id, version, False, "the rollout moved on; nothing sent")
                w = weight if live and live != version else 100  # nothing to split with, or flipped already
                healthy_ms = int(max(left - 1, 1) * 1000)
                out = await self._gateway.set_weight(host_id, spec, version, w, healthy_ms, left)
                st = out.status
                got = 100 if st.active_version == version else int(st.candidate_weight)
                return Weighed(
                    host_id, version, True, out.message, got, slot_name(st.active_slot), slot_name(st.candidate_slot)
                )
            except (AgentUnreachable, AgentBusy) as exc:
                last = exc.reason
                await asyncio.sleep(self._retry_s)  # ask again: a step is idempotent
            except AgentError as exc:
                return Weighed(host_id, version, False, exc.reason)
            except ControllerError as exc:  # an unknown host: nothing was sent
                return Weighed(host_id, version, False, str(exc))
        return Weighed(host_id, version, False, last)
