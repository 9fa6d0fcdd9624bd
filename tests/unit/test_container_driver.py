"""The docker/podman drivers at the command boundary (no engine runs on the
build machines), and against a real engine when one answers."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess

import pytest
from switchman.agent.services.drivers.base import SlotRun
from switchman.agent.services.drivers.container import ContainerDriver, container_name, run_command
from switchman.agent.services.errors import InvalidService

RUN = SlotRun(
    "web",
    "green",
    "2.4.1",
    "127.0.0.2",
    18082,
    ("--listen", ":{port}"),
    "registry.local/web:{version}",
    {"GREETING": "hi {slot}"},
)


class FakeEngine:
    """Records every command and answers like the engine's CLI."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.running = False
        self.fail_run = ""

    async def __call__(self, argv: list[str], timeout: float) -> tuple[int, str, str]:
        self.calls.append(argv)
        cmd = argv[1]
        if cmd == "run":
            if self.fail_run:
                return 125, "", self.fail_run
            self.running = True
            return 0, "c0ffee\n", ""
        if cmd == "inspect":
            if not self.running:
                return 1, "", "Error: No such object"
            return 0, json.dumps([{"State": {"Running": True, "Pid": 0, "Error": ""}, "RestartCount": 2}]), ""
        if cmd in ("stop", "rm"):
            self.running = False
            return 0, "", ""
        return 1, "", f"unexpected {cmd}"


@pytest.mark.parametrize("engine", ["docker", "podman"])
def test_start_runs_the_image_with_port_env_labels_and_restart_policy(engine: str) -> None:
    fake = FakeEngine()
    d = ContainerDriver(engine, fake)
    st = asyncio.run(d.start(RUN))
    run = next(c for c in fake.calls if c[1] == "run")
    assert run[0] == engine
    assert run[run.index("--name") + 1] == "switchman-web-green"
    assert "registry.local/web:2.4.1" in run and run[-2:] == ["--listen", ":18082"]
    assert "127.0.0.2:18082:18082" in run and "PORT=18082" in run and "GREETING=hi green" in run
    assert "switchman.version=2.4.1" in run and run[run.index("--restart") + 1] == "on-failure"
    assert st.running and st.restarts == 2
    assert fake.calls[0][1:] == ["rm", "--force", "switchman-web-green"]  # leftovers go first


def test_stop_and_a_failed_run_are_reported() -> None:
    fake = FakeEngine()
    d = ContainerDriver("docker", fake)
    asyncio.run(d.start(RUN))
    asyncio.run(d.stop("web", "green", 7.0))
    assert ["docker", "stop", "--time", "7", container_name("web", "green")] in fake.calls
    fake.fail_run = "Unable to find image 'registry.local/web:9' locally"
    with pytest.raises(InvalidService, match="docker run failed: Unable to find image"):
        asyncio.run(d.start(SlotRun("web", "blue", "9", "127.0.0.2", 18081, (), "registry.local/web:{version}")))
    assert not asyncio.run(d.adopt(RUN, 0, 0.0))


def test_missing_engine_binary_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(InvalidService, match="needs the `podman` command, which is not installed"):
        asyncio.run(ContainerDriver("podman").start(RUN))


def _engine_answers(engine: str) -> bool:
    if shutil.which(engine) is None:
        return False
    return subprocess.run([engine, "info"], capture_output=True, timeout=20).returncode == 0


@pytest.mark.parametrize("engine", ["docker", "podman"])
def test_against_a_real_engine_when_one_answers(engine: str) -> None:
    if not _engine_answers(engine):
        pytest.skip(f"no {engine} engine answers `{engine} info` on this machine (the CLI alone is not enough)")
    d = ContainerDriver(engine, run_command)
    run = SlotRun("smtest", "blue", "3.20", "127.0.0.1", 18999, ("sleep", "30"), "docker.io/library/alpine:{version}")
    try:
        st = asyncio.run(d.start(run))
        assert st.running and st.pid > 0
    finally:
        asyncio.run(d.stop("smtest", "blue", 1.0))
