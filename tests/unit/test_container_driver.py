"""The docker/podman drivers: at the command boundary (a fake engine), and
against real podman with an image built at test time (tests/images.py)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from switchman.agent.services.drivers.base import SlotRun
from switchman.agent.services.drivers.container import ContainerDriver, container_name, host_network
from switchman.agent.services.drivers.engine import INSPECT_FORMAT, run_command
from switchman.agent.services.errors import InvalidService
from switchman.proto.services import SpecError, parse_toml

from tests.helpers import free_port, in_own_loop
from tests.images import (
    RUN_ARGS,
    WebImage,
    WebImages,
    engine_args,
    remove_containers,
    web_images_fixture,  # noqa: F401 (offers the session fixture `web_images` here)
)

RUN = SlotRun(
    "web",
    "green",
    "2.4.1",
    "127.0.0.2",
    18082,
    ("--listen", ":{port}"),
    "registry.local/web:{version}",
    {"GREETING": "hi {slot}"},
    ("--runtime", "runc"),
)


class FakeEngine:
    """Records every command and answers like the engine's CLI."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.running = False
        self.fail_run = ""
        self.fail_inspect = ""

    async def __call__(self, argv: list[str], timeout: float) -> tuple[int, str, str]:
        self.calls.append(argv)
        cmd = next(a for a in argv[1:] if not a.startswith("-") and a != "runc")
        if cmd == "run":
            if self.fail_run:
                return 125, "", self.fail_run
            self.running = True
            return 0, "c0ffee\n", ""
        if cmd == "inspect" and "{{.LogPath}}" in argv:
            return 0, "/var/lib/docker/containers/c0ffee/c0ffee-json.log\n", ""
        if cmd == "inspect":
            if self.fail_inspect:
                return 125, "", self.fail_inspect
            if not self.running:
                return 125, "", "Error: no such object"
            name = argv[-1]
            return 0, f'c0ffee|/{name}|running|4242|2|0|2026-01-01T00:00:00Z|{{"switchman.slot":"green"}}\n', ""
        if cmd in ("stop", "rm"):
            self.running = False
            return 0, "", ""
        if cmd == "ps":
            return 0, "", ""
        return 1, "", f"unexpected {cmd}"


def test_spec_takes_engine_args_and_run_args_for_container_drivers() -> None:
    base = 'name = "web"\ndriver = "podman"\nimage = "localhost/web:{version}"\nfront_port = 1\nback_ports = { blue = 2, green = 3 }\n'
    spec = parse_toml(base + 'engine_args = ["--runtime", "runc"]\nrun_args = ["--network", "host"]\n', "web.toml")
    assert spec.engine_args == ("--runtime", "runc") and spec.run_args == ("--network", "host")
    with pytest.raises(SpecError, match=r"web.toml: engine_args: expected a list of non-empty strings"):
        parse_toml(base + 'engine_args = "--runtime runc"\n', "web.toml")
    with pytest.raises(SpecError, match=r"web.toml: run_args: expected a list of non-empty strings"):
        parse_toml(base + 'run_args = ["--network", 7]\n', "web.toml")
    with pytest.raises(SpecError, match=r"web.toml: engine_args: 'runc' is not a flag"):
        parse_toml(base + 'engine_args = ["runc"]\n', "web.toml")
    with pytest.raises(SpecError, match=r"web.toml: run_args: --name is set by the podman driver itself"):
        parse_toml(base + 'run_args = ["--name=x"]\n', "web.toml")
    process = base.replace('driver = "podman"', 'driver = "process"\ncommand = ["x"]')
    with pytest.raises(SpecError, match=r"web.toml: run_args: only the docker and podman drivers take engine flags"):
        parse_toml(process + 'run_args = ["--network", "host"]\n', "web.toml")


