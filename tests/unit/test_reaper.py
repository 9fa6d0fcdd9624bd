"""The agent's reaping decision: only services the controller's complete list
does not name, and none a switch asked for after the list was asked for."""

from __future__ import annotations

import asyncio

from switchman.agent.services.errors import SwitchInProgress
from switchman.agent.services.reaper import Reaper, orphans
from switchman.agent.telemetry_buffer import TelemetryBuffer
from switchman.proto.v1 import controller_pb2


class FakeServices:
    def __init__(self, running: list[str], busy: frozenset[str] = frozenset()) -> None:
        self.running = running
        self.busy = busy
        self.told: dict[str, float] = {}
        self.stopped: list[str] = []

    def names(self) -> list[str]:
        return list(self.running)

    async def stop_service(self, name: str) -> object:
        if name in self.busy:
            raise SwitchInProgress(f"service {name}: a switch is already running")
        self.running.remove(name)
        self.stopped.append(name)
        return None


def test_orphans_are_the_services_the_list_does_not_name() -> None:
    assert orphans(["web", "api", "old"], ["web", "api", "new"], {}, 10.0) == ["old"]


def test_orphans_spare_a_service_a_switch_asked_for_after_the_list_was_asked_for() -> None:
    assert orphans(["fresh", "old"], [], {"fresh": 11.0, "old": 3.0}, 10.0) == ["old"]


def test_orphans_of_a_list_naming_everything_is_nothing() -> None:
    assert orphans(["web"], ["web"], {}, 10.0) == []


def _run(services: FakeServices, response: controller_pb2.RegisterResponse) -> list[str]:
    async def body() -> list[str]:
        buffer = TelemetryBuffer()
        reaper = Reaper(services, buffer)
        reaper.registered(response, 10.0)
        await reaper.settled()
        await reaper.close()
        return [e.kind for e in buffer.events]

    return asyncio.run(asyncio.wait_for(body(), 10))


def test_an_answer_that_does_not_list_services_reaps_nothing() -> None:
    services = FakeServices(["web"])
    _run(services, controller_pb2.RegisterResponse(heartbeat_interval_ms=5000))  # an older controller's answer
    assert services.stopped == []


def test_an_empty_complete_list_reaps_every_service() -> None:
    services = FakeServices(["web", "api"])
    kinds = _run(services, controller_pb2.RegisterResponse(services_listed=True))
    assert services.stopped == ["api", "web"] and kinds == ["service.reaped", "service.reaped"]


def test_a_busy_service_is_left_for_the_next_registration() -> None:
    services = FakeServices(["web", "api"], busy=frozenset({"api"}))
    _run(services, controller_pb2.RegisterResponse(services=["other"], services_listed=True))
    assert services.stopped == ["web"] and services.running == ["api"]


def test_a_closed_reaper_ignores_a_registration() -> None:
    services = FakeServices(["web"])

    async def body() -> None:
        reaper = Reaper(services, TelemetryBuffer())
        await reaper.close()
        reaper.registered(controller_pb2.RegisterResponse(services_listed=True), 10.0)
        await reaper.settled()

    asyncio.run(body())
    assert services.stopped == []
