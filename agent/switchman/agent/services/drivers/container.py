"""The ``docker`` and ``podman`` drivers: a slot is a container run through the
engine's CLI (:mod:`~switchman.agent.services.drivers.engine`).

* The image is the spec's ``image`` with ``{version}`` substituted; the
  container gets ``PORT`` and the spec's env; it publishes the back port on
  the service address unless ``run_args`` put it on the host's network.
  Every engine call carries the spec's ``engine_args``; ``run`` also gets its
  ``run_args`` (the settings a host needs, docs/services.md).
* Named ``switchman-SERVICE-SLOT-OWNER`` (OWNER: 8 hex digits of this
  agent's log directory, so two agents on one machine never take each
  other's containers) and labelled ``switchman.service``, ``switchman.slot``,
  ``switchman.version`` and ``switchman.owner``: after an agent restart the
  driver finds its containers by these labels and adopts the running one.
* Restart policy: the engine restarts a container that crashes
  (``--restart on-failure``, also while the agent is down); a container the
  engine leaves stopped that the agent did not stop (``kill`` through the
  engine, exit 0, removed by hand) is started again by the driver's own
  supervisor with exponential backoff, like a process slot. Both count as
  restarts and are reported as ``slot.died`` events.
* Logs are read at the slot's log path, ``DATA_DIR/logs/SERVICE/SLOT.log``,
  as for process slots: podman writes the container's output there (the
  ``k8s-file`` driver, written by conmon, so it goes on while the agent is
  down); for docker, which cannot be told where to write, the path is a
  symlink to the container's json-file log.
* Faults: SIGSTOP/SIGCONT become ``pause``/``unpause``, every other signal
  ``kill --signal``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from switchman.agent.services.drivers.base import SlotProcess, SlotRun
from switchman.agent.services.drivers.engine import Container, Engine, Runner, run_command
from switchman.agent.services.errors import InvalidService

log = logging.getLogger(__name__)

LABEL = "switchman"  # label prefix: switchman.service, .slot, .version, .owner
BACKOFF_START, BACKOFF_CAP = 0.5, 30.0
STABLE_AFTER = 10.0  # running this long resets the backoff
POLL = 1.0  # how often the supervisor inspects the containers
_HOST_NETWORK = {("--network", "host"), ("--net", "host"), ("--network=host",), ("--net=host",)}

__all__ = ["ContainerDriver", "Runner", "container_name", "run_command"]


def container_name(service: str, slot: str, owner: str = "") -> str:
    """``switchman-SERVICE-SLOT``, with a short digest of ``owner`` when given."""
    base = f"switchman-{service}-{slot}"
    if not owner:
        return base
    import hashlib  # here, not at the top: it loads OpenSSL's libcrypto (3.4 MiB), which most agents never need

    return f"{base}-{hashlib.sha256(owner.encode()).hexdigest()[:8]}"


def host_network(run_args: tuple[str, ...]) -> bool:
    pairs = {(a,) for a in run_args} | set(itertools.pairwise(run_args))
    return bool(pairs & _HOST_NETWORK)


@dataclass
class _Slot:
    run: SlotRun
    name: str
    state: SlotProcess = field(default_factory=SlotProcess)
    container_id: str = ""
    engine_restarts: int = 0  # the last RestartCount seen
    down_since: float = 0.0  # monotonic time it was first seen stopped (0: running)
    backoff: float = BACKOFF_START
    up_since: float = 0.0


class ContainerDriver:
    def __init__(
        self,
        engine: str,
        runner: Runner = run_command,
        log_dir: Path | None = None,
        on_event: Callable[[str, str, str], None] | None = None,
        poll: float = POLL,
    ) -> None:
        if engine not in ("docker", "podman"):
            raise ValueError(engine)
        self.engine = engine
        self._engine = Engine(engine, runner)
        self._log_dir = log_dir
        self._owner = str(log_dir) if log_dir is not None else ""
        self._on_event = on_event or (lambda service, kind, message: None)
        self._poll = poll
        self._slots: dict[tuple[str, str], _Slot] = {}
        self._engine_args: dict[str, tuple[str, ...]] = {}  # per service, from its spec
        self._supervisor: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()  # one refresh at a time: it may restart containers

    # naming ------------------------------------------------------------------
    def name(self, service: str, slot: str) -> str:
        return container_name(service, slot, self._owner)

    def labels(self, service: str, slot: str = "") -> dict[str, str]:
        """The labels that find this agent's containers of ``service`` (and ``slot``)."""
        found = {f"{LABEL}.service": service}
        if slot:
            found[f"{LABEL}.slot"] = slot
        if self._owner:
            found[f"{LABEL}.owner"] = self._owner
        return found

    def log_path(self, service: str, slot: str) -> Path | None:
        """Where the slot's output can be read, as for process slots (podman
        writes it there; for docker it is a symlink to the engine's log)."""
        if self._log_dir is None:
            return None
        return self._log_dir / service / f"{slot}.log"

    async def _link_log(self, s: _Slot) -> None:
        """docker: point the slot's log path at the container's json-file log
        (docker cannot be told where to write it)."""
        path = self.log_path(s.run.service, s.run.slot)
        if self.engine != "docker" or path is None:
            return
        try:
            target = (await self._engine.cli(s.run.engine_args, "inspect", "--format", "{{.LogPath}}", s.name)).strip()
        except InvalidService as exc:
            log.warning("%s/%s: no log link: %s", s.run.service, s.run.slot, exc)
            return
        if not target:  # a log driver that keeps no file (journald, syslog, ...)
            return
        link = path.with_name(f".{path.name}.link")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileNotFoundError):
                link.unlink()
            link.symlink_to(target)
            link.replace(path)
        except OSError as exc:
            log.warning("%s/%s: cannot link %s to %s: %s", s.run.service, s.run.slot, path, target, exc)

    def bind(self, service: str, engine_args: tuple[str, ...]) -> None:
        self._engine_args[service] = engine_args

    def _args(self, service: str) -> tuple[str, ...]:
        return self._engine_args.get(service, ())

    def run_argv(self, run: SlotRun) -> list[str]:
        """The ``run`` arguments for a slot (after the engine flags)."""
        labels = {**self.labels(run.service, run.slot), f"{LABEL}.version": run.version}
        argv = ["run", "--detach", "--name", self.name(run.service, run.slot)]
        if self.engine == "podman":
            argv.append("--replace")  # a leftover of an earlier run goes
        for k, v in labels.items():
            argv += ["--label", f"{k}={v}"]
        argv += ["--restart", "on-failure"]
        path = self.log_path(run.service, run.slot)
        if path is not None and self.engine == "podman":
            argv += ["--log-driver", "k8s-file", "--log-opt", f"path={path}"]
        if not host_network(run.run_args):
            argv += ["--publish", f"{run.address}:{run.port}:{run.port}"]
        env = {
            "PORT": str(run.port),
            "SWITCHMAN_SLOT": run.slot,
            "SWITCHMAN_VERSION": run.version,
            "SWITCHMAN_SERVICE": run.service,
        }
        env.update({k: run.substitute(v) for k, v in sorted(run.env.items())})
        for k, v in env.items():
            argv += ["--env", f"{k}={v}"]
        argv += list(run.run_args)
        argv.append(run.substitute(run.image))
        argv += [run.substitute(a) for a in run.command]
        return argv

    # lifecycle ---------------------------------------------------------------
    async def start(self, run: SlotRun) -> SlotProcess:
        if not run.image:
            raise InvalidService(f"service {run.service}: the {self.engine} driver needs an image")
        self.bind(run.service, run.engine_args)
        key = (run.service, run.slot)
        self._slots.pop(key, None)
        async with self._lock:  # not while the supervisor restarts what ran there
            s = await self._run_container(run)
        self._slots[key] = s
        self._supervise()
        log.info("%s/%s: %s started container %s (%s)", run.service, run.slot, self.engine, s.name, run.version)
        return s.state

    async def _run_container(self, run: SlotRun) -> _Slot:
        name = self.name(run.service, run.slot)
        if self.engine == "docker":  # podman's `run --replace` does it in the same call
            with contextlib.suppress(InvalidService):
                await self._engine.cli(run.engine_args, "rm", "--force", name)  # a leftover of an earlier run
        path = self.log_path(run.service, run.slot)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        await self._engine.cli(run.engine_args, *self.run_argv(run), timeout=300.0)  # may pull the image
        s = _Slot(run, name)
        with contextlib.suppress(InvalidService):  # else the supervisor reads it at its next round
            for c in await self._engine.inspect(run.engine_args, [name]):
                self._observe(s, c)
        await self._link_log(s)
        return s

    async def adopt(self, run: SlotRun, pid: int, started_at: float) -> bool:
        """Find the slot's container by its labels; adopt it when it runs
        (or is paused) with ``run``'s version. Other containers of the slot
        (an older version, a stopped one) are left for ``start`` to replace."""
        self.bind(run.service, run.engine_args)
        try:
            found = await self._engine.find(run.engine_args, self.labels(run.service, run.slot))
        except InvalidService as exc:
            log.warning("%s/%s: cannot list %s containers: %s", run.service, run.slot, self.engine, exc)
            return False
        live = [c for c in found if c.alive and c.labels.get(f"{LABEL}.version") == run.version]
        if not live:
            return False
        s = _Slot(run, live[0].name)
        self._observe(s, live[0])
        await self._link_log(s)
        self._slots[(run.service, run.slot)] = s
        self._supervise()
        log.info("%s/%s: adopted container %s (%s, pid %d)", run.service, run.slot, s.name, run.version, s.state.pid)
        return True

    async def stop(self, service: str, slot: str, grace: float) -> None:
        """SIGTERM, SIGKILL after ``grace``, then remove the container
        (podman: ``rm --force --time``; docker: ``stop --time``, ``rm``). Idempotent."""
        s = self._slots.pop((service, slot), None)
        name = s.name if s is not None else self.name(service, slot)
        args = s.run.engine_args if s is not None else self._args(service)
        seconds = str(max(1, round(grace)))
        async with self._lock:  # a restart the supervisor has under way finishes first
            if self.engine == "podman":  # one call: stop with the grace period, then remove
                with contextlib.suppress(InvalidService):
                    await self._engine.cli(args, "rm", "--force", "--time", seconds, name, timeout=grace + 30)
                return
            with contextlib.suppress(InvalidService):
                await self._engine.cli(args, "stop", "--time", seconds, name, timeout=grace + 30)
            with contextlib.suppress(InvalidService):
                await self._engine.cli(args, "rm", "--force", name)

    def status(self, service: str, slot: str) -> SlotProcess:
        """As last inspected, with RSS, CPU and fds measured from the container's main process."""
        s = self._slots.get((service, slot))
        if s is None:
            return SlotProcess()
        st = s.state
        if st.running and st.pid:
            with contextlib.suppress(psutil.Error):
                p = psutil.Process(st.pid)
                with p.oneshot():
                    t = p.cpu_times()
                    st.cpu_seconds = t.user + t.system + t.children_user + t.children_system
                    st.rss_bytes = p.memory_info().rss
                    st.open_fds = p.num_fds()
        return st

    async def signal(self, service: str, slot: str, sig: int) -> bool:
        """Through the engine: SIGSTOP/SIGCONT are ``pause``/``unpause`` (the
        cgroup freezer), others ``kill --signal``. False when not running."""
        s = self._slots.get((service, slot))
        if s is None or not s.state.running:
            return False
        if sig == signal.SIGSTOP:
            args = ["pause", s.name]
        elif sig == signal.SIGCONT:
            args = ["unpause", s.name]
        else:
            args = ["kill", f"--signal={signal.Signals(sig).name}", s.name]
        try:
            await self._engine.cli(s.run.engine_args, *args, timeout=10.0)
        except InvalidService as exc:
            log.warning("%s/%s: %s", service, slot, exc)
            return False
        return True

    async def close(self) -> None:
        """Stop supervising (the agent exits); containers keep running, to be adopted."""
        task, self._supervisor = self._supervisor, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._slots.clear()

    # supervision -------------------------------------------------------------
    def _supervise(self) -> None:
        if self._supervisor is None or self._supervisor.done():
            self._supervisor = asyncio.create_task(self._watch(), name=f"{self.engine}-supervisor")

    async def _watch(self) -> None:
        while self._slots:
            try:
                await self.refresh()
            except InvalidService as exc:  # the engine did not answer: nothing is taken for gone
                log.warning("%s", exc)
            except Exception:
                log.exception("%s: inspecting containers failed", self.engine)
            await asyncio.sleep(self._poll)

    async def refresh(self) -> None:
        """Inspect every slot this driver runs; start again what stopped
        without the agent asking (with backoff)."""
        async with self._lock:
            groups: dict[tuple[str, ...], list[_Slot]] = {}
            for s in self._slots.values():
                groups.setdefault(s.run.engine_args, []).append(s)
            for args, slots in groups.items():
                found = {c.name: c for c in await self._engine.inspect(args, [s.name for s in slots])}
                for s in slots:
                    if self._slots.get((s.run.service, s.run.slot)) is not s:
                        continue  # stopped or replaced meanwhile
                    c = found.get(s.name)
                    if c is not None and c.alive:
                        self._observe(s, c)
                    else:
                        await self._down(s, c)

    def _observe(self, s: _Slot, c: Container) -> None:
        """Take the state of a live container; count the engine's restarts."""
        st = s.state
        if c.restarts > s.engine_restarts and s.container_id == c.id:
            st.restarts += c.restarts - s.engine_restarts
            self._died(s, f"restarted by {self.engine} (restart #{st.restarts})")
        s.engine_restarts, s.container_id = c.restarts, c.id
        if st.pid != c.pid:
            st.pid, st.started_at = c.pid, _create_time(c.pid)
        if not st.running or s.down_since:
            s.up_since = time.monotonic()
        st.running, s.down_since = True, 0.0
        if time.monotonic() - s.up_since > STABLE_AFTER:
            s.backoff = BACKOFF_START

    async def _down(self, s: _Slot, c: Container | None) -> None:
        """The container is stopped (or gone): start it again once its backoff has passed."""
        st, now = s.state, time.monotonic()
        why = f"exit code {c.exit_code}" if c is not None else "container removed"
        if st.running or not s.down_since:
            st.running, st.last_exit, s.down_since = False, why, now
            log.warning("%s/%s (%s) stopped (%s)", s.run.service, s.run.slot, s.run.version, why)
            return
        if now - s.down_since < s.backoff:
            return
        s.backoff = min(BACKOFF_CAP, s.backoff * 2)
        s.down_since = now
        try:
            if c is not None:
                await self._engine.cli(s.run.engine_args, "start", s.name)
            else:
                await self._engine.cli(s.run.engine_args, *self.run_argv(s.run), timeout=300.0)
                await self._link_log(s)
        except InvalidService as exc:
            log.error("%s/%s: %s", s.run.service, s.run.slot, exc)
            return
        with contextlib.suppress(InvalidService):  # else the next round reads it
            for found in await self._engine.inspect(s.run.engine_args, [s.name]):
                self._observe(s, found)
        st.restarts += 1
        self._died(s, f"{why}; restart #{st.restarts}")

    def _died(self, s: _Slot, message: str) -> None:
        self._on_event(s.run.service, "slot.died", f"{s.run.slot} ({s.run.version}) {message}")


def _create_time(pid: int) -> float:
    if not pid:
        return 0.0
    try:
        return float(psutil.Process(pid).create_time())
    except psutil.Error:
        return 0.0
