"""The agent's parts on plain data: a slot's state from its process and probe,
the status code of every agent error, the driver registry, the agent's own
families read from what the collector is handed, the configured probes
replaced on reload."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import grpc
import psutil
import pytest
from switchman.agent.collect.agent_self import AgentSelfCollector, CycleStats
from switchman.agent.collect.model import Family
from switchman.agent.errors import AgentError, SpoolError, UnknownProbe
from switchman.agent.faults.errors import FaultFailed, InvalidFault, UnknownFault
from switchman.agent.probes.runner import ProbeRunner
from switchman.agent.probes.state import ProbeState, Status
from switchman.agent.push import LinkStats
from switchman.agent.rpc import status_for
from switchman.agent.services.drivers.base import SlotProcess
from switchman.agent.services.drivers.container import ContainerDriver
from switchman.agent.services.drivers.process import ProcessDriver
from switchman.agent.services.drivers.registry import Drivers
from switchman.agent.services.errors import InvalidService, SwitchFailed, SwitchInProgress, UnknownService
from switchman.agent.services.view import SlotState, slot_state
from switchman.agent.spool import SpoolStats
from switchman.agent.telemetry_buffer import TelemetryBuffer
from switchman.proto.probes import ProbeError, ProbeSpec, parse_probe
from switchman.proto.services import SpecError
from switchman.proto.validate import ValidationError

RUNNING = SlotProcess(pid=10, running=True)


def probe(status: Status, *, passes: int = 0, failures: int = 0, before_critical: int = 3) -> ProbeState:
    return ProbeState(1, before_critical, status=status, failures=failures, total_passes=passes)


@pytest.mark.parametrize(
    ("proc", "state", "expected"),
    [
        (SlotProcess(), None, SlotState.STOPPED),
        (SlotProcess(restarts=2, last_exit="exit 1"), None, SlotState.FAILED),
        (RUNNING, None, SlotState.STARTING),
        (RUNNING, probe(Status.CRITICAL), SlotState.STARTING),
        (RUNNING, probe(Status.CRITICAL, failures=3), SlotState.UNHEALTHY),
        (RUNNING, probe(Status.PASSING, passes=1), SlotState.HEALTHY),
        (RUNNING, probe(Status.WARNING), SlotState.HEALTHY),
        (RUNNING, probe(Status.CRITICAL, passes=4, failures=3), SlotState.UNHEALTHY),
        (SlotProcess(restarts=1), probe(Status.PASSING, passes=1), SlotState.FAILED),
    ],
)
def test_a_slot_is_healthy_only_while_it_runs_and_its_probe_passes(
    proc: SlotProcess, state: ProbeState | None, expected: SlotState
) -> None:
    assert slot_state(proc, state) is expected


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (InvalidService("x"), grpc.StatusCode.INVALID_ARGUMENT),
        (UnknownService("x"), grpc.StatusCode.NOT_FOUND),
        (SwitchInProgress("x"), grpc.StatusCode.ABORTED),
        (SwitchFailed("x"), grpc.StatusCode.FAILED_PRECONDITION),
        (InvalidFault("x"), grpc.StatusCode.INVALID_ARGUMENT),
        (UnknownFault("x"), grpc.StatusCode.NOT_FOUND),
        (FaultFailed("x"), grpc.StatusCode.FAILED_PRECONDITION),
        (UnknownProbe("x"), grpc.StatusCode.NOT_FOUND),
        (SpoolError("x"), grpc.StatusCode.INTERNAL),
        (ProbeError("x"), grpc.StatusCode.INVALID_ARGUMENT),
        (SpecError("x"), grpc.StatusCode.INVALID_ARGUMENT),
        (ValidationError("x"), grpc.StatusCode.INVALID_ARGUMENT),
        (RuntimeError("a bug"), grpc.StatusCode.UNKNOWN),
    ],
)
def test_every_agent_error_has_one_status_code(exc: Exception, code: grpc.StatusCode) -> None:
    assert status_for(exc) is code


def test_every_agent_error_is_an_agent_error() -> None:
    for cls in (InvalidService, UnknownService, SwitchInProgress, SwitchFailed, InvalidFault, UnknownFault):
        assert issubclass(cls, AgentError), cls
    assert issubclass(FaultFailed, AgentError) and issubclass(SpoolError, AgentError)


def test_drivers_are_picked_by_kind_and_a_container_engine_is_made_once(tmp_path: Path) -> None:
    process = ProcessDriver(tmp_path / "logs")
    made: list[str] = []

    def container(engine: str) -> ContainerDriver:
        made.append(engine)
        return ContainerDriver(engine)

    drivers = Drivers(process, container)
    assert drivers("process") is process
    assert drivers("docker") is drivers("docker") and made == ["docker"]
    assert isinstance(drivers("podman"), ContainerDriver) and made == ["docker", "podman"]
    with pytest.raises(InvalidService, match="driver 'lxc' is not available on this agent"):
        drivers("lxc")


def values(families: list[Family]) -> dict[str, float]:
    return {f.name: f.samples[0][1] for f in families}


def test_the_agents_own_families_read_what_the_collector_was_handed() -> None:
    link = LinkStats(connected=True, pushes_ok=7, pushes_failed=2)
    cycles = CycleStats()
    spool = SpoolStats(batches=3, samples=40, bytes=5000, dropped_samples=1)
    collector = AgentSelfCollector(lambda: spool, link, cycles, lambda: 4, psutil.Process(os.getpid()), "1.2.3")
    cycles.timed(lambda: [])
    got = values(collector.collect())
    assert got["switchman_agent_spool_batches"] == 3 and got["switchman_agent_spool_samples"] == 40
    assert got["switchman_agent_spool_bytes"] == 5000 and got["switchman_agent_spool_dropped_total"] == 1
    assert got["switchman_agent_collect_cycles_total"] == 1
    assert got["switchman_agent_controller_connected"] == 1 and got["switchman_agent_pushes_total"] == 7
    assert got["switchman_agent_push_failures_total"] == 2 and got["switchman_agent_probes"] == 4
    assert got["process_resident_memory_bytes"] > 0 and got["process_open_fds"] > 0
    assert got["process_start_time_seconds"] == psutil.Process().create_time()
    [build] = [f for f in collector.collect() if f.name == "switchman_agent_build_info"]
    assert build.samples == [((("version", "1.2.3"),), 1.0)]
    link.connected = False
    assert values(collector.collect())["switchman_agent_controller_connected"] == 0


def test_a_collection_cycle_counts_and_costs_the_cpu_it_spent() -> None:
    cycles = CycleStats()

    def busy() -> list[Family]:
        sum(range(200_000))
        return [Family.of("x", "gauge", "x", 1)]

    assert [f.name for f in cycles.timed(busy)] == ["x"]
    cycles.timed(busy)
    assert cycles.cycles == 2 and cycles.cpu_seconds > 0


def test_a_reload_replaces_the_configured_probes_and_keeps_the_slots_probes() -> None:
    def tcp(name: str) -> ProbeSpec:
        return parse_probe({"kind": "tcp", "address": "127.0.0.1:1", "name": name, "interval": "1h"})

    async def body() -> None:
        runner = ProbeRunner(TelemetryBuffer())
        runner.add("web:blue", tcp("web"), "blue")
        runner.replace("probe:", [tcp("a"), tcp("b")])
        runner.replace("probe:", [tcp("b"), tcp("c")])
        try:
            assert sorted(runner.keys()) == ["probe:b", "probe:c", "web:blue"]
            assert runner.find("c").name == "c" and runner.find("web").name == "web"
            with pytest.raises(UnknownProbe, match="no probe named 'a' on this agent"):
                runner.find("a")
        finally:
            await runner.stop()

    asyncio.run(asyncio.wait_for(body(), 10))
