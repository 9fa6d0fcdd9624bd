"""The haproxy router against HAProxy from Debian's package: generated and
started by the agent, or attached to through an existing admin socket."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

from switchman.agent.services.routers.haproxy import HaproxyRouter, render_config
from switchman.proto.services import parse_toml

from tests.helpers import free_port
from tests.integration.test_services import Load, get, run, service_toml, services


def test_switch_and_rollback_through_haproxy_fail_no_request(tmp_path: Path) -> None:
    async def body() -> None:
        async with services(tmp_path, "127.0.0.25") as a:
            spec = parse_toml(service_toml("hello", a.address, router="haproxy"), "hello.toml")
            await a.manager.switch(spec, "1")
            assert "hello from 1 (blue)" in await get(a.address, spec.front_port)
            router = a.manager.routers["hello"]
            assert isinstance(router, HaproxyRouter)
            load = Load(a.address, spec.front_port)
            load.start()
            await asyncio.sleep(0.5)
            second = await a.manager.switch(spec, "2")
            assert second.record.active_slot == "green" and second.flip_latency_ms < 100
            await asyncio.sleep(0.5)
            before = dict(load.versions)
            back = await a.manager.rollback("hello")
            assert back.flip_latency_ms < 1000
            await asyncio.sleep(0.5)
            await load.stop()
            assert load.failed == [], load.failed[:5]
            assert before.get("2", 0) > 0 and load.versions["1"] > before.get("1", 0)
            state = await router.command("show servers state hello")
            assert " blue " in state and " green " in state
            stats = await router.stats()
            assert set(stats) == {"blue", "green"}

    run(body())


def test_attaches_to_an_existing_haproxy(tmp_path: Path) -> None:
    address = "127.0.0.26"
    front, blue, green = free_port(address), free_port(address), free_port(address)
    run_dir = tmp_path / "ext"
    run_dir.mkdir()
    sock, pid = run_dir / "admin.sock", run_dir / "haproxy.pid"
    (run_dir / "haproxy.cfg").write_text(
        render_config(
            "http",
            socket=sock,
            pidfile=pid,
            name="web",
            address=address,
            front_port=front,
            blue_port=blue,
            green_port=green,
        )
    )
    subprocess.run(["haproxy", "-D", "-f", str(run_dir / "haproxy.cfg")], check=True, timeout=20)
    try:

        async def body() -> None:
            async with services(tmp_path, address) as a:
                toml = service_toml("web", address, router="haproxy", extra=f'haproxy_socket = "{sock}"')
                lines = [
                    f"front_port = {front}"
                    if ln.startswith("front_port")
                    else f"back_ports = {{ blue = {blue}, green = {green} }}"
                    if ln.startswith("back_ports")
                    else ln
                    for ln in toml.splitlines()
                ]
                spec = parse_toml("\n".join(lines), "web.toml")
                await a.manager.switch(spec, "7")
                assert "hello from 7 (blue)" in await get(address, front)
                router = a.manager.routers["web"]
                assert isinstance(router, HaproxyRouter) and router.attached

        run(body())
    finally:
        subprocess.run(["kill", pid.read_text().split()[0]], check=False)
