"""Runs drills (SPEC 4.7): steady state first (no faults if it does not
hold), faults on the chosen hosts, abort conditions and the steady state
watched every few seconds, revert at the end or on abort, then wait for
recovery. The journal is written after every phase; faults are the agents'
(their own timers revert them even if the controller dies)."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable

from switchman.controller.alerts.engine import Alert, AlertState
from switchman.controller.chaos.faults import FaultOps
from switchman.controller.chaos.journal import AppliedFault, Journal, ProbeRecord, value_text
from switchman.controller.chaos.spec import Condition, DrillSpec, pick_count
from switchman.controller.errors import Conflict, ControllerError, NotFound
from switchman.controller.fleet import Fleet
from switchman.controller.promql.conditions import holds
from switchman.controller.promql.evaluator import Evaluator
from switchman.controller.promql.parser import parse
from switchman.controller.rollouts.model import Rollout
from switchman.controller.store.abc import Store
from switchman.proto.v1 import common_pb2

log = logging.getLogger(__name__)

POLL_S = 2.0


class DrillRunner:
    def __init__(
        self,
        store: Store,
        clock_ms: Callable[[], int],
        fleet: Fleet,
        evaluator: Evaluator,
        faults: FaultOps,
        alerts: Callable[[], list[Alert]],
        rollout_of: Callable[[str], Rollout | None],
    ) -> None:
        """``rollout_of(service)``: the rollout in progress on the service, if any."""
        self.store = store
        self.clock_ms = clock_ms
        self.fleet = fleet
        self.evaluator = evaluator
        self._rollout_of = rollout_of
        self.faults = faults
        self._alerts = alerts
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._live: dict[int, tuple[Journal, DrillSpec]] = {}

    # queries ----------------------------------------------------------------
    def busy(self, service: str) -> str:
        """``drill N`` when a running drill targets the service (rollouts refuse then)."""
        for j, spec in self._live.values():
            if service in spec.services and not j.terminal:
                return f"drill {j.id} ({j.title})"
        return ""

    async def get(self, drill_id: int) -> Journal:
        if drill_id in self._live:
            return self._live[drill_id][0]
        if not 0 < drill_id < 2**63:
            raise NotFound(f"drill {drill_id} does not exist")
        j = await asyncio.to_thread(self.store.drills.load, drill_id)
        if j is None:
            raise NotFound(f"drill {drill_id} does not exist")
        return j

    async def recent(self, limit: int) -> list[Journal]:
        stored = await asyncio.to_thread(self.store.drills.recent, limit)
        return [self._live[j.id][0] if j.id in self._live else j for j in stored]

    # lifecycle --------------------------------------------------------------
    async def recover(self) -> int:
        """After a controller restart: clear the faults of drills that were running, and fail them."""
        unfinished = await asyncio.to_thread(self.store.drills.unfinished)
        for j in unfinished:
            await self._clear_faults(j)
            self._finish(j, "failed", "the controller restarted during the drill; its faults were cleared")
            await self._save(j)
        return len(unfinished)

    async def close(self) -> None:
        for t in self._tasks.values():
            t.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def start(self, spec: DrillSpec, force: bool, dry_run: bool, actor: str) -> Journal:
        """Checks what can be checked before anything is stored, then runs in the background.

        :raises Conflict: a rollout of a targeted service is in progress, or a drill already targets it.
        """
        for service in spec.services:
            running = self._rollout_of(service)
            if running is not None and not force:
                raise Conflict(f"rollout {running.id} of {service} is in progress; wait for it or use --force")
            other = self.busy(service)
            if other and not force:
                raise Conflict(f"{other} already targets {service}")
        now = self.clock_ms()
        j = Journal(0, spec.title, spec.description, spec.source, dry_run or spec.dry_run, now, started_by=actor)
        j.probes = [ProbeRecord(c.name, c.expr or f"ALERTS{{alertname={c.alert!r}}}") for c in spec.steady_state]
        j.note(now, f"started by {actor}" + (" (dry run)" if j.dry_run else ""))
        j.id = await self._insert(j)
        self._live[j.id] = (j, spec)
        self._tasks[j.id] = asyncio.create_task(self._run(j, spec), name=f"drill:{j.id}")
        return j

    # the run ------------------------------------------------------------------
    async def _run(self, j: Journal, spec: DrillSpec) -> None:
        try:
            await self._phases(j, spec)
        except asyncio.CancelledError:
            await self._clear_faults(j)
            self._finish(j, "failed", "the controller stopped during the drill; its faults were cleared")
            await self._save(j)
            raise
        except Exception as exc:  # a drill must never leave faults behind
            log.exception("drill %d", j.id)
            await self._clear_faults(j)
            self._finish(j, "failed", f"internal error: {exc}")
        finally:
            self._live.pop(j.id, None)
            self._tasks.pop(j.id, None)
        await self._save(j)

    async def _phases(self, j: Journal, spec: DrillSpec) -> None:
        held = await self._check(spec.steady_state, j, "before")
        if not held:
            self._finish(j, "failed", "the steady state did not hold before the drill; nothing was injected")
            return
        j.targets = self._targets(spec)
        if not j.targets:
            self._finish(j, "failed", "no up host matches the drill's selector")
            return
        if j.dry_run:
            planned = ", ".join(f"{f.kind} on {h}" for h in j.targets for f in spec.faults)
            self._finish(j, "completed", f"dry run: the steady state holds; would inject {planned}")
            return
        j.state = "injecting"
        await self._save(j)
        if not await self._inject(j, spec):
            await self._clear_faults(j)
            self._finish(j, "failed", j.reason or "a fault could not be applied; the others were cleared")
            return
        j.state, j.injected_ms = "running", self.clock_ms()
        j.note(j.injected_ms, f"{len(j.faults)} fault(s) applied on {', '.join(j.targets)}")
        await self._save(j)
        aborted = await self._watch(j, spec)
        await self._clear_faults(j)
        j.reverted_ms = self.clock_ms()
        j.note(j.reverted_ms, "faults reverted")
        j.state = "recovering"
        await self._save(j)
        recovered = await self._recover(j, spec)
        if aborted:
            self._finish(j, "aborted", j.reason)
        elif not recovered:
            self._finish(j, "failed", f"the steady state did not hold again within {spec.recovery_timeout_ms // 1000}s")
        elif all(p.held_during for p in j.probes):
            self._finish(j, "completed", "the steady state held throughout")
        else:
            broke = ", ".join(p.name for p in j.probes if not p.held_during)
            self._finish(j, "deviated", f"the steady state broke during the faults ({broke}) and recovered")

    def _targets(self, spec: DrillSpec) -> list[str]:
        fleet = self.fleet
        up = sorted(
            h.host_id
            for h in fleet.hosts.values()
            if fleet.is_up(h) and all(h.labels.get(k) == v for k, v in spec.selector.items())
        )
        n = pick_count(spec.mode, len(up))
        return sorted(random.sample(up, n)) if n < len(up) else up

    async def _inject(self, j: Journal, spec: DrillSpec) -> bool:
        for host in j.targets:
            for f in spec.faults:
                fs = common_pb2.FaultSpec(kind=f.kind, duration_ms=f.duration_ms, service=f.service, params=f.params)
                try:
                    applied = await self.faults.inject(host, fs, force=True)  # the rollout check was done at start
                except ControllerError as exc:
                    j.reason = f"{f.kind} on {host}: {exc}"
                    j.note(self.clock_ms(), j.reason)
                    return False
                j.faults.append(
                    AppliedFault(
                        applied.id,
                        host,
                        f.kind,
                        f.service,
                        dict(f.params),
                        applied.applied_at_ms,
                        applied.expires_at_ms,
                    )
                )
                await self._save(j)  # each fault is on record before the next is applied
        return True

    async def _watch(self, j: Journal, spec: DrillSpec) -> bool:
        """Until the longest fault ends; True when an abort condition tripped."""
        end = j.injected_ms + max(f.duration_ms for f in spec.faults)
        while self.clock_ms() < end:
            await asyncio.sleep(min(POLL_S, max(0.05, (end - self.clock_ms()) / 1000)))
            self._detect(j, spec)
            await self._check(spec.steady_state, j, "during")
            for c in spec.abort_when:
                tripped, value = await self._condition(c)
                if tripped:
                    j.reason = f"aborted: {c.name} ({value_text(value)})"
                    j.note(self.clock_ms(), j.reason)
                    return True
            await self._save(j)
        return False

    def _detect(self, j: Journal, spec: DrillSpec) -> None:
        if j.detected_ms:
            return
        for a in self._alerts():
            related = a.labels.get("host") in j.targets or a.labels.get("service") in spec.services
            if a.state is AlertState.FIRING and related and a.fired_at_ms >= j.injected_ms:
                j.detected_ms, j.detected_by = a.fired_at_ms, a.labels.get("alertname", "")
                j.note(a.fired_at_ms, f"detected: {j.detected_by} fired")
                return

    async def _recover(self, j: Journal, spec: DrillSpec) -> bool:
        deadline = self.clock_ms() + spec.recovery_timeout_ms
        while True:
            if await self._check(spec.steady_state, j, "after"):
                j.recovered_ms = self.clock_ms()
                j.note(j.recovered_ms, "the steady state holds again")
                return True
            if self.clock_ms() >= deadline:
                return False
            await asyncio.sleep(POLL_S)

    async def _condition(self, c: Condition) -> tuple[bool, float]:
        if c.alert:
            firing = [
                a for a in self._alerts() if a.state is AlertState.FIRING and a.labels.get("alertname") == c.alert
            ]
            return bool(firing), float(len(firing))
        now = self.clock_ms()
        value = await asyncio.to_thread(self.evaluator.instant, parse(c.expr), now)
        return holds(value)

    async def _check(self, conditions: tuple[Condition, ...], j: Journal, phase: str) -> bool:
        ok = True
        for c, p in zip(conditions, j.probes, strict=True):
            held, value = await self._condition(c)
            if c.alert:
                held = not held  # a steady-state alert condition holds while the alert does not fire
            if phase == "before":
                p.before, p.held_before = value, held
            elif phase == "during":
                if p.held_during:
                    p.during = value
                if not held and p.held_during:
                    p.held_during = False
                    j.note(self.clock_ms(), f"steady state broke: {c.name} = {value_text(value)}")
            else:
                p.after, p.held_after = value, held
            ok = ok and held
        return ok

    async def _clear_faults(self, j: Journal) -> None:
        for f in j.faults:
            if f.reverted_ms:
                continue
            cleared = await self.faults.clear(f.host_id, f.id)
            f.reverted_ms = (
                cleared.reverted_at_ms if cleared is not None and cleared.reverted_at_ms else self.clock_ms()
            )
            if cleared is None:
                f.error = "the agent could not be reached; its own timer reverts the fault"

    def _finish(self, j: Journal, state: str, reason: str) -> None:
        now = self.clock_ms()
        j.state, j.reason, j.finished_ms = state, reason, now
        j.note(now, f"{state}: {reason}")
        log.info("drill %d (%s): %s: %s", j.id, j.title, state, reason)

    async def _insert(self, j: Journal) -> int:
        return await self.store.write(lambda tx: self.store.drills.insert(tx, j))

    async def _save(self, j: Journal) -> None:
        snapshot = Journal.from_json(j.to_json())  # as it is now: the loop goes on changing j
        await self.store.write(lambda tx: self.store.drills.save(tx, snapshot))
