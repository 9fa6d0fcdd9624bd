"""Reaping: nothing keeps running that no spec names.

Slots outlive an agent restart (reconcile adopts them), so a service removed
while its agent was down would run forever. At each registration the
controller answers with the complete list of services it has specs for; the
agent then stops and forgets the services it runs that are not on the list
(their processes by its state file, their containers by their name and
``switchman.owner`` label, through the driver's stop).

Only a positive, complete answer reaps: a controller that is unreachable, or
one that does not list its services (``services_listed`` unset, an older
controller), reaps nothing. A service a switch or weighted step asked for
after the registration was sent is not reaped either: the list may predate
its spec.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from typing import Protocol

from switchman.agent.services.errors import SwitchInProgress
from switchman.agent.telemetry_buffer import TelemetryBuffer
from switchman.proto.v1 import controller_pb2

log = logging.getLogger(__name__)


class Services(Protocol):
    """What reaping needs of :class:`~switchman.agent.services.manager.ServiceManager`."""

    @property
    def told(self) -> Mapping[str, float]:
        """Service -> when (monotonic) a switch or weighted step last asked for it."""
        ...

    def names(self) -> list[str]:
        """The services this agent runs (its state file)."""
        ...

    async def stop_service(self, name: str) -> object:
        """Close the front port, stop both slots, forget the service.

        :raises SwitchInProgress: another switch, rollback or stop of it runs."""
        ...


def orphans(local: Iterable[str], known: Iterable[str], told: Mapping[str, float], asked_at: float) -> list[str]:
    """The services to reap: run here, not in the controller's list ``known``
    (asked for at ``asked_at``), and not asked for since (``told``: service ->
    when a switch last asked for it, same clock)."""
    named = set(known)
    return sorted(n for n in set(local) if n not in named and told.get(n, float("-inf")) < asked_at)


class Reaper:
    """Reaps after each registration, in tasks it owns (:meth:`close` cancels them)."""

    def __init__(self, services: Services, buffer: TelemetryBuffer) -> None:
        self._services = services
        self._buffer = buffer
        self._tasks: set[asyncio.Task[list[str]]] = set()
        self._closed = False

    def registered(self, response: controller_pb2.RegisterResponse, sent_at: float) -> None:
        """The :class:`~switchman.agent.push.ControllerLink` hook: reap in the
        background when the controller listed its services."""
        if self._closed or not response.services_listed:
            return
        task = asyncio.create_task(self.reap(list(response.services), sent_at), name="reap")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def reap(self, known: Iterable[str], asked_at: float) -> list[str]:
        """Stop and forget the services ``known`` does not name; returns them.
        One that is busy (a stop or switch runs) is left for the next registration."""
        reaped = []
        for name in orphans(self._services.names(), known, self._services.told, asked_at):
            log.warning("%s: the controller has no spec for it any more; stopping its slots", name)
            try:
                await self._services.stop_service(name)
            except SwitchInProgress:
                log.info("%s: busy; reaped at the next registration", name)
                continue
            except Exception:
                log.exception("reaping %s failed", name)
                continue
            self._buffer.event("service.reaped", f"{name} stopped: no spec names it", service=name)
            reaped.append(name)
        return reaped

    async def settled(self) -> None:
        """Return once the reaps under way have ended."""
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def close(self) -> None:
        self._closed = True  # a registration while the agent stops (its last flush) reaps nothing
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