@pytest.mark.parametrize("engine", ["docker", "podman"])
def test_start_runs_the_image_with_engine_args_port_env_labels_and_restart_policy(engine: str, tmp_path: Path) -> None:
    fake = FakeEngine()
    d = ContainerDriver(engine, fake, log_dir=tmp_path)
    st = asyncio.run(d.start(RUN))
    name = container_name("web", "green", str(tmp_path))
    run = next(c for c in fake.calls if "run" in c)
    assert run[:4] == [engine, "--runtime", "runc", "run"]
    assert run[run.index("--name") + 1] == name and name.startswith("switchman-web-green-")
    assert "registry.local/web:2.4.1" in run and run[-2:] == ["--listen", ":18082"]
    assert "127.0.0.2:18082:18082" in run and "PORT=18082" in run and "GREETING=hi green" in run
    assert {"switchman.service=web", "switchman.slot=green", "switchman.version=2.4.1"} <= set(run)
    assert f"switchman.owner={tmp_path}" in run and run[run.index("--restart") + 1] == "on-failure"
    if engine == "podman":  # the slot's log file, as process slots have it
        assert run[run.index("--log-opt") + 1] == f"path={tmp_path / 'web' / 'green.log'}"
    else:  # docker cannot be told where: the slot's log path links to the engine's log
        assert "--log-driver" not in run
        assert os.readlink(tmp_path / "web" / "green.log") == "/var/lib/docker/containers/c0ffee/c0ffee-json.log"
    assert st.running and st.pid == 4242
    if engine == "docker":  # leftovers go first
        assert fake.calls[0][1:] == ["--runtime", "runc", "rm", "--force", name]
    else:
        assert "--replace" in run and fake.calls[0] is run
    assert any(INSPECT_FORMAT in c for c in fake.calls)


def test_run_args_on_the_host_network_publish_nothing() -> None:
    d = ContainerDriver("podman", FakeEngine())
    argv = d.run_argv(SlotRun("web", "blue", "1", "127.0.0.1", 18081, (), "img:{version}", run_args=RUN_ARGS))
    assert "--publish" not in argv and argv[-len(RUN_ARGS) - 1 : -1] == list(RUN_ARGS)
    assert host_network(("--net=host",)) and not host_network(("--network", "bridge"))


def test_stop_and_a_failed_run_are_reported() -> None:
    fake = FakeEngine()
    d = ContainerDriver("docker", fake)
    asyncio.run(d.start(RUN))
    asyncio.run(d.stop("web", "green", 7.0))
    assert ["docker", "--runtime", "runc", "stop", "--time", "7", container_name("web", "green")] in fake.calls
    podman = FakeEngine()
    asyncio.run(ContainerDriver("podman", podman).stop("web", "green", 3.0))
    assert podman.calls == [["podman", "rm", "--force", "--time", "3", container_name("web", "green")]]
    fake.fail_run = "Unable to find image 'registry.local/web:9' locally"
    with pytest.raises(InvalidService, match="docker run failed: Unable to find image"):
        asyncio.run(d.start(SlotRun("web", "blue", "9", "127.0.0.2", 18081, (), "registry.local/web:{version}")))
    assert not asyncio.run(d.adopt(RUN, 0, 0.0))


def test_an_engine_that_fails_to_inspect_is_not_taken_for_gone_containers() -> None:
    fake = FakeEngine()
    d = ContainerDriver("podman", fake)

    async def body() -> None:
        await d.start(RUN)
        fake.fail_inspect = "Error: acquiring lock 0 for container: database is locked"
        runs = sum("run" in c for c in fake.calls)
        with pytest.raises(InvalidService, match="podman inspect failed: Error: acquiring lock"):
            await d.refresh()
        assert sum("run" in c for c in fake.calls) == runs and d.status("web", "green").running
        fake.fail_inspect, fake.running = "", False  # now really gone: noted, then run again after the backoff
        await d.refresh()
        assert not d.status("web", "green").running and d.status("web", "green").last_exit == "container removed"
        await d.close()

    asyncio.run(body())


def test_missing_engine_binary_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(InvalidService, match="needs the `podman` command, which is not installed"):
        asyncio.run(ContainerDriver("podman").start(RUN))


