"""Switch, rollback and reconcile (SPEC 3.4).

Switch: start the version in the idle slot -> probe until it passes
``success_before_passing`` times within the healthy deadline -> persist, flip
the router -> drain the old slot (SIGTERM: it finishes in-flight requests and
closes its keep-alive connections, so clients reconnect to the new slot) ->
stop it, or start it again warm when ``keep_previous`` (ADR 0007). Any
failure before the flip stops the new slot and leaves traffic where it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path

from switchman.agent.probes.checks import run_probe
from switchman.agent.probes.runner import ProbeRunner, record
from switchman.agent.probes.state import ProbeState, Status
from switchman.agent.services.drivers.base import Driver, SlotProcess, SlotRun
from switchman.agent.services.errors import InvalidService, SwitchFailed, SwitchInProgress, UnknownService
from switchman.agent.services.routers import Router
from switchman.agent.services.routers.builtin import BuiltinRouter
from switchman.agent.services.routers.haproxy import HaproxyRouter
from switchman.agent.services.routers.http_proxy import HttpRouter
from switchman.agent.services.state import Phase, ServiceRecord, SlotRecord, StateStore
from switchman.agent.telemetry_buffer import TelemetryBuffer
from switchman.proto.services import ServiceDef, SpecError, parse_toml
from switchman.proto.validate import ValidationError, check_version

log = logging.getLogger(__name__)

SLOTS = ("blue", "green")


def other(slot: str) -> str:
    return "green" if slot == "blue" else "blue"


async def _drained(router: Router, slot: str, grace: float) -> None:
    """Wait (at most ``grace`` seconds) until ``slot`` has nothing in flight, then retire it."""
    end = time.monotonic() + grace
    await router.refresh()
    while router.connections(slot) and time.monotonic() < end:
        await asyncio.sleep(0.05)
        await router.refresh()
    await router.retire(slot)


def _weights(rec: ServiceRecord) -> dict[str, int]:
    """A weighted record's split as the router's ``set_weights`` keywords."""
    return {rec.target_slot: rec.weight, rec.active_slot: 100 - rec.weight}


@dataclass(frozen=True)
class SwitchResult:
    record: ServiceRecord
    changed: bool
    flip_latency_ms: float = 0.0
    message: str = ""


class ServiceManager:
    def __init__(
        self,
        store: StateStore,
        drivers: Callable[[str], Driver],
        address: str,
        buffer: TelemetryBuffer,
        probes: ProbeRunner,
        run_dir: Path | None = None,
    ) -> None:
        self._run_dir = run_dir or Path("/tmp/switchman-routers")
        self._store = store
        self._drivers = drivers
        self._address = address
        self._buffer = buffer
        self._probes = probes
        self.routers: dict[str, Router] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._specs: dict[str, ServiceDef] = {}
        self._operations: set[asyncio.Task[SwitchResult]] = set()
        self.told: dict[str, float] = {}  # service -> when (monotonic) a switch or step last asked for it

    # queries -----------------------------------------------------------------
    def names(self) -> list[str]:
        return [r.name for r in self._store.services()]

    def record(self, name: str) -> ServiceRecord:
        r = self._store.get(name)
        if r is None:
            raise UnknownService(f"this agent does not run a service named {name!r}")
        return r

    def slot_status(self, name: str, slot: str) -> tuple[SlotProcess, ProbeState | None, str]:
        spec = self._specs.get(name)
        driver = self._drivers(spec.driver if spec else "process")
        st = driver.status(name, slot)
        probe = self._probes.states.get(f"{name}:{slot}")
        version = self._store.slots(name).get(slot)
        return st, probe, version.version if version else ""

    def driver_of(self, name: str) -> Driver:
        return self._driver(self.spec(name))

    def _driver(self, spec: ServiceDef) -> Driver:
        """The driver of ``spec``'s slots, told how to reach them."""
        driver = self._drivers(spec.driver)
        driver.bind(spec.name, spec.engine_args)
        return driver

    def spec(self, name: str) -> ServiceDef:
        s = self._specs.get(name)
        if s is None:
            raise UnknownService(f"this agent does not run a service named {name!r}")
        return s

    # lifecycle ---------------------------------------------------------------
    def _run(self, spec: ServiceDef, slot: str, version: str) -> SlotRun:
        return SlotRun(
            spec.name,
            slot,
            version,
            self._address,
            spec.port(slot),
            spec.command,
            spec.image,
            spec.env,
            spec.engine_args,
            spec.run_args,
        )

    def _check_port_free(self, spec: ServiceDef, slot: str) -> None:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((self._address, spec.port(slot)))
            except OSError as exc:
                raise InvalidService(
                    f"service {spec.name}: {slot} port {self._address}:{spec.port(slot)} is in use ({exc.strerror})"
                ) from None

    async def _ensure_router(self, spec: ServiceDef) -> Router:
        router = self.routers.get(spec.name)
        if router is None:
            if spec.router == "haproxy":
                router = HaproxyRouter(
                    spec.name,
                    self._address,
                    spec.front_port,
                    {"blue": spec.blue_port, "green": spec.green_port},
                    self._run_dir / spec.name,
                    spec.haproxy_socket,
                    spec.protocol,
                )
            else:
                kind = HttpRouter if spec.protocol == "http" else BuiltinRouter
                router = kind(spec.name, self._address, spec.front_port, {s: spec.port(s) for s in SLOTS})
            await router.start()
            self.routers[spec.name] = router
            for slot in self._store.slots(spec.name).values():
                router.label(slot.slot, slot.version)
        return router

    async def _start_slot(self, spec: ServiceDef, slot: str, version: str) -> SlotProcess:
        driver = self._driver(spec)
        await driver.stop(spec.name, slot, 5.0)  # whatever ran there before
        self._check_port_free(spec, slot)
        proc = await driver.start(self._run(spec, slot, version))
        await asyncio.to_thread(self._store.put_slot, SlotRecord(spec.name, slot, version, proc.pid, proc.started_at))
        if router := self.routers.get(spec.name):
            router.label(slot, version)  # its request metrics from now on
        return proc

    async def _stop_slot(self, spec: ServiceDef, slot: str, grace: float) -> None:
        self._probes.remove(f"{spec.name}:{slot}")
        await self._driver(spec).stop(spec.name, slot, grace)
        await asyncio.to_thread(self._store.drop_slot, spec.name, slot)

    async def _wait_healthy(self, spec: ServiceDef, slot: str, deadline_s: float) -> float:
        """Probe the slot until it passes; returns the monotonic time it did.

        :raises SwitchFailed: when it does not pass before the deadline or the slot dies.
        """
        probe = spec.probe_spec().bound(f"{self._address}:{spec.port(slot)}")
        state = ProbeState(probe.success_before_passing, probe.failures_before_critical)
        loop = asyncio.get_running_loop()
        end = loop.time() + deadline_s
        last = ""
        driver = self._driver(spec)
        while loop.time() < end:
            started = loop.time()
            outcome = await run_probe(probe)
            record(self._buffer, probe, slot, outcome)
            last = outcome.output
            if state.observe(outcome.success, outcome.warning) is Status.PASSING:
                return loop.time()
            proc = driver.status(spec.name, slot)
            if not proc.running and proc.restarts > 2:
                raise SwitchFailed(f"service {spec.name}: the {slot} slot keeps dying ({proc.last_exit}); see its log")
            # probe again at the probe's interval, but quickly while it has never passed
            pause = probe.interval if state.total_passes else min(probe.interval, 0.1)
            await asyncio.sleep(max(0.0, min(pause - (loop.time() - started), end - loop.time())))
        raise SwitchFailed(
            f"service {spec.name}: the {slot} slot did not become healthy within {deadline_s:g}s (last probe: {last})"
        )

    def _watch(self, spec: ServiceDef, slot: str) -> None:
        probe = spec.probe_spec().bound(f"{self._address}:{spec.port(slot)}")
        self._probes.add(f"{spec.name}:{slot}", probe, slot)

    # operations -------------------------------------------------------------
    async def _exclusive(self, name: str, work: Callable[[], Awaitable[SwitchResult]]) -> SwitchResult:
        """Run ``work`` under the service's lock, in a task this manager owns.

        The caller only waits for it: a caller that goes away (a controller
        killed in the middle of a ``Switch`` call) does not cut the switch
        short between the flip and the end of the drain; it finishes, and the
        next caller finds the service idle on its new version.

        :raises SwitchInProgress: another switch, rollback or stop runs.
        """
        lock = self._locks.setdefault(name, asyncio.Lock())
        if lock.locked():
            raise SwitchInProgress(f"service {name}: a switch is already running")
        await lock.acquire()  # free: taken without yielding, so no second caller slips in

        async def run() -> SwitchResult:
            try:
                return await work()
            finally:
                lock.release()

        task = asyncio.create_task(run(), name=f"service:{name}")
        self._operations.add(task)
        task.add_done_callback(self._finished)
        return await asyncio.shield(task)

    def _finished(self, task: asyncio.Task[SwitchResult]) -> None:
        self._operations.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.debug("%s ended with %s", task.get_name(), task.exception())  # the caller, if any, got it

    # switch -----------------------------------------------------------------
    async def switch(self, spec: ServiceDef, version: str, healthy_deadline_s: float | None = None) -> SwitchResult:
        try:
            check_version(version)
        except ValidationError as exc:
            raise InvalidService(str(exc)) from None
        deadline = healthy_deadline_s or spec.healthy_deadline_ms / 1000
        self.told[spec.name] = time.monotonic()
        return await self._exclusive(spec.name, lambda: self._switch(spec, version, deadline))

    async def _switch(self, spec: ServiceDef, version: str, deadline_s: float) -> SwitchResult:
        current = self._store.get(spec.name) or ServiceRecord(spec.name, spec.source_toml)
        router = await self._ensure_router(spec)
        self._specs[spec.name] = spec
        if current.phase is Phase.WEIGHTED:  # a weighted step: its candidate is promoted, any other ends it
            if version == current.target_version:
                return await self._set_weight(spec, version, 100, deadline_s)
            current = await self._unweight(spec, current)
        if current.active_version == version and router.active_slot is not None:
            proc = self._driver(spec).status(spec.name, current.active_slot)
            if proc.running:
                return SwitchResult(current, False, message=f"{version} is already active on {current.active_slot}")
        rec, healthy_at = await self._start_target(spec, current, version, deadline_s)
        return await self._promote(spec, rec, healthy_at)

    async def _start_target(
        self, spec: ServiceDef, current: ServiceRecord, version: str, deadline_s: float
    ) -> tuple[ServiceRecord, float]:
        """Start ``version`` in the idle slot and wait for its probe, traffic
        untouched; returns the record (phase switching) and when it passed.

        :raises SwitchFailed: it did not turn healthy: it is stopped again and
            the service is as it was (a first deploy leaves nothing behind).
        """
        target = other(current.active_slot) if current.active_slot else "blue"
        rec = current.evolve(
            spec_toml=spec.source_toml,
            revision=spec.revision,
            phase=Phase.SWITCHING,
            target_slot=target,
            target_version=version,
            weight=0,
        )
        await asyncio.to_thread(self._store.put, rec)  # written before acting
        self._buffer.event("switch.started", f"switching to {version} on {target}", service=spec.name, version=version)
        try:
            await self._start_slot(spec, target, version)
            healthy_at = await self._wait_healthy(spec, target, deadline_s)
        except BaseException as exc:
            await self._stop_slot(spec, target, 5.0)
            if current.active_slot:
                await asyncio.to_thread(self._store.put, current.evolve(spec_toml=rec.spec_toml, revision=rec.revision))
            else:  # a first deploy that failed leaves nothing behind: no record, no front port
                await asyncio.to_thread(self._store.delete, spec.name)
                await self._close_router(spec.name)
            self._buffer.event("switch.failed", str(exc), service=spec.name, severity="warning", version=version)
            raise
        return rec, healthy_at

    async def _promote(
        self, spec: ServiceDef, rec: ServiceRecord, healthy_at: float, watched: bool = False
    ) -> SwitchResult:
        """Flip to ``rec``'s healthy target slot, then drain the old one (the second half of a switch);
        ``watched``: the target's probe runs already (a weighted step's candidate)."""
        router = await self._ensure_router(spec)
        target, version = rec.target_slot, rec.target_version
        old_slot, old_version = rec.active_slot, rec.active_version
        flipped = rec.evolve(
            active_slot=target,
            active_version=version,
            previous_slot=old_slot,
            previous_version=old_version,
            phase=Phase.DRAINING,
            target_slot="",
            target_version="",
            weight=0,
        )
        await asyncio.to_thread(self._store.put, flipped)  # persisted before the flip
        await router.flip(target, self._address, spec.port(target))
        flip_ms = (asyncio.get_running_loop().time() - healthy_at) * 1000
        if not watched:
            self._watch(spec, target)
        log.info("%s: %s is live on %s (flip %.1f ms after healthy)", spec.name, version, target, flip_ms)
        self._buffer.event(
            "switch.flipped",
            f"{version} live on {target}",
            service=spec.name,
            version=version,
            slot=target,
            previous=old_version,
        )
        if old_slot:
            await self._drain(spec, old_slot, old_version)
        done = flipped.evolve(phase=Phase.IDLE)
        await asyncio.to_thread(self._store.put, done)
        return SwitchResult(done, True, flip_ms, f"{version} live on {target}")

    async def _drain(self, spec: ServiceDef, slot: str, version: str) -> None:
        """Stop the old slot gracefully (it closes its connections), then keep
        it warm by starting it again when ``keep_previous``. In http mode the
        router moved every connection's next request already: the old slot is
        stopped only once it has answered what it was given (ADR 0019)."""
        router = self.routers[spec.name]
        grace = spec.drain_timeout_ms / 1000
        if spec.protocol != "http":
            await self._stop_slot(spec, slot, grace)
        await _drained(router, slot, grace)
        if spec.protocol == "http":
            await self._stop_slot(spec, slot, grace)
        if spec.keep_previous:
            await self._keep_warm(spec, slot, version)

    async def _keep_warm(self, spec: ServiceDef, slot: str, version: str) -> None:
        """Start ``version`` again in ``slot`` for an instant rollback (best effort)."""
        try:
            await self._start_slot(spec, slot, version)
            self._watch(spec, slot)
        except InvalidService as exc:
            log.warning("%s: could not keep %s warm on %s: %s", spec.name, version, slot, exc)

    # weighted steps ---------------------------------------------------------
    async def set_weight(
        self, spec: ServiceDef, version: str, weight: int, healthy_deadline_s: float | None = None
    ) -> SwitchResult:
        """A weighted step (ADR 0022): the *candidate* ``version`` in the idle
        slot gets ``weight`` % of the front port's requests, the active slot
        the rest. Above 0 the candidate is started first if it does not run
        there yet (and must pass its probe, as in a switch); 100 is the flip
        (the old slot drains and stays warm); 0 ends the split at once and
        stops the candidate. Asking for the weight the service has is no
        change. A service with no live version yet can only take 100 (a
        first deploy) or 0 (nothing to do).

        :raises InvalidService: a bad version or weight, nothing live to split with, or ``version`` is live already.
        :raises SwitchFailed: the candidate did not turn healthy; traffic stayed on the active slot.
        :raises SwitchInProgress: another switch, rollback, stop or step runs.
        """
        try:
            check_version(version)
        except ValidationError as exc:
            raise InvalidService(str(exc)) from None
        if isinstance(weight, bool) or not 0 <= weight <= 100:
            raise InvalidService(f"service {spec.name}: weight: expected 0..100, got {weight!r}")
        deadline = healthy_deadline_s or spec.healthy_deadline_ms / 1000
        self.told[spec.name] = time.monotonic()
        return await self._exclusive(spec.name, lambda: self._set_weight(spec, version, weight, deadline))

    async def _set_weight(self, spec: ServiceDef, version: str, weight: int, deadline_s: float) -> SwitchResult:
        current = self._store.get(spec.name) or ServiceRecord(spec.name, spec.source_toml)
        weighted = current.phase is Phase.WEIGHTED
        if not current.active_slot:
            if weight == 100:  # a first deploy: nothing to split with
                return await self._switch(spec, version, deadline_s)
            if weight == 0:
                return SwitchResult(current, False, message=f"{version} takes no traffic")
            raise InvalidService(
                f"service {spec.name}: no version is live yet: a weighted step needs one to split with"
            )
        if current.active_version == version and not weighted:
            if weight == 100:
                return SwitchResult(current, False, message=f"{version} is already active on {current.active_slot}")
            raise InvalidService(
                f"service {spec.name}: {version} is live on {current.active_slot}: roll back instead of weighting it"
            )
        self._specs[spec.name] = spec
        router = await self._ensure_router(spec)
        if weighted and current.target_version != version:  # another candidate: its split ends first
            current, weighted = await self._unweight(spec, current), False
        if weight == 0:
            if not weighted:
                return SwitchResult(current, False, message=f"{version} takes no traffic")
            done = await self._unweight(spec, current)
            return SwitchResult(done, True, message=f"weight of {version} back to 0")
        if weighted and weight == current.weight:
            return SwitchResult(current, False, message=f"{version} already takes {weight}% on {current.target_slot}")
        rec, healthy_at = current, asyncio.get_running_loop().time()
        if not weighted:
            rec, healthy_at = await self._start_target(spec, current, version, deadline_s)
            self._watch(spec, rec.target_slot)
        if weight == 100:
            return await self._promote(spec, rec, healthy_at, watched=True)
        split = rec.evolve(phase=Phase.WEIGHTED, weight=weight)
        await asyncio.to_thread(self._store.put, split)  # written before acting: a restart applies it again
        await router.set_weights(**_weights(split))
        log.info("%s: %s on %s takes %d%% of the requests", spec.name, version, split.target_slot, weight)
        self._buffer.event(
            "weight.set",
            f"{version} on {split.target_slot} takes {weight}%",
            service=spec.name,
            version=version,
            slot=split.target_slot,
            weight=str(weight),
        )
        return SwitchResult(split, True, message=f"{version} on {split.target_slot} takes {weight}% of the requests")

    async def _unweight(self, spec: ServiceDef, rec: ServiceRecord) -> ServiceRecord:
        """End a weighted step: every request to the active slot at once, then
        the candidate answers what it was given and stops; the warm previous
        version, if it ran in that slot, starts there again."""
        router = await self._ensure_router(spec)
        slot, version = rec.target_slot, rec.target_version
        warm = spec.keep_previous and rec.previous_slot == slot and bool(rec.previous_version)
        back = rec.evolve(phase=Phase.IDLE, target_slot="", target_version="", weight=0)
        if not warm and rec.previous_slot == slot:
            back = back.evolve(previous_slot="", previous_version="")
        await asyncio.to_thread(self._store.put, back)  # written before acting
        await router.flip(rec.active_slot, self._address, spec.port(rec.active_slot))
        log.info("%s: weight of %s back to 0 (%s takes every request)", spec.name, version, rec.active_version)
        self._buffer.event(
            "weight.reset",
            f"weight of {version} on {slot} back to 0",
            service=spec.name,
            version=version,
            slot=slot,
            weight="0",
        )
        await _drained(router, slot, spec.drain_timeout_ms / 1000)
        await self._stop_slot(spec, slot, spec.drain_timeout_ms / 1000)
        if warm:
            await self._keep_warm(spec, slot, rec.previous_version)
        return back

    # rollback ---------------------------------------------------------------
    async def rollback(self, name: str) -> SwitchResult:
        spec = self.spec(name)
        return await self._exclusive(name, lambda: self._rollback(spec))

    async def _rollback(self, spec: ServiceDef) -> SwitchResult:
        name = spec.name
        rec = self.record(name)
        if rec.phase is Phase.WEIGHTED:  # rolling back a weighted step: its candidate's weight back to 0
            version = rec.target_version
            done = await self._unweight(spec, rec)
            return SwitchResult(
                done, True, 0.0, f"weight of {version} back to 0: {done.active_version} takes every request"
            )
        if not rec.previous_version:
            raise SwitchFailed(f"service {name}: there is no previous version to roll back to")
        slot = rec.previous_slot
        probe = self._probes.states.get(f"{name}:{slot}")
        proc = self._driver(spec).status(name, slot)
        if not (proc.running and probe is not None and probe.status is Status.PASSING):
            return await self._switch(spec, rec.previous_version, spec.healthy_deadline_ms / 1000)
        started = asyncio.get_running_loop().time()
        flipped = rec.evolve(
            active_slot=slot,
            active_version=rec.previous_version,
            previous_slot=rec.active_slot,
            previous_version=rec.active_version,
            phase=Phase.DRAINING,
        )
        await asyncio.to_thread(self._store.put, flipped)
        await self.routers[name].flip(slot, self._address, spec.port(slot))
        flip_ms = (asyncio.get_running_loop().time() - started) * 1000
        self._buffer.event(
            "rollback.flipped",
            f"rolled back to {rec.previous_version} on {slot}",
            service=name,
            version=rec.previous_version,
            slot=slot,
        )
        await self._drain(spec, rec.active_slot, rec.active_version)
        done = flipped.evolve(phase=Phase.IDLE)
        await asyncio.to_thread(self._store.put, done)
        return SwitchResult(done, True, flip_ms, f"rolled back to {rec.previous_version} on {slot}")

    # stop -------------------------------------------------------------------
    async def stop_service(self, name: str) -> SwitchResult:
        """Undo a first deploy (or remove a service): close the front port,
        drain and stop both slots, forget the service. Stopping a service
        this agent does not run is a no-op (``changed`` false)."""
        if self._store.get(name) is None and name not in self.routers:
            return SwitchResult(ServiceRecord(name, ""), False, message=f"{name} is not running here")
        return await self._exclusive(name, lambda: self._stop_service(name))

    async def _stop_service(self, name: str) -> SwitchResult:
        rec = self._store.get(name) or ServiceRecord(name, "")
        spec = self._specs.get(name)
        await self._close_router(name)
        if spec is not None:
            grace = spec.drain_timeout_ms / 1000
            for slot in SLOTS:
                await self._stop_slot(spec, slot, grace)
        await asyncio.to_thread(self._store.delete, name)
        self._specs.pop(name, None)
        self._buffer.event("service.stopped", f"{name} stopped", service=name, version=rec.active_version)
        return SwitchResult(rec.evolve(active_slot="", active_version="", phase=Phase.IDLE), True, 0.0, "stopped")

    async def _close_router(self, name: str) -> None:
        router = self.routers.pop(name, None)
        if router is not None:
            await router.stop()

    # reconcile --------------------------------------------------------------
    async def reconcile(self) -> None:
        """After a start: adopt or restart slots, finish or undo a half-done switch."""
        for rec in self._store.services():
            try:
                spec = parse_toml(rec.spec_toml, f"service {rec.name}")
            except SpecError as exc:
                log.error("cannot reconcile %s: %s", rec.name, exc)
                continue
            spec = replace(spec, revision=rec.revision)
            self._specs[rec.name] = spec
            try:
                await self._reconcile_one(spec, rec)
            except Exception:
                log.exception("reconciling %s failed", rec.name)

    async def _reconcile_one(self, spec: ServiceDef, rec: ServiceRecord) -> None:
        driver = self._driver(spec)
        slots = self._store.slots(spec.name)
        if rec.phase is Phase.SWITCHING and rec.target_slot:
            log.warning("%s: a switch to %s was cut short; undoing it", spec.name, rec.target_version)
            target = slots.get(rec.target_slot)
            if target is not None and await driver.adopt(
                self._run(spec, target.slot, target.version), target.pid, target.started_at
            ):
                await driver.stop(spec.name, target.slot, 5.0)
            else:  # killed before the slot was recorded: the driver still finds what it started there
                await driver.stop(spec.name, rec.target_slot, 5.0)
            await asyncio.to_thread(self._store.drop_slot, spec.name, rec.target_slot)
            rec = rec.evolve(phase=Phase.IDLE, target_slot="", target_version="")
            slots.pop(target.slot if target else "", None)
        wanted = {rec.active_slot: rec.active_version}
        if spec.keep_previous and rec.previous_slot:
            wanted[rec.previous_slot] = rec.previous_version
        if rec.phase is Phase.WEIGHTED:  # the candidate of a weighted step keeps its share
            wanted[rec.target_slot] = rec.target_version
        for slot, version in wanted.items():
            if not slot:
                continue
            known = slots.get(slot)
            adopted = (
                known is not None
                and known.version == version
                and await driver.adopt(self._run(spec, slot, version), known.pid, known.started_at)
            )
            if not adopted:
                log.info("%s: starting %s on %s again", spec.name, version, slot)
                with contextlib.suppress(InvalidService):
                    await self._start_slot(spec, slot, version)
            self._watch(spec, slot)
        router = await self._ensure_router(spec)
        if rec.active_slot:
            await router.flip(rec.active_slot, self._address, spec.port(rec.active_slot))
        if rec.phase is Phase.WEIGHTED and driver.status(spec.name, rec.target_slot).running:
            await router.set_weights(**_weights(rec))
        else:
            rec = rec.evolve(phase=Phase.IDLE, target_slot="", target_version="", weight=0)
        await asyncio.to_thread(self._store.put, rec)
        log.info("%s: reconciled (%s on %s)", spec.name, rec.active_version, rec.active_slot)

    async def close(self) -> None:
        for task in list(self._operations):  # cut short: reconcile finishes or undoes it at the next start
            task.cancel()
        await asyncio.gather(*self._operations, return_exceptions=True)
        for r in self.routers.values():
            await r.detach()
        for kind in {s.driver for s in self._specs.values()}:
            await self._drivers(kind).close()
