"""Drives each unfinished rollout: one task per rollout that ticks the
machine, persists the document, then acts (converge hosts, check health,
run analysis), and feeds what it saw back. Owned by the daemon: started at
start-up (resuming whatever was persisted), cancelled on shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace

from switchman.controller.agents import AgentGateway
from switchman.controller.alerts.engine import Alert
from switchman.controller.errors import Conflict, InvalidArgument, NotFound
from switchman.controller.fleet import Fleet
from switchman.controller.promql.evaluator import Evaluator
from switchman.controller.rollouts import analysis, canary
from switchman.controller.rollouts.agents import AgentOps, Converged, Weighed
from switchman.controller.rollouts.machine import Action, Machine, TransitionError, Weigh
from switchman.controller.rollouts.model import HostState, Options, Rollout, RolloutState, Verdict
from switchman.controller.rollouts.planner import plan
from switchman.controller.services import ServiceRegistry
from switchman.controller.store.abc import Event, Store
from switchman.proto.services import ServiceDef
from switchman.proto.validate import ValidationError, check_identifier, check_version

log = logging.getLogger(__name__)

WATCH_POLL_S = 5.0


@dataclass(frozen=True)
class Pace:
    """How often the executor looks: ticks, health checks, analysis, and the
    retry of an agent that is busy or unreachable (tests run faster)."""

    tick_s: float = 0.25
    health_every_ms: int = 1000
    analysis_every_ms: int = 2000
    retry_s: float = 0.5
    converge_slack_s: float = 10.0  # a converge may take the healthy deadline, the drain and this


SEVERITY = {"succeeded": 1, "rolled_back": 2, "failed": 3, "aborted": 2, "rolling_back": 2}


@dataclass(frozen=True)
class RolloutDeps:
    """What the executor reads besides the store: the fleet, the evaluator,
    the alert rules (names, to check ``--analysis``; alerts, during bake) and
    whether a drill targets a service (``drill N``, or "")."""

    fleet: Fleet
    evaluator: Evaluator
    alert_names: Callable[[], set[str]]
    alerts: Callable[[], list[Alert]]
    drill_on: Callable[[str], str]


class RolloutManager:
    def __init__(
        self,
        store: Store,
        clock_ms: Callable[[], int],
        services: ServiceRegistry,
        agents: AgentGateway,
        deps: RolloutDeps,
        pace: Pace | None = None,
    ) -> None:
        self.pace = pace or Pace()
        self.store = store
        self.clock_ms = clock_ms
        self.registry = services
        self.agents = AgentOps(agents, self.pace.retry_s)
        self.deps = deps
        self._machines: dict[int, Machine] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._wake: dict[int, asyncio.Event] = {}
        self._changed: dict[int, asyncio.Event] = {}
        self._saved: dict[int, str] = {}
        self._persisting = asyncio.Lock()

    # lifecycle --------------------------------------------------------------
    async def resume_all(self) -> int:
        unfinished = await asyncio.to_thread(self.store.rollouts.unfinished)
        for r in unfinished:
            log.info("resuming rollout %d of %s to %s (%s)", r.id, r.service, r.version, r.state.value)
            self._spawn(r)
        return len(unfinished)

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _spawn(self, r: Rollout) -> None:
        self._machines[r.id] = Machine(r)
        self._saved[r.id] = r.to_json()
        self._wake[r.id] = asyncio.Event()
        self._changed.setdefault(r.id, asyncio.Event())
        self._tasks[r.id] = asyncio.create_task(self._run(r.id), name=f"rollout:{r.id}")

    # commands ---------------------------------------------------------------
    def active(self) -> list[Rollout]:
        return sorted((m.r for m in self._machines.values() if not m.r.terminal), key=lambda r: r.id)

    def active_for(self, service: str) -> Rollout | None:
        return next((m.r for m in self._machines.values() if m.r.service == service and not m.r.terminal), None)

    async def start(
        self,
        service: str,
        version: str,
        options: Options,
        actor: str,
        kind: str = "rollout",
        only: set[str] | None = None,
    ) -> Rollout:
        """:raises InvalidArgument, NotFound, Conflict: before anything is stored."""
        try:
            check_identifier("service", service)
            check_version(version)
        except ValidationError as exc:
            raise InvalidArgument(str(exc)) from None
        spec = (await self.registry.current(service)).spec
        options = self._complete(options, spec)
        try:
            analysis.check_analysis(options.analysis, self.deps.alert_names())
        except Exception as exc:  # a PromQL error, with its position
            raise InvalidArgument(f"analysis: {exc}") from None
        running = self.active_for(service)
        if running is not None:
            raise Conflict(f"rollout {running.id} of {service} is {running.state.value}; abort it or wait")
        drill = self.deps.drill_on(service)
        if drill and not options.force:
            raise Conflict(f"{drill} targets {service}; wait for it or use --force")
        now = self.clock_ms()
        hosts = [h for h in self.deps.fleet.hosts.values() if only is None or h.host_id in only]
        up = {h.host_id for h in hosts if self.deps.fleet.is_up(h, now)}
        steps, batches = plan(hosts, up, options)
        down = [s.host_id for s in steps if s.state is HostState.SKIPPED]
        if down and options.require_all:
            raise Conflict(f"--require-all: host(s) down: {', '.join(down)}")
        if batches == 0:
            raise Conflict(f"every host matching the selector is down: {', '.join(down)}")

        def make(rid: int) -> Rollout:
            return Rollout(
                rid,
                service,
                version,
                spec.revision,
                options,
                steps,
                batches,
                now,
                actor or "unknown",
                kind,
                updated_ms=now,
                last_progress_ms=now,
                message="started" + (f"; skipped down host(s) {', '.join(down)}" if down else ""),
            )

        r = await self.store.write(lambda tx: self.store.rollouts.create(tx, make))
        await self._event(
            r, "", "rollout.started", f"rollout {r.id}: {service} to {version} on {len(steps) - len(down)} host(s)", 1
        )
        self._spawn(r)
        return r

    @staticmethod
    def _complete(o: Options, spec: ServiceDef) -> Options:
        if o.strategy not in ("blue-green", "canary"):
            raise InvalidArgument(f"strategy: {o.strategy!r} is not blue-green or canary")
        canary = o.canary if o.canary >= 0 else (1 if o.strategy == "canary" else 0)
        if o.strategy == "blue-green" and o.canary > 0:
            raise InvalidArgument("canary: --canary needs --strategy canary")
        if o.max_parallel < 1 or o.max_parallel > 1000:
            raise InvalidArgument("max_parallel: must be between 1 and 1000")
        bake = o.bake_ms if o.bake_ms >= 0 else (30_000 if canary or o.steps else 0)
        durations = {
            "min_healthy": o.min_healthy_ms,
            "healthy_deadline": o.healthy_deadline_ms,
            "progress_deadline": o.progress_deadline_ms,
            "bake": bake,
        }
        for name, ms in durations.items():
            if ms < 0 or ms > 7 * 86_400_000:
                raise InvalidArgument(f"{name}: must be between 0 and 7d")
        if o.healthy_deadline_ms <= o.min_healthy_ms:
            raise InvalidArgument("healthy_deadline: must be longer than min_healthy")
        if o.progress_deadline_ms < o.healthy_deadline_ms:
            raise InvalidArgument("progress_deadline: must be at least healthy_deadline")
        if o.manual and canary == 0:
            raise InvalidArgument("manual: there is no canary to promote (use --strategy canary or --canary N)")
        steps = _check_steps(o, spec, bake)
        return replace(o, canary=canary, bake_ms=bake, selector=o.selector or dict(spec.selector), steps=steps)

    async def command(self, rollout_id: int, action: str, reason: str = "") -> Rollout:
        m = self._machines.get(rollout_id)
        if m is None or m.r.terminal:
            r = await self.get(rollout_id)
            raise Conflict(f"rollout {rollout_id} is {r.state.value}: it has finished")
        now = self.clock_ms()
        commands: dict[str, Callable[[int], None]] = {
            "promote": m.promote,
            "pause": m.pause,
            "resume": m.resume,
            "abort": lambda n: m.abort(reason, n),
        }
        if action not in commands:  # a caller's mistake: never taken as an abort
            raise InvalidArgument(f"action: {action!r} is not one of {', '.join(commands)}")
        try:
            commands[action](now)
        except TransitionError as exc:
            raise Conflict(str(exc)) from None
        m.r.updated_ms = now
        await self._persist(m.r)
        self._wake[rollout_id].set()
        return m.r

    async def rollback_service(self, service: str, actor: str) -> Rollout:
        """A new rollout back to the previous version on every host of the
        service's last successful rollout (the warm slots make it fast).

        :raises NotFound: no service of that name; :raises Conflict: nothing to roll back."""
        await self.registry.current(service)
        last = next(
            (
                r
                for r in await asyncio.to_thread(self.store.rollouts.recent, service, 200)
                if r.state is RolloutState.SUCCEEDED
            ),
            None,
        )
        if last is None:
            raise Conflict(f"{service} has no successful rollout to roll back")
        previous = {h.from_version for h in last.hosts if h.from_version}
        if len(previous) != 1:
            raise Conflict(f"rollout {last.id} replaced {len(previous)} different versions; roll back host by host")
        hosts = {h.host_id for h in last.hosts if h.state is HostState.HEALTHY}
        o = replace(
            last.options,
            strategy="blue-green",
            canary=0,
            bake_ms=0,
            manual=False,
            analysis=[],
            min_healthy_ms=min(last.options.min_healthy_ms, 2000),
            steps=[],  # back at once, through the warm slots: no weighted steps, no canary checks
            max_error_rate=-1.0,
            max_latency_regression=-1.0,
        )
        return await self.start(service, previous.pop(), o, actor, kind="rollback", only=hosts)

    async def get(self, rollout_id: int) -> Rollout:
        if not 0 < rollout_id < 2**63:
            raise NotFound(f"rollout {rollout_id} does not exist")
        m = self._machines.get(rollout_id)
        if m is not None:
            return m.r
        r = await asyncio.to_thread(self.store.rollouts.load, rollout_id)
        if r is None:
            raise NotFound(f"rollout {rollout_id} does not exist")
        return r

    async def find(self, service: str, active_only: bool, limit: int) -> list[Rollout]:
        stored = await asyncio.to_thread(self.store.rollouts.recent, service, min(limit or 50, 1000))
        live = {r.id: r for r in (m.r for m in self._machines.values())}
        out = [live.get(r.id, r) for r in stored]
        return [r for r in out if not (active_only and r.terminal)]

    async def watch(self, rollout_id: int) -> AsyncIterator[Rollout]:
        """The rollout now and after every change, until it finishes. The
        change event is taken *before* the state is read, so a change made
        while the caller is busy with the last one is never missed."""
        last = ""
        while True:
            changed = self._changed.setdefault(rollout_id, asyncio.Event())
            r = await self.get(rollout_id)
            doc = r.to_json()
            if doc != last:
                last = doc
                yield r
            if r.terminal:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), WATCH_POLL_S)  # the poll is a safety net only

    # the loop ---------------------------------------------------------------
    async def _run(self, rollout_id: int) -> None:
        m = self._machines[rollout_id]
        r = m.r
        spec = next(v.spec for v in await self.registry.history(r.service) if v.spec.revision == r.revision)
        pending: dict[str, asyncio.Task[Converged | Weighed]] = {}
        queued: dict[str, Action] = {}
        actions = m.in_flight()  # after a restart: issued before the crash, issued again (idempotent)
        m.resumed(self.clock_ms())
        last_health = last_analysis = 0
        try:
            while True:
                now = self.clock_ms()
                actions += m.tick(now)
                await self._persist(r)  # written before acting
                for a in actions:
                    queued[a.host_id] = a
                actions = []
                for host, a in list(queued.items()):
                    if host not in pending:
                        deadline = (
                            r.options.healthy_deadline_ms + spec.drain_timeout_ms
                        ) / 1000 + self.pace.converge_slack_s
                        pending[host] = asyncio.create_task(self._act(m, spec, a, deadline))
                        del queued[host]
                for host, task in list(pending.items()):
                    if task.done():
                        del pending[host]
                        self._observe(m, task.result(), self.clock_ms())
                if m.verifying() and now - last_health >= self.pace.health_every_ms:
                    last_health = now
                    await self._check_health(m)
                if m.analysis_due(now, last_analysis, self.pace.analysis_every_ms):
                    last_analysis = now
                    verdicts = await asyncio.to_thread(self._analyse, m, now)
                    m.on_analysis(verdicts, self.clock_ms())
                await self._persist(r)
                if r.terminal and not pending:
                    log.info("rollout %d of %s: %s (%s)", r.id, r.service, r.state.value, r.message)
                    return
                wake = self._wake[rollout_id]
                waits = [asyncio.ensure_future(wake.wait()), *pending.values()]
                await asyncio.wait(waits, timeout=self.pace.tick_s, return_when=asyncio.FIRST_COMPLETED)
                waits[0].cancel()
                wake.clear()
        finally:
            for task in pending.values():
                task.cancel()
            await asyncio.gather(*pending.values(), return_exceptions=True)
            if r.terminal:
                self._machines.pop(rollout_id, None)

    def _analyse(self, m: Machine, now: int) -> list[Verdict]:
        """Blocking (reads the store): the conditions, and a weighted step's canary checks."""
        r, ev = m.r, self.deps.evaluator
        verdicts = analysis.evaluate(r, self.deps.alert_names(), ev, self.deps.alerts, now)
        return verdicts + (canary.checks(r, ev, now) if m.canary_checks() else [])

    async def _act(self, m: Machine, spec: ServiceDef, a: Action, deadline_s: float) -> Converged | Weighed:
        record = functools.partial(self._record, m)
        if isinstance(a, Weigh):
            return await self.agents.weigh(spec, a.host_id, a.version, a.weight, deadline_s, record)
        return await self.agents.converge(spec, a.host_id, a.version, deadline_s, record)

    async def _record(self, m: Machine, host_id: str, version: str) -> bool:
        """What the host served before: persisted before the agent is asked to change."""
        go = m.record_from(host_id, version)
        await self._persist(m.r)
        return go

    def _observe(self, m: Machine, c: Converged | Weighed, now: int) -> None:
        h = m.r.host(c.host_id)
        if isinstance(c, Weighed):
            if h.state is HostState.WEIGHTING and c.version == m.r.version:
                m.on_weighted(c.host_id, c.ok, c.message, c.weight, (c.active_slot, c.candidate_slot), now)
            return
        expected = m.r.version if h.state is HostState.SWITCHING else h.from_version
        if h.state in (HostState.SWITCHING, HostState.ROLLING_BACK) and c.version == expected:
            m.on_converged(c.host_id, c.ok, c.message, c.from_version, c.active_slot, now, c.touched)

    async def _check_health(self, m: Machine) -> None:
        hosts = m.verifying()
        results = await asyncio.gather(*(self.agents.health(h.host_id, m.r.service, m.r.version) for h in hosts))
        now = self.clock_ms()
        for h, (ok, detail) in zip(hosts, results, strict=True):
            m.on_health(h.host_id, ok, detail, now)

    async def _persist(self, r: Rollout) -> None:
        """Save when the document changed; record what changed as events
        (the incident timeline reads them)."""
        async with self._persisting:  # converge tasks persist too: one diff at a time
            before = self._saved.get(r.id, "")
            doc = r.to_json()
            if doc == before:
                return
            r.updated_ms = self.clock_ms()
            snapshot = Rollout.from_json(r.to_json())  # as it is now: the loop goes on changing r
            await self.store.write(lambda tx: self.store.rollouts.save(tx, snapshot))
            self._saved[r.id] = r.to_json()
            await self._diff_events(Rollout.from_json(before) if before else None, r)
        ev = self._changed.pop(r.id, None)
        if ev is not None:
            ev.set()

    async def _diff_events(self, old: Rollout | None, r: Rollout) -> None:
        if old is not None and old.state is not r.state:
            sev = SEVERITY.get(r.state.value, 1)
            await self._event(
                r,
                "",
                f"rollout.{r.state.value}",
                f"rollout {r.id} of {r.service} to {r.version}: {r.state.value}: {r.message}",
                sev,
            )
        for h in r.hosts:
            was = old.host(h.host_id).state if old is not None else None
            if was is not None and was is not h.state:
                kind = (
                    "rollback.host"
                    if h.state in (HostState.ROLLING_BACK, HostState.ROLLED_BACK, HostState.ROLLBACK_FAILED)
                    else "rollout.host"
                )
                sev = 2 if h.state in (HostState.FAILED, HostState.ROLLBACK_FAILED) else 1
                await self._event(r, h.host_id, kind, f"rollout {r.id}: {h.host_id} {h.state.value}: {h.message}", sev)

    async def _event(self, r: Rollout, host_id: str, kind: str, message: str, severity: int) -> None:
        attrs = {"rollout": str(r.id), "version": r.version}
        event = Event(host_id, self.clock_ms(), kind, severity, r.service, message, attrs)
        await self.store.write(lambda tx: self.store.events.add(tx, event))