# real engines: podman here; docker where a docker daemon answers ----------------------


@dataclass(frozen=True)
class Real:
    engine: str
    image: WebImage
    logs: Path  # the driver's log directory: its owner label

    def driver(self, **kw: Any) -> ContainerDriver:
        return ContainerDriver(self.engine, run_command, log_dir=self.logs, poll=0.2, **kw)

    def run(self, version: str, port: int, slot: str = "blue", run_args: tuple[str, ...] = RUN_ARGS) -> SlotRun:
        command = ("/bin/serve", "{address}", "{port}")
        flags = engine_args(self.engine)
        return SlotRun("web", slot, version, "127.0.0.1", port, command, self.image.image, {}, flags, run_args)

    def inspect(self, name: str) -> dict[str, Any]:
        argv = [self.engine, *engine_args(self.engine), "inspect", name]
        docs: list[dict[str, Any]] = json.loads(
            subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout or "[]"
        )
        return docs[0] if docs else {}


@pytest.fixture(params=["podman", "docker"])
def real(request: pytest.FixtureRequest, web_images: WebImages, tmp_path: Path) -> Iterator[Real]:
    """A real engine with the web image; the containers of this test are removed at the end."""
    engine = str(request.param)
    r = Real(engine, web_images.get(engine), tmp_path / "logs")
    yield r
    remove_containers(engine, f"switchman.owner={r.logs}")


def http_get(port: int, path: str, timeout: float = 1.0) -> str:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            return str(r.read().decode().strip())
    except OSError:
        return ""


async def eventually(predicate: Callable[[], object], timeout: float, what: str) -> None:
    """Poll ``predicate`` (in a thread: it may block on the network) until truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await asyncio.to_thread(predicate):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def engine_logs(real: Real, name: str) -> str:
    """What the engine keeps of a container's output (docker: `docker logs`)."""
    argv = [real.engine, *engine_args(real.engine), "logs", name]
    return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout


def test_a_real_engine_runs_a_labelled_slot_that_serves_http_and_logs(real: Real) -> None:
    port = free_port()

    @in_own_loop(60)
    async def body() -> None:
        d = real.driver()
        st = await d.start(real.run("2", port))
        await eventually(lambda: http_get(port, "/version") == "2", 20, "the container to serve /version")
        name = d.name("web", "blue")
        doc = real.inspect(name)
        labels = doc["Config"]["Labels"]
        assert labels["switchman.service"] == "web" and labels["switchman.slot"] == "blue"
        assert labels["switchman.version"] == "2" and labels["switchman.owner"] == str(real.logs)
        assert doc["HostConfig"]["RestartPolicy"]["Name"] == "on-failure"
        assert st.running and st.pid == doc["State"]["Pid"] > 0
        assert d.status("web", "blue").rss_bytes > 0  # measured from the container's main process
        log = real.logs / "web" / "blue.log"
        if real.engine == "podman":  # in the slot's log file, as a process slot's output
            await eventually(lambda: log.exists() and "listening on 127.0.0.1" in log.read_text(), 10, "slot log")
        else:  # docker writes its json-file log; the slot's log path links to it
            assert log.is_symlink() and str(log.readlink()) == doc["LogPath"]
            await eventually(lambda: "listening on 127.0.0.1" in log.read_text(), 10, "the linked docker log")
            assert "listening on 127.0.0.1" in engine_logs(real, name)
        await d.stop("web", "blue", 5.0)
        if real.engine == "podman":
            assert "serve: drained" in log.read_text()  # SIGTERM first: it drained and exited
        assert not real.inspect(name) and http_get(port, "/version") == ""
        await d.close()

    body()


def test_a_real_engine_reports_a_missing_image_in_its_own_words(real: Real) -> None:
    run = real.run("9", free_port(), run_args=(*RUN_ARGS, "--pull=never"))
    words = "image not known" if real.engine == "podman" else "No such image"
    with pytest.raises(InvalidService, match=rf"^{real.engine} run failed: .*{words}") as failed:
        asyncio.run(real.driver().start(run))
    assert "localhost/switchman-test-web:9" in str(failed.value) and "\n" not in str(failed.value)


