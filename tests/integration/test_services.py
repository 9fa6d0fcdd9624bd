"""Switch and rollback with real processes, the builtin router and real HTTP
traffic on loopback (in-process agent parts)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from switchman.agent.probes.runner import ProbeRunner
from switchman.agent.services.drivers.process import ProcessDriver
from switchman.agent.services.errors import InvalidService, SwitchFailed
from switchman.agent.services.manager import ServiceManager
from switchman.agent.services.state import StateStore
from switchman.agent.telemetry_buffer import TelemetryBuffer
from switchman.proto.services import parse_toml

from tests.helpers import free_port

APP = Path(__file__).resolve().parents[2] / "examples" / "hello" / "app.py"


def service_toml(
    name: str,
    address: str,
    keep_previous: bool = True,
    command: str | None = None,
    router: str = "builtin",
    extra: str = "",
) -> str:
    front, blue, green = (free_port(address) for _ in range(3))
    cmd = (
        command
        or f'["{sys.executable}", "{APP}", "--version", "{{version}}", "--host", "{{address}}", "--port", "{{port}}", "--slot", "{{slot}}"]'
    )
    return f"""
name = "{name}"
command = {cmd}
front_port = {front}
back_ports = {{ blue = {blue}, green = {green} }}
drain_timeout = "3s"
router = "{router}"
{extra}
keep_previous = {"true" if keep_previous else "false"}
healthy_deadline = "10s"
[probe]
kind = "http"
path = "/health"
interval = "200ms"
timeout = "200ms"
success_before_passing = 2
"""


@dataclass
class Agentish:
    manager: ServiceManager
    driver: ProcessDriver
    buffer: TelemetryBuffer
    address: str


@asynccontextmanager
async def services(tmp_path: Path, address: str) -> AsyncIterator[Agentish]:
    buffer = TelemetryBuffer()
    probes = ProbeRunner(buffer)
    driver = ProcessDriver(tmp_path / "logs", lambda svc, kind, msg: buffer.event(kind, msg, service=svc))
    store = StateStore(tmp_path / "services.db")
    m = ServiceManager(store, lambda kind: driver, address, buffer, probes, tmp_path / "routers")
    try:
        yield Agentish(m, driver, buffer, address)
    finally:
        await probes.stop()
        for name in m.names():
            for slot in ("blue", "green"):
                await driver.stop(name, slot, 2.0)
        for router in m.routers.values():
            await router.stop()
        await m.close()
        store.close()


async def get(host: str, port: int) -> str:
    r, w = await asyncio.wait_for(asyncio.open_connection(host, port), 2)
    w.write(f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    data = await asyncio.wait_for(r.read(), 2)
    w.close()
    return data.decode().rsplit("\r\n\r\n", 1)[-1]


class Load:
    """Keep-alive HTTP clients hammering the front port; every failure counted."""

    def __init__(self, host: str, port: int, clients: int = 4) -> None:
        self.host, self.port, self.clients = host, port, clients
        self.ok = 0
        self.failed: list[str] = []
        self.versions: dict[str, int] = {}
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._client()) for _ in range(self.clients)]

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)

    async def _client(self) -> None:
        r = w = None
        me = asyncio.current_task()
        # Python 3.11's wait_for can swallow a cancel that lands as its read finishes: stop on the request too
        while not self._stop.is_set() and not (me is not None and me.cancelling()):
            try:
                if w is None:
                    r, w = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), 2)
                w.write(f"GET / HTTP/1.1\r\nHost: {self.host}\r\n\r\n".encode())
                await w.drain()
                head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 5)
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                body = (await asyncio.wait_for(r.readexactly(length), 5)).decode()
                self.ok += 1
                version = body.split()[2]
                self.versions[version] = self.versions.get(version, 0) + 1
                if b"connection: close" in head.lower():
                    w.close()
                    r = w = None
            except (OSError, asyncio.IncompleteReadError, TimeoutError, IndexError, ValueError) as exc:
                self.failed.append(f"{type(exc).__name__}: {exc}")
                if w is not None:
                    w.close()
                r = w = None
        if w is not None:
            w.close()


def run(coro: Coroutine[Any, Any, None]) -> None:
    asyncio.run(asyncio.wait_for(coro, 90))


def test_switch_and_rollback_under_load_fail_no_request(tmp_path: Path) -> None:
    async def body() -> None:
        async with services(tmp_path, "127.0.0.21") as a:
            spec = parse_toml(service_toml("hello", a.address), "hello.toml")
            first = await a.manager.switch(spec, "1")
            assert first.changed and first.record.active_slot == "blue"
            assert "hello from 1 (blue)" in await get(a.address, spec.front_port)
            load = Load(a.address, spec.front_port)
            load.start()
            await asyncio.sleep(0.5)  # load running before the switch
            second = await a.manager.switch(spec, "2")
            assert second.record.active_slot == "green" and second.record.previous_version == "1"
            assert second.flip_latency_ms < 100
            await asyncio.sleep(0.5)
            before = dict(load.versions)
            back = await a.manager.rollback("hello")
            assert back.record.active_version == "1" and back.flip_latency_ms < 1000
            await asyncio.sleep(0.5)
            await load.stop()
            assert load.failed == [], load.failed[:5]
            assert load.ok > 100 and before.get("2", 0) > 0 and load.versions["1"] > before.get("1", 0)
            again = await a.manager.switch(spec, "1")
            assert not again.changed  # idempotent
            assert "hello from 1" in await get(a.address, spec.front_port)

    run(body())


def test_unhealthy_version_never_gets_traffic_and_is_stopped(tmp_path: Path) -> None:
    async def body() -> None:
        async with services(tmp_path, "127.0.0.22") as a:
            spec = parse_toml(service_toml("hello", a.address), "hello.toml")
            await a.manager.switch(spec, "1")
            with pytest.raises(SwitchFailed, match="did not become healthy"):
                await a.manager.switch(spec, "2-unhealthy", healthy_deadline_s=1.5)
            rec = a.manager.record("hello")
            assert rec.active_version == "1" and rec.phase.value == "idle"
            assert not a.driver.status("hello", "green").running
            assert "hello from 1" in await get(a.address, spec.front_port)

    run(body())


def test_bad_command_and_busy_port_are_clear_errors(tmp_path: Path) -> None:
    async def body() -> None:
        async with services(tmp_path, "127.0.0.23") as a:
            spec = parse_toml(service_toml("nope", a.address, command='["/no/such/binary", "{port}"]'), "nope.toml")
            with pytest.raises(InvalidService, match="command not found: /no/such/binary"):
                await a.manager.switch(spec, "1")
            spec2 = parse_toml(service_toml("busy", a.address), "busy.toml")
            blocker = socket.socket()
            blocker.bind((a.address, spec2.blue_port))
            blocker.listen()
            try:
                with pytest.raises(InvalidService, match=r"port .* is in use"):
                    await a.manager.switch(spec2, "1")
            finally:
                blocker.close()

    run(body())


def test_a_slot_that_dies_is_restarted_and_reported(tmp_path: Path) -> None:
    async def body() -> None:
        async with services(tmp_path, "127.0.0.24") as a:
            spec = parse_toml(service_toml("hello", a.address), "hello.toml")
            await a.manager.switch(spec, "1")
            pid = a.driver.status("hello", "blue").pid
            os.kill(pid, signal.SIGKILL)
            deadline = asyncio.get_running_loop().time() + 10
            while asyncio.get_running_loop().time() < deadline:
                st = a.driver.status("hello", "blue")
                if st.running and st.pid != pid:
                    break
                await asyncio.sleep(0.05)
            st = a.driver.status("hello", "blue")
            assert st.running and st.pid != pid and st.restarts == 1
            assert any(e.kind == "slot.died" for e in a.buffer.events)

    run(body())
