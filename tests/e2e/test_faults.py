"""Faults on a real agent process, each measured where it acts: latency and
bandwidth on the front port, errors and blackhole as a client sees them,
CPU by the worker's usage, memory by its RSS, disk by free space, kill and
pause on the slot's process. Expiry, halt, clear, bad input, and kill -9 of
the agent with faults applied."""

from __future__ import annotations

import asyncio
import http.client
import shutil
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc
import psutil
import pytest
from switchman.proto.channel import create_channel
from switchman.proto.services import parse_toml, to_proto
from switchman.proto.v1 import agent_pb2, agent_pb2_grpc, common_pb2

from tests.helpers import Daemon, agent_argv, db_rows, free_port, hello_service, in_own_loop, wait_until

pytestmark = pytest.mark.slow
APP = Path(__file__).resolve().parents[2] / "examples" / "hello" / "app.py"
ADDRESS = "127.0.0.71"
MARK = "switchman-fault="


@dataclass
class Agent:
    stub: agent_pb2_grpc.AgentStub
    daemon: Daemon
    front: int
    data: Path

    async def inject(self, kind: str, seconds: float = 30, service: str = "", **params: str) -> common_pb2.Fault:
        spec = common_pb2.FaultSpec(kind=kind, duration_ms=int(seconds * 1000), service=service, params=params)
        return await self.stub.InjectFault(agent_pb2.InjectFaultRequest(spec=spec), timeout=10)

    async def halt(self) -> list[common_pb2.Fault]:
        return list((await self.stub.HaltFaults(agent_pb2.HaltFaultsRequest(), timeout=10)).reverted)

    async def active(self) -> list[common_pb2.Fault]:
        return list((await self.stub.ListFaults(agent_pb2.ListFaultsRequest(), timeout=10)).faults)


