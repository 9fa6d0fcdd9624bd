"""Weighted steps on one agent's service manager with real processes, the
builtin router in http mode and real HTTP traffic on loopback: the
candidate starts without taking the traffic, takes its share per request,
back to 0 at once, 100 is the flip; and a restarted agent keeps the split."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from switchman.agent.probes.runner import ProbeRunner
from switchman.agent.services.drivers.process import ProcessDriver
from switchman.agent.services.errors import InvalidService, SwitchFailed
from switchman.agent.services.manager import ServiceManager
from switchman.agent.services.state import Phase, StateStore
from switchman.agent.telemetry_buffer import TelemetryBuffer
from switchman.proto.services import parse_toml

from tests.integration.test_services import Load, get, run, service_toml, services


async def traffic(load: Load, requests: int, timeout: float = 20.0) -> dict[str, int]:
    """The versions of the next ``requests`` answers (polled, with a deadline)."""
    before = dict(load.versions)
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while sum(load.versions.values()) - sum(before.values()) < requests:
        assert loop.time() < end, f"fewer than {requests} answers within {timeout}s"
        await asyncio.sleep(0.02)
    return {v: n - before.get(v, 0) for v, n in load.versions.items() if n - before.get(v, 0)}


@pytest.mark.parametrize("router", ["builtin", "haproxy"])
def test_weights_split_requests_reset_at_once_and_100_is_the_flip(tmp_path: Path, router: str) -> None:
    async def body() -> None:
        async with services(tmp_path, "127.0.0.26") as a:
            toml = service_toml("hello", a.address, router=router, extra='protocol = "http"')
            spec = parse_toml(toml, "hello.toml")
            await a.manager.switch(spec, "1")
            load = Load(a.address, spec.front_port)
            load.start()
            await traffic(load, 50)
            step = await a.manager.set_weight(spec, "2", 25)
            assert step.changed and step.record.phase is Phase.WEIGHTED and step.record.weight == 25
            assert step.record.active_version == "1" and step.record.target_slot == "green"
            seen = await traffic(load, 400)
            assert 0.18 < seen.get("2", 0) / 400 < 0.32, seen  # per request, smooth round robin
            assert not (await a.manager.set_weight(spec, "2", 25)).changed  # idempotent
            await a.manager.set_weight(spec, "2", 50)
            seen = await traffic(load, 400)
            assert 0.42 < seen.get("2", 0) / 400 < 0.58, seen
            back = await a.manager.set_weight(spec, "2", 0)
            assert back.changed and back.record.phase is Phase.IDLE and back.record.active_version == "1"
            assert not a.driver.status("hello", "green").running  # the candidate is stopped
            seen = await traffic(load, 100)
            assert set(seen) == {"1"}, seen
            await a.manager.set_weight(spec, "2", 50)
            full = await a.manager.set_weight(spec, "2", 100)
            assert full.record.active_version == "2" and full.record.previous_version == "1"
            assert full.record.phase is Phase.IDLE and full.record.weight == 0
            seen = await traffic(load, 100)
            assert set(seen) == {"2"}, seen
            assert a.driver.status("hello", "blue").running  # the old slot stays warm
            await load.stop()
            assert load.failed == [], load.failed[:5]
            kinds = [e.kind for e in a.buffer.events if e.service == "hello"]
            assert kinds.count("weight.set") == 3 and kinds.count("weight.reset") == 1

    run(body())


def test_a_candidate_that_never_turns_healthy_gets_no_traffic(tmp_path: Path) -> None:
    async def body() -> None:
        async with services(tmp_path, "127.0.0.27") as a:
            spec = parse_toml(service_toml("hello", a.address, extra='protocol = "http"'), "hello.toml")
            with pytest.raises(InvalidService, match="no version is live yet"):
                await a.manager.set_weight(spec, "1", 25)
            await a.manager.set_weight(spec, "1", 100)  # a first deploy is a plain switch
            with pytest.raises(SwitchFailed, match="did not become healthy"):
                await a.manager.set_weight(spec, "2-unhealthy", 10, healthy_deadline_s=1.5)
            rec = a.manager.record("hello")
            assert rec.phase is Phase.IDLE and rec.active_version == "1" and not rec.target_version
            assert not a.driver.status("hello", "green").running
            with pytest.raises(InvalidService, match="1 is live on blue"):
                await a.manager.set_weight(spec, "1", 30)
            assert "hello from 1" in await get(a.address, spec.front_port)

    run(body())


def test_rollback_and_switch_end_a_split(tmp_path: Path) -> None:
    async def body() -> None:
        async with services(tmp_path, "127.0.0.28") as a:
            spec = parse_toml(service_toml("hello", a.address, extra='protocol = "http"'), "hello.toml")
            await a.manager.switch(spec, "1")
            await a.manager.switch(spec, "2")  # 1 warm on blue
            await a.manager.set_weight(spec, "3", 40)
            back = await a.manager.rollback("hello")
            assert back.record.active_version == "2" and back.record.phase is Phase.IDLE
            assert back.record.previous_version == "1"  # the warm previous is started again
            assert a.manager.slot_status("hello", "blue")[2] == "1"
            await a.manager.set_weight(spec, "3", 40)
            done = await a.manager.switch(spec, "3")  # the candidate of the split: promoted
            assert done.record.active_version == "3" and done.record.previous_version == "2"

    run(body())


def test_a_restarted_agent_adopts_the_candidate_and_keeps_the_split(tmp_path: Path) -> None:
    async def body() -> None:
        async with services(tmp_path, "127.0.0.29") as a:
            spec = parse_toml(service_toml("hello", a.address, extra='protocol = "http"'), "hello.toml")
            await a.manager.switch(spec, "1")
            await a.manager.set_weight(spec, "2", 30)
            await a.manager.close()  # the agent stops: its proxy goes, the slots keep running
            buffer = TelemetryBuffer()
            probes = ProbeRunner(buffer)
            driver = ProcessDriver(tmp_path / "logs2", lambda svc, kind, msg: None)
            store = StateStore(tmp_path / "services.db")
            again = ServiceManager(store, lambda kind: driver, a.address, buffer, probes, tmp_path / "routers")
            try:
                await again.reconcile()
                rec = again.record("hello")
                assert rec.phase is Phase.WEIGHTED and rec.weight == 30 and rec.target_version == "2"
                assert driver.status("hello", "green").running and driver.status("hello", "blue").running
                load = Load(a.address, spec.front_port)
                load.start()
                seen = await traffic(load, 300)
                await load.stop()
                assert 0.22 < seen.get("2", 0) / 300 < 0.38, seen
                back = await again.set_weight(spec, "2", 0)
                assert back.record.phase is Phase.IDLE
            finally:
                await probes.stop()
                for slot in ("blue", "green"):
                    await driver.stop("hello", slot, 2.0)
                await again.close()
                store.close()

    run(body())