def test_a_real_container_is_adopted_by_label_after_the_agent_goes(real: Real) -> None:
    port = free_port()

    @in_own_loop(60)
    async def body() -> None:
        first = real.driver()
        run = real.run("1", port, "green")
        started_pid = (await first.start(run)).pid
        await first.close()  # the agent goes; the container stays
        await eventually(lambda: http_get(port, "/version") == "1", 20, "the container to serve")
        second = real.driver()
        other = ContainerDriver(real.engine, run_command, log_dir=real.logs.parent / "other-agent")
        assert not await other.adopt(run, 0, 0.0)  # another agent's labels do not match
        assert not await second.adopt(real.run("2", port, "green"), 0, 0.0)  # nor another version
        assert await second.adopt(run, 0, 0.0)
        st = second.status("web", "green")
        assert st.running and st.pid == started_pid == real.inspect(second.name("web", "green"))["State"]["Pid"]
        await second.stop("web", "green", 5.0)
        assert not await real.driver().adopt(run, 0, 0.0)
        await second.close()

    body()


def test_a_real_kill_goes_through_the_engine_and_the_restart_policy_brings_it_back(real: Real) -> None:
    port = free_port()
    events: list[tuple[str, str, str]] = []

    @in_own_loop(90)
    async def body() -> None:
        d = real.driver(on_event=lambda *e: events.append(e))
        first_pid = (await d.start(real.run("1", port))).pid
        await eventually(lambda: http_get(port, "/health") == "ok", 20, "the container to serve")
        name = d.name("web", "blue")
        assert await d.signal("web", "blue", signal.SIGKILL)  # `kill`: the engine leaves it stopped ...
        await eventually(lambda: real.inspect(name)["State"]["Status"] == "exited", 10, "the engine to see it exit")
        # ... and the driver's supervisor starts it again (backoff 0.5 s)
        await eventually(lambda: d.status("web", "blue").restarts == 1, 20, "the driver to restart it")
        await eventually(lambda: http_get(port, "/health") == "ok", 20, "the restarted container to serve")
        second = d.status("web", "blue")
        assert second.running and second.pid != first_pid
        assert real.inspect(name)["State"]["Pid"] == second.pid
        # a crash inside the container (its main process dies): the engine's on-failure policy restarts it
        os.kill(second.pid, signal.SIGKILL)
        await eventually(lambda: d.status("web", "blue").restarts == 2, 20, "the engine's restart to be counted")
        await eventually(lambda: http_get(port, "/health") == "ok", 20, "the container to serve again")
        assert real.inspect(name)["RestartCount"] >= 1
        assert [e[1] for e in events] == ["slot.died", "slot.died"] and "exit code 137" in events[0][2]
        await d.stop("web", "blue", 5.0)
        await d.close()

    body()


def test_a_real_pause_freezes_the_container_through_the_engine(real: Real) -> None:
    port = free_port()

    @in_own_loop(60)
    async def body() -> None:
        d = real.driver()
        await d.start(real.run("1", port))
        await eventually(lambda: http_get(port, "/health") == "ok", 20, "the container to serve")
        name = d.name("web", "blue")
        assert await d.signal("web", "blue", signal.SIGSTOP)
        assert real.inspect(name)["State"]["Status"] == "paused"
        assert await asyncio.to_thread(http_get, port, "/health", 0.5) == ""  # frozen: no answer
        assert d.status("web", "blue").running and d.status("web", "blue").restarts == 0
        assert await d.signal("web", "blue", signal.SIGCONT)
        await eventually(lambda: http_get(port, "/health") == "ok", 10, "the unpaused container to serve")
        assert real.inspect(name)["State"]["Status"] == "running"
        await d.stop("web", "blue", 5.0)
        await d.close()

    body()
