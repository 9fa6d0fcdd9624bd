"""The ``docker`` and ``podman`` drivers: a slot is a container run through the
engine's CLI (both take the same arguments).

The image is the spec's ``image`` with ``{version}`` substituted; the
container gets ``PORT`` and the spec's env, publishes the slot's back port on
the service address, and is named ``switchman-SERVICE-SLOT`` with labels so
it is found again after an agent restart. The engine supervises it
(``--restart on-failure``); its restart count and main pid are read with
``inspect``. Every call goes through ``runner`` so tests drive the driver at
the command boundary without an engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
import signal
from collections.abc import Awaitable, Callable

import psutil
from switchman.agent.services.drivers.base import SlotProcess, SlotRun
from switchman.agent.services.errors import InvalidService

log = logging.getLogger(__name__)

Runner = Callable[[list[str], float], Awaitable[tuple[int, str, str]]]


async def run_command(argv: list[str], timeout: float) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return 124, "", f"{argv[0]} {argv[1]} timed out after {timeout:g}s"
    return proc.returncode or 0, out.decode(errors="replace"), err.decode(errors="replace")


def container_name(service: str, slot: str) -> str:
    return f"switchman-{service}-{slot}"


class ContainerDriver:
    def __init__(self, engine: str, runner: Runner = run_command) -> None:
        if engine not in ("docker", "podman"):
            raise ValueError(engine)
        self.engine = engine
        self._run = runner
        self._runs: dict[tuple[str, str], SlotRun] = {}
        self._last: dict[tuple[str, str], SlotProcess] = {}

    async def _cli(self, *args: str, timeout: float = 60.0) -> str:
        if self._run is run_command and shutil.which(self.engine) is None:
            raise InvalidService(f"the {self.engine} driver needs the `{self.engine}` command, which is not installed")
        rc, out, err = await self._run([self.engine, *args], timeout)
        if rc != 0:
            raise InvalidService(f"{self.engine} {args[0]} failed: {(err or out).strip()[:400]}")
        return out

    def run_argv(self, run: SlotRun) -> list[str]:
        """The ``run`` arguments for a slot (exposed for tests and for `switchman service show`)."""
        image = run.substitute(run.image)
        argv = [
            "run",
            "--detach",
            "--name",
            container_name(run.service, run.slot),
            "--label",
            f"switchman.service={run.service}",
            "--label",
            f"switchman.slot={run.slot}",
            "--label",
            f"switchman.version={run.version}",
            "--restart",
            "on-failure",
            "--publish",
            f"{run.address}:{run.port}:{run.port}",
            "--env",
            f"PORT={run.port}",
            "--env",
            f"SWITCHMAN_SLOT={run.slot}",
            "--env",
            f"SWITCHMAN_VERSION={run.version}",
            "--env",
            f"SWITCHMAN_SERVICE={run.service}",
        ]
        for k, v in sorted(run.env.items()):
            argv += ["--env", f"{k}={run.substitute(v)}"]
        argv.append(image)
        argv += [run.substitute(a) for a in run.command]
        return argv

    async def start(self, run: SlotRun) -> SlotProcess:
        if not run.image:
            raise InvalidService(f"service {run.service}: the {self.engine} driver needs an image")
        name = container_name(run.service, run.slot)
        with contextlib.suppress(InvalidService):
            await self._cli("rm", "--force", name)  # a leftover of an earlier run
        await self._cli(*self.run_argv(run), timeout=300.0)  # may pull the image
        self._runs[(run.service, run.slot)] = run
        st = self._last[(run.service, run.slot)] = await self._inspect(run.service, run.slot)
        return st

    async def _inspect(self, service: str, slot: str) -> SlotProcess:
        try:
            out = await self._cli("inspect", container_name(service, slot))
            doc = json.loads(out)[0]
        except (InvalidService, json.JSONDecodeError, IndexError):
            return SlotProcess()
        state = doc.get("State", {})
        pid = int(state.get("Pid", 0) or 0)
        started = 0.0
        with contextlib.suppress(psutil.Error):
            started = psutil.Process(pid).create_time() if pid else 0.0
        return SlotProcess(
            pid=pid,
            started_at=started,
            restarts=int(doc.get("RestartCount", 0) or 0),
            running=bool(state.get("Running")),
            last_exit=str(state.get("Error", "")),
        )

    async def stop(self, service: str, slot: str, grace: float) -> None:
        self._runs.pop((service, slot), None)
        self._last.pop((service, slot), None)
        name = container_name(service, slot)
        with contextlib.suppress(InvalidService):
            await self._cli("stop", "--time", str(max(1, round(grace))), name, timeout=grace + 30)
        with contextlib.suppress(InvalidService):
            await self._cli("rm", "--force", name)

    async def adopt(self, run: SlotRun, pid: int, started_at: float) -> bool:
        st = await self._inspect(run.service, run.slot)
        if st.running:
            self._runs[(run.service, run.slot)] = run
            self._last[(run.service, run.slot)] = st
        return st.running

    def status(self, service: str, slot: str) -> SlotProcess:
        """Measured from the container's main process (the engine refreshes
        restarts and state on the next inspect)."""
        st = self._last.get((service, slot), SlotProcess())
        if st.pid:
            with contextlib.suppress(psutil.Error):
                p = psutil.Process(st.pid)
                with p.oneshot():
                    t = p.cpu_times()
                    st.cpu_seconds = t.user + t.system
                    st.rss_bytes = p.memory_info().rss
                    st.open_fds = p.num_fds()
        return st

    async def refresh(self) -> None:
        """Re-inspect every slot this driver runs (called each collection cycle)."""
        for service, slot in list(self._runs):
            self._last[(service, slot)] = await self._inspect(service, slot)

    async def signal(self, service: str, slot: str, sig: int) -> bool:
        """SIGSTOP/SIGCONT become ``pause``/``unpause`` (engines freeze with the cgroup freezer); others ``kill --signal``."""
        name = container_name(service, slot)
        if sig == signal.SIGSTOP:
            args = ["pause", name]
        elif sig == signal.SIGCONT:
            args = ["unpause", name]
        else:
            args = ["kill", f"--signal={signal.Signals(sig).name}", name]
        try:
            await self._cli(*args, timeout=10.0)
        except InvalidService:
            return False
        return True

    async def close(self) -> None:
        self._runs.clear()
