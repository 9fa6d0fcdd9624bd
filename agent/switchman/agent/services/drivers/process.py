"""The ``process`` driver: a supervised local process per slot, like Nomad's
raw_exec. Each slot runs in its own session (process group) so a stop reaches
every child; output goes to a bounded log file per slot; a slot that dies is
restarted with exponential backoff and reported. Slots survive an agent
crash and are adopted again at start (their pid and start time are in the
agent's state database)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from switchman.agent.services.drivers.base import SlotProcess, SlotRun
from switchman.agent.services.errors import InvalidService

log = logging.getLogger(__name__)

LOG_LIMIT = 1024 * 1024  # per slot; the older half moves to SLOT.log.1
BACKOFF_START, BACKOFF_CAP = 0.5, 30.0
STABLE_AFTER = 10.0  # a run this long resets the backoff
OWNER = "SWITCHMAN_SLOT_OWNER"  # in each slot's environment: which agent and slot started it


@dataclass
class _Slot:
    run: SlotRun
    state: SlotProcess = field(default_factory=SlotProcess)
    proc: psutil.Process | None = None
    task: asyncio.Task[None] | None = None
    stopping: bool = False


class ProcessDriver:
    def __init__(self, log_dir: Path, on_event: Callable[[str, str, str], None] | None = None) -> None:
        self._log_dir = log_dir
        self._slots: dict[tuple[str, str], _Slot] = {}
        self._on_event = on_event or (lambda service, kind, message: None)

    @property
    def log_dir(self) -> Path:
        """Each slot's output goes to ``LOG_DIR/SERVICE/SLOT.log``."""
        return self._log_dir

    @property
    def on_event(self) -> Callable[[str, str, str], None]:
        return self._on_event

    def bind(self, service: str, engine_args: tuple[str, ...]) -> None:
        """Processes need no engine."""

    def _log_path(self, run: SlotRun) -> Path:
        return self._log_dir / run.service / f"{run.slot}.log"

    async def _spawn(self, s: _Slot) -> None:
        run = s.run
        argv = [run.substitute(a) for a in run.command]
        path = self._log_path(run)
        path.parent.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            **{k: run.substitute(v) for k, v in run.env.items()},
            "PORT": str(run.port),
            "SWITCHMAN_SLOT": run.slot,
            "SWITCHMAN_VERSION": run.version,
            "SWITCHMAN_SERVICE": run.service,
            OWNER: self._owner(run.service, run.slot),
        }
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
        try:
            child = await asyncio.create_subprocess_exec(
                *argv, stdin=asyncio.subprocess.DEVNULL, stdout=fd, stderr=fd, env=env, start_new_session=True
            )
        except FileNotFoundError:
            raise InvalidService(f"service {run.service}: command not found: {argv[0]}") from None
        except PermissionError:
            raise InvalidService(f"service {run.service}: command not executable: {argv[0]}") from None
        finally:
            os.close(fd)
        p = psutil.Process(child.pid)
        s.proc = p
        s.state.pid = child.pid
        s.state.started_at = p.create_time()
        s.state.running = True
        s.task = asyncio.create_task(self._supervise(s, child), name=f"slot:{run.service}:{run.slot}")

    async def start(self, run: SlotRun) -> SlotProcess:
        key = (run.service, run.slot)
        old = self._slots.get(key)
        if old is not None and old.state.running:
            await self.stop(run.service, run.slot, 5.0)
        s = _Slot(run)
        await self._spawn(s)
        self._slots[key] = s
        return s.state

    async def adopt(self, run: SlotRun, pid: int, started_at: float) -> bool:
        try:
            p = psutil.Process(pid)
            if abs(p.create_time() - started_at) > 0.01 or not p.is_running():
                return False
        except psutil.Error:
            return False
        s = _Slot(run, SlotProcess(pid=pid, started_at=started_at, running=True), p)
        s.task = asyncio.create_task(self._supervise(s, None), name=f"slot:{run.service}:{run.slot}")
        self._slots[(run.service, run.slot)] = s
        return True

    async def _wait_exit(self, s: _Slot, child: asyncio.subprocess.Process | None) -> str:
        if child is not None:
            code = await child.wait()
            return f"exit code {code}" if code >= 0 else f"killed by signal {-code}"
        while s.proc is not None and s.proc.is_running() and s.proc.status() != psutil.STATUS_ZOMBIE:
            await asyncio.sleep(0.5)  # an adopted process is not our child: poll it
        return "exited"

    async def _supervise(self, s: _Slot, child: asyncio.subprocess.Process | None) -> None:
        backoff = BACKOFF_START
        while True:
            began = time.monotonic()
            why = await self._wait_exit(s, child)
            s.state.running = False
            s.state.last_exit = why
            if s.stopping:
                return
            self._rotate(s.run)
            if time.monotonic() - began > STABLE_AFTER:
                backoff = BACKOFF_START
            s.state.restarts += 1
            log.warning(
                "%s/%s (%s) died (%s); restarting in %.1fs", s.run.service, s.run.slot, s.run.version, why, backoff
            )
            self._on_event(
                s.run.service, "slot.died", f"{s.run.slot} ({s.run.version}) {why}; restart #{s.state.restarts}"
            )
            await asyncio.sleep(backoff)
            backoff = min(BACKOFF_CAP, backoff * 2)
            if s.stopping:
                return
            try:
                restarts = s.state.restarts
                await self._spawn(s)
                s.state.restarts = restarts
                return  # the new supervise task took over
            except InvalidService as exc:
                log.error("%s", exc)

    def _rotate(self, run: SlotRun) -> None:
        path = self._log_path(run)
        with contextlib.suppress(OSError):
            if path.stat().st_size > LOG_LIMIT:
                data = path.read_bytes()
                Path(str(path) + ".1").write_bytes(data[-LOG_LIMIT // 2 :])
                os.truncate(path, 0)  # the writer appends (O_APPEND): it continues at the new end

    def _owner(self, service: str, slot: str) -> str:
        """Marks a slot's process as this agent's (its data directory names it)."""
        return f"{self._log_dir}|{service}|{slot}"

    def orphans(self, service: str, slot: str) -> list[psutil.Process]:
        """Processes of this slot that this agent started but does not know:
        an agent killed between starting a slot and recording it leaves one."""
        owner, known = self._owner(service, slot), {s.state.pid for s in self._slots.values()}
        found = []
        for p in psutil.process_iter():
            with contextlib.suppress(psutil.Error):
                if p.pid not in known and p.environ().get(OWNER) == owner:
                    found.append(p)
        return found

    async def stop(self, service: str, slot: str, grace: float) -> None:
        """Stop the slot (SIGTERM to its process group, SIGKILL after ``grace``),
        and any orphan of it an earlier run of this agent left."""
        orphans = await asyncio.to_thread(self.orphans, service, slot)
        for orphan in orphans:
            log.warning("%s/%s: stopping pid %d, left by an earlier run of this agent", service, slot, orphan.pid)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for orphan in orphans:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(orphan.pid, sig)
            _, orphans = await asyncio.to_thread(psutil.wait_procs, orphans, grace)
        s = self._slots.pop((service, slot), None)
        if s is None or s.proc is None:
            return
        s.stopping = True
        pid = s.state.pid
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and _alive(s.proc):
            await asyncio.sleep(0.05)
        if _alive(s.proc):
            log.warning("%s/%s did not stop within %.1fs; killing its process group", service, slot, grace)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        if s.task is not None:
            s.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await s.task
        s.state.running = False
        self._rotate(s.run)

    async def signal(self, service: str, slot: str, sig: int) -> bool:
        """Send ``sig`` to the slot's process group."""
        s = self._slots.get((service, slot))
        if s is None or not s.state.running:
            return False
        try:
            os.killpg(s.state.pid, sig)
        except ProcessLookupError:
            return False
        return True

    def status(self, service: str, slot: str) -> SlotProcess:
        s = self._slots.get((service, slot))
        if s is None:
            return SlotProcess()
        st = s.state
        if st.running and s.proc is not None:
            with contextlib.suppress(psutil.Error), s.proc.oneshot():
                t = s.proc.cpu_times()
                st.cpu_seconds = t.user + t.system + t.children_user + t.children_system
                st.rss_bytes = s.proc.memory_info().rss
                st.open_fds = s.proc.num_fds()
        return st

    async def close(self) -> None:
        for s in self._slots.values():
            s.stopping = True  # the agent is going: slots keep running, to be adopted
            if s.task is not None:
                s.task.cancel()
        self._slots.clear()


def _alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