def get(port: int, path: str = "/", timeout: float = 5.0) -> tuple[float, bytes]:
    """One request on a new connection; (seconds, body). Raises on errors."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection(ADDRESS, port, timeout=timeout)
    try:
        conn.request("GET", path)
        body = conn.getresponse().read()
    finally:
        conn.close()
    return time.perf_counter() - started, body


def workers(fault_id: str) -> list[psutil.Process]:
    out = []
    for p in psutil.process_iter(["cmdline"]):
        try:
            if f"{MARK}{fault_id}" in (p.info["cmdline"] or []):
                out.append(p)
        except psutil.Error:
            continue
    return out


sync = in_own_loop(180)


@asynccontextmanager
async def agent(tmp_path: Path, daemons: list[Daemon]) -> AsyncIterator[Agent]:
    port = free_port(ADDRESS)
    argv = agent_argv(tmp_path / "a", free_port(), ADDRESS, "chaos-1", "--max-fault-duration", "10m")
    argv[argv.index(f"{ADDRESS}:0")] = f"{ADDRESS}:{port}"
    d = Daemon(argv, tmp_path / "agent.log")
    daemons.append(d.start())
    channel = create_channel(f"{ADDRESS}:{port}", None)
    stub = agent_pb2_grpc.AgentStub(channel)
    app = tmp_path / "app.py"
    shutil.copy(APP, app)
    front, blue, green = free_port(ADDRESS), free_port(ADDRESS), free_port(ADDRESS)
    spec = parse_toml(
        f"""
{hello_service(app, front, blue, green)}
drain_timeout = "2s"
[probe]
kind = "http"
path = "/health"
interval = "300ms"
""",
        "hello.toml",
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            await stub.Switch(agent_pb2.SwitchRequest(spec=to_proto(spec), version="1"), timeout=30)
            break
        except grpc.aio.AioRpcError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)
    try:
        yield Agent(stub, d, front, tmp_path / "a")
    finally:
        await channel.close(None)


@sync
async def test_network_faults_act_within_a_second_and_halt_reverts_within_a_second(
    tmp_path: Path, daemons: list[Daemon]
) -> None:
    async with agent(tmp_path, daemons) as a:
        base, body = await asyncio.to_thread(get, a.front)
        assert body.startswith(b"hello from 1") and base < 0.2

        f = await a.inject("latency", service="hello", latency="400ms", stream="down")
        injected = time.perf_counter()
        slow, _ = await asyncio.to_thread(get, a.front)
        assert slow >= 0.38, f"latency fault not in effect: {slow:.3f}s"
        assert time.perf_counter() - injected - slow < 1.0  # fault to effect <= 1 s
        assert [x.id for x in await a.active()] == [f.id]
        halted = await a.halt()
        assert [x.state for x in halted] == [common_pb2.FAULT_STATE_REVERTED]
        fast, _ = await asyncio.to_thread(get, a.front)
        assert fast < 0.2, "halt to revert <= 1 s"
        assert await a.halt() == [], "halt is idempotent"

        await a.inject("errors", service="hello", probability="1")
        with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
            await asyncio.to_thread(get, a.front)
        await a.halt()
        await a.inject("blackhole", service="hello")
        with pytest.raises(TimeoutError):
            await asyncio.to_thread(get, a.front, "/", 1.0)
        await a.halt()

        quick, big = await asyncio.to_thread(get, a.front, "/bytes/262144")
        assert len(big) == 262144
        await a.inject("bandwidth", service="hello", rate="128")
        throttled, big = await asyncio.to_thread(get, a.front, "/bytes/262144")
        assert len(big) == 262144 and throttled >= 1.6 > quick, f"256 KiB at 128 KiB/s took {throttled:.2f}s"
        await a.halt()

        short = await a.inject("latency", seconds=1, service="hello", latency="300ms")
        wait_until(
            lambda: (
                db_rows(a.data / "faults.db", "SELECT state FROM faults WHERE id = ?", (short.id,)) == [("reverted",)]
            ),
            5,
            what="expiry",
        )
        assert (await asyncio.to_thread(get, a.front))[0] < 0.2


@sync
async def test_cpu_memory_disk_kill_pause_and_bad_input(tmp_path: Path, daemons: list[Daemon]) -> None:
    async with agent(tmp_path, daemons) as a:
        cpu = await a.inject("cpu", workers="1", load="100")
        [worker] = wait_until(lambda: workers(cpu.id), 2, what="cpu worker")
        burnt = sum(worker.cpu_times()[:2])
        # an idle process uses next to nothing; a burner gets 0.8 s of CPU within 4 s even
        # when the other test worker keeps a core busy
        wait_until(lambda: sum(worker.cpu_times()[:2]) - burnt >= 0.8, 4, what="the worker burning CPU")
        mem = await a.inject("memory", size="96")
        [holder] = wait_until(lambda: workers(mem.id), 2, what="memory worker")
        wait_until(lambda: holder.memory_info().rss >= 90 * 2**20, 3, what="96 MiB resident")

        free_before = shutil.disk_usage(tmp_path).free
        disk = await a.inject("disk_fill", path=str(tmp_path), size="64")
        assert free_before - shutil.disk_usage(tmp_path).free >= 60 * 2**20
        total = shutil.disk_usage(tmp_path).total // 2**20
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await a.inject("disk_fill", path=str(tmp_path), size=str(total))
        assert e.value.code() is grpc.StatusCode.INVALID_ARGUMENT and "below min_free" in (e.value.details() or "")

        await a.stub.ClearFault(agent_pb2.ClearFaultRequest(id=disk.id), timeout=10)
        assert free_before - shutil.disk_usage(tmp_path).free < 16 * 2**20, "the fill file is gone"
        started = time.perf_counter()
        await a.halt()
        assert not workers(cpu.id) and not workers(mem.id) and time.perf_counter() - started < 1.0

        services = await a.stub.ListServices(agent_pb2.ListAgentServicesRequest(), timeout=5)
        [svc] = services.services
        pid = next(x.pid for x in svc.slots if x.slot == svc.active_slot)
        await a.inject("pause", service="hello")
        assert psutil.Process(pid).status() == psutil.STATUS_STOPPED
        await a.halt()
        assert psutil.Process(pid).status() != psutil.STATUS_STOPPED
        await a.inject("kill", service="hello", signal="KILL")

        def gone() -> bool:
            try:
                return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
            except psutil.NoSuchProcess:  # reaped between two looks
                return True

        wait_until(gone, 3, what="slot killed")
        await a.halt()

        for kind, seconds, service, params, message in (
            ("flood", 10, "", {}, "kind: 'flood' is not one of"),
            ("cpu", 0, "", {}, "needs a duration"),
            ("cpu", 10 * 365 * 86400, "", {}, "longer than this agent's cap"),
            ("latency", 10, "nope", {"latency": "1s"}, "does not run a service named 'nope'"),
            ("latency", 10, "hello", {"latncy": "1s"}, "unknown parameter 'latncy'"),
            ("cpu", 10, "", {"workers": "1000"}, "workers: must be between 1 and 64"),
        ):
            with pytest.raises(grpc.aio.AioRpcError) as e:
                await a.inject(kind, seconds, service, **params)
            assert e.value.code() is grpc.StatusCode.INVALID_ARGUMENT and message in (e.value.details() or ""), kind
        assert await a.active() == [], "nothing refused was recorded or applied"


@sync
async def test_faults_left_by_a_killed_agent_are_reverted_at_start(tmp_path: Path, daemons: list[Daemon]) -> None:
    async with agent(tmp_path, daemons) as a:
        cpu = await a.inject("cpu", seconds=300, workers="2", load="50")
        mem = await a.inject("memory", seconds=300, size="32")
        wait_until(lambda: len(workers(cpu.id)) == 2 and workers(mem.id), 3, what="workers running")
        a.daemon.kill9()
        # the workers notice their agent is gone (their parent changed) and end by themselves
        wait_until(lambda: not workers(cpu.id) and not workers(mem.id), 5, what="orphaned workers ending")
        again = Daemon(a.daemon.argv, tmp_path / "agent2.log")
        daemons.append(again.start())
        wait_until(
            lambda: (
                db_rows(a.data / "faults.db", "SELECT state FROM faults ORDER BY rowid")
                == [("reverted",), ("reverted",)]
            ),
            15,
            what="ledger clean after restart",
        )
        assert "left applied by a previous run" in again.log() or "reverted 2 fault(s)" in again.log()
