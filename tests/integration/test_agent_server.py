"""The Agent service built from its parts, without the daemon: a real gRPC
server on port 0 over a real service manager, fault manager, probe runner
and spool; every error the parts raise reaches the caller as its status code."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from switchman.agent.collect.agent_self import AgentSelfCollector, CycleStats
from switchman.agent.collect.readings import Readings
from switchman.agent.collect.services import ServiceSlotCollector
from switchman.agent.faults.ledger import Ledger
from switchman.agent.faults.manager import FaultManager
from switchman.agent.probes.runner import ProbeRunner
from switchman.agent.push import Identity, LinkStats
from switchman.agent.server import AgentInfoSource, AgentParts, create_server
from switchman.agent.services.drivers.process import ProcessDriver
from switchman.agent.services.drivers.registry import Drivers
from switchman.agent.services.manager import ServiceManager
from switchman.agent.services.state import StateStore
from switchman.agent.spool import Spool, SpoolStats
from switchman.agent.telemetry_buffer import TelemetryBuffer
from switchman.proto.channel import create_channel, listen
from switchman.proto.services import parse_toml, to_proto
from switchman.proto.v1 import agent_pb2, agent_pb2_grpc, common_pb2

from tests.helpers import free_port, hello_service, in_own_loop

APP = Path(__file__).resolve().parents[2] / "examples" / "hello" / "app.py"
ADDRESS = "127.0.0.81"
HOST_ID = "parts-1"
Code = grpc.StatusCode


@dataclass
class Served:
    stub: agent_pb2_grpc.AgentStub
    services: ServiceManager
    link: LinkStats


sync = in_own_loop(60)


@asynccontextmanager
async def agent_server(tmp_path: Path) -> AsyncIterator[Served]:
    buffer = TelemetryBuffer()
    probes = ProbeRunner(buffer)
    store = StateStore(tmp_path / "services.db")
    drivers = Drivers(ProcessDriver(tmp_path / "logs"))
    services = ServiceManager(store, drivers, ADDRESS, buffer, probes, tmp_path / "routers")
    faults = FaultManager(Ledger(tmp_path / "faults.db"), services, lambda on: None, buffer, tmp_path, 600_000)
    spool = Spool(tmp_path / "spool.db", 1 << 20)
    link, cycles = LinkStats(), CycleStats()
    own = AgentSelfCollector(spool.stats, link, cycles, lambda: len(probes.keys()))
    readings = Readings([own, ServiceSlotCollector(services)], cycles)

    async def spool_stats() -> SpoolStats:
        return await asyncio.to_thread(spool.stats)

    info = AgentInfoSource(
        identity=lambda: Identity(HOST_ID, "parts-host", {"zone": "a"}, f"{ADDRESS}:0", "9.9.9", ["services"]),
        controller="127.0.0.1:1",
        started_at_ms=1234,
        link=link,
        spool_stats=spool_stats,
        read_now=readings.read_now,
    )
    server, _ = create_server(AgentParts(services, faults, probes, info))
    port = listen(server, "127.0.0.1:0", None)
    await server.start()
    channel = create_channel(f"127.0.0.1:{port}", None)
    try:
        yield Served(agent_pb2_grpc.AgentStub(channel), services, link)
    finally:
        await channel.close(None)
        await server.stop(None)
        for name in services.names():
            await services.stop_service(name)
        await probes.stop()
        await faults.close()
        await services.close()
        store.close()
        spool.close()


def hello_spec(healthy_deadline: str = "10s") -> tuple[common_pb2.ServiceSpec, int]:
    """The example HTTP service, and its blue back port."""
    front, blue, green = (free_port(ADDRESS) for _ in range(3))
    spec = to_proto(
        parse_toml(
            f"""
{hello_service(APP, front, blue, green)}
drain_timeout = "1s"
healthy_deadline = "{healthy_deadline}"
[probe]
kind = "http"
path = "/health"
interval = "200ms"
timeout = "200ms"
""",
            "hello.toml",
        )
    )
    return spec, blue


async def refused(call: Awaitable[Any], code: grpc.StatusCode, text: str) -> None:
    """``call`` fails with ``code`` and a message that says ``text``."""
    try:
        await call
    except grpc.aio.AioRpcError as exc:
        assert exc.code() is code and text in (exc.details() or ""), (exc.code(), exc.details())
        return
    raise AssertionError("the call succeeded")


def by_name(families: list[common_pb2.Series]) -> dict[tuple[str, str], float]:
    return {(s.name, s.labels.get("slot", "")): s.values[-1] for s in families}


@sync
async def test_an_agent_server_built_from_its_parts_answers_info_and_snapshot_on_port_0(tmp_path: Path) -> None:
    async with agent_server(tmp_path) as a:
        a.link.pushes_ok = 3
        info = await a.stub.GetInfo(agent_pb2.GetInfoRequest(), timeout=5)
        assert (info.host_id, info.version, info.controller, info.started_at_ms) == (
            HOST_ID,
            "9.9.9",
            "127.0.0.1:1",
            1234,
        )
        assert dict(info.labels) == {"zone": "a"} and not info.controller_connected and info.spool_batches == 0
        listed = await a.stub.ListServices(agent_pb2.ListAgentServicesRequest(), timeout=5)
        assert list(listed.services) == []
        snap = await a.stub.GetSnapshot(agent_pb2.GetSnapshotRequest(prefix="switchman_agent_"), timeout=5)
        values = by_name(list(snap.series))
        assert values[("switchman_agent_pushes_total", "")] == 3
        assert values[("switchman_agent_spool_batches", "")] == 0
        assert all(s.name.startswith("switchman_agent_") for s in snap.series)


@sync
async def test_an_unknown_fault_is_not_found_and_an_invalid_one_is_invalid_argument(tmp_path: Path) -> None:
    async with agent_server(tmp_path) as a:
        await refused(
            a.stub.ClearFault(agent_pb2.ClearFaultRequest(id="f00"), timeout=5),
            Code.NOT_FOUND,
            "fault 'f00' does not exist on this agent",
        )
        spec = common_pb2.FaultSpec(kind="nope", duration_ms=1000)
        await refused(
            a.stub.InjectFault(agent_pb2.InjectFaultRequest(spec=spec), timeout=5),
            Code.INVALID_ARGUMENT,
            "kind: 'nope' is not one of",
        )
        spec = common_pb2.FaultSpec(kind="blackhole", duration_ms=1000, service="ghost")
        await refused(
            a.stub.InjectFault(agent_pb2.InjectFaultRequest(spec=spec), timeout=5), Code.INVALID_ARGUMENT, "'ghost'"
        )


@sync
async def test_unknown_services_and_probes_are_not_found_and_a_spec_without_its_file_is_invalid(
    tmp_path: Path,
) -> None:
    async with agent_server(tmp_path) as a:
        await refused(
            a.stub.Rollback(agent_pb2.RollbackRequest(service="ghost"), timeout=5),
            Code.NOT_FOUND,
            "does not run a service named 'ghost'",
        )
        await refused(
            a.stub.RunProbe(agent_pb2.RunProbeRequest(name="ghost"), timeout=5),
            Code.NOT_FOUND,
            "no probe named 'ghost'",
        )
        bare = common_pb2.ServiceSpec(name="bare")
        await refused(
            a.stub.Switch(agent_pb2.SwitchRequest(spec=bare, version="1"), timeout=5),
            Code.INVALID_ARGUMENT,
            "carries no source_toml",
        )


@sync
async def test_a_second_switch_while_one_runs_is_aborted_and_one_that_never_turns_healthy_fails(
    tmp_path: Path,
) -> None:
    async with agent_server(tmp_path) as a:
        spec, _ = hello_spec("3s")
        first = asyncio.ensure_future(
            a.stub.Switch(agent_pb2.SwitchRequest(spec=spec, version="1-unhealthy"), timeout=20)
        )
        deadline = time.monotonic() + 10
        while not a.services.names():  # the record is written before the switch acts
            assert time.monotonic() < deadline and not first.done(), "the first switch never started"
            await asyncio.sleep(0.02)
        await refused(
            a.stub.Switch(agent_pb2.SwitchRequest(spec=spec, version="2"), timeout=5),
            Code.ABORTED,
            "a switch is already running",
        )
        await refused(first, Code.FAILED_PRECONDITION, "did not become healthy within 3s")


@sync
async def test_list_services_and_the_slot_metrics_read_the_same_slot_view(tmp_path: Path) -> None:
    async with agent_server(tmp_path) as a:
        spec, blue_port = hello_spec()
        done = await a.stub.Switch(agent_pb2.SwitchRequest(spec=spec, version="1"), timeout=20)
        assert done.changed and done.status.active_version == "1"
        blue, green = done.status.slots
        assert (blue.slot, blue.version, blue.port) == (common_pb2.SLOT_BLUE, "1", blue_port) and blue.pid > 0
        assert (green.state, green.version, green.pid) == (common_pb2.SLOT_STATE_STOPPED, "", 0)
        deadline = time.monotonic() + 10
        while True:  # the slot's watching probe has its own first verdict to reach
            [listed] = (await a.stub.ListServices(agent_pb2.ListAgentServicesRequest(), timeout=5)).services
            if listed.slots[0].state == common_pb2.SLOT_STATE_HEALTHY:
                break
            assert listed.slots[0].state == common_pb2.SLOT_STATE_STARTING and time.monotonic() < deadline
            await asyncio.sleep(0.05)
        assert [(s.slot, s.version, s.pid) for s in listed.slots] == [
            (s.slot, s.version, s.pid) for s in done.status.slots
        ]
        assert listed.slots[0].rss_bytes > 0
        snap = await a.stub.GetSnapshot(agent_pb2.GetSnapshotRequest(prefix="switchman_service_slot_"), timeout=5)
        values = by_name(list(snap.series))
        assert values[("switchman_service_slot_up", "blue")] == 1.0
        assert values[("switchman_service_slot_active", "blue")] == 1.0
        assert values[("switchman_service_slot_resident_memory_bytes", "blue")] > 0
        assert not any(slot == "green" for _, slot in values), "a slot holding nothing has no series"
        assert {s.labels["version"] for s in snap.series} == {"1"}