MAX_STEPS = 20


def _check_steps(o: Options, spec: ServiceDef, bake_ms: int) -> list[int]:
    """The weighted steps, 100 added when the last one is below it; and the canary checks' options.

    :raises InvalidArgument: naming the option.
    """
    checks = o.max_error_rate >= 0 or o.max_latency_regression >= 0
    if not o.steps:
        if checks:
            raise InvalidArgument("max_error_rate: the canary checks compare two slots: they need --steps")
        return []
    if any(not 1 <= w <= 100 for w in o.steps) or any(b <= a for a, b in zip(o.steps, o.steps[1:], strict=False)):
        raise InvalidArgument(f"steps: {','.join(map(str, o.steps))}: weights must rise, each from 1 to 100")
    steps = o.steps if o.steps[-1] == 100 else [*o.steps, 100]
    if len(steps) > MAX_STEPS:
        raise InvalidArgument(f"steps: at most {MAX_STEPS}")
    if checks and spec.protocol != "http":
        raise InvalidArgument(f'max_error_rate: {spec.name} has protocol = "{spec.protocol}": no request metrics')
    if checks and bake_ms <= 0:
        raise InvalidArgument("bake: the canary checks run over each step's bake: it cannot be 0")
    if o.max_error_rate > 1:
        raise InvalidArgument(f"max_error_rate: {o.max_error_rate:g} is above 100%")
    if o.max_latency_regression >= 0 and spec.router == "haproxy":
        raise InvalidArgument("max_latency_regression: HAProxy gives no request duration histogram to compare")
    if o.max_latency_regression >= 0 and steps == [100]:
        raise InvalidArgument("max_latency_regression: needs a step below 100 (where the old slot takes requests)")
    if not 1 <= o.min_requests <= 1_000_000_000:
        raise InvalidArgument("min_requests: must be between 1 and 1000000000")
    return steps
