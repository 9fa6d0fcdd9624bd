"""The composition root: :func:`build` makes every part of the controller in
dependency order and hands each only what it uses. The result,
:class:`Controller`, has no optional parts. The daemon (lifecycle, servers,
scheduler, signals) and the tests both build it here, so the wiring is
written once.

Parts that need each other sideways get a small callable instead of the
other part: the fault and drill paths ask "which rollout runs on this
service", the rollout executor asks "which drill targets this service"."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from switchman.controller.agents import AgentGateway, GrpcAgentGateway
from switchman.controller.alerts.fingerprints import fingerprint
from switchman.controller.alerts.manager import RuleManager
from switchman.controller.chaos.drills import DrillRunner
from switchman.controller.chaos.faults import FaultOps
from switchman.controller.chaos.files import DrillFiles
from switchman.controller.config import ControllerConfig
from switchman.controller.config import load as load_config
from switchman.controller.errors import Unavailable
from switchman.controller.fleet import Fleet
from switchman.controller.incidents.manager import IncidentManager, Policy
from switchman.controller.incidents.views import notification_doc
from switchman.controller.ingest import Ingestor
from switchman.controller.notify.dispatcher import Dispatcher
from switchman.controller.notify.inhibit import parse_inhibit_rules
from switchman.controller.notify.outbox import Outbox
from switchman.controller.notify.registry import build_notifiers
from switchman.controller.notify.silences import SilenceStore
from switchman.controller.paths import expand_globs
from switchman.controller.promql.evaluator import Evaluator
from switchman.controller.remote_write import RemoteWrite, parse_endpoints
from switchman.controller.rollouts.executor import Pace, RolloutDeps, RolloutManager
from switchman.controller.rollouts.model import Rollout
from switchman.controller.security.audit import AuditLog
from switchman.controller.security.tokens import TokenStore
from switchman.controller.services import ServiceRegistry
from switchman.controller.slo.engine import SLOEngine, burn_alerts
from switchman.controller.slo.spec import load_slo_files
from switchman.controller.store.abc import StoreError, StoreFull
from switchman.controller.store.maintenance import Maintenance
from switchman.controller.store.sqlite import timeseries as ts_sql
from switchman.controller.store.sqlite.samples import StoreSource
from switchman.controller.store.storage import Storage
from switchman.controller.store.writer import out_of_space
from switchman.controller.timefmt import wall_ms
from switchman.proto.channel import TlsMaterial
from switchman.proto.durations import parse_duration_ms

log = logging.getLogger(__name__)

WAL_RESTART_BYTES = 64 * 1024 * 1024


class StartupError(ValueError):
    """A rule, SLO or drill file that cannot be loaded at start."""


@dataclass(frozen=True)
class Retention:
    raw_ms: int = 48 * 3_600_000
    minute_ms: int = 30 * 86_400_000
    hour_ms: int = 400 * 86_400_000

    @classmethod
    def of(cls, config: ControllerConfig) -> Retention:
        return cls(
            int(config.raw_retention * 1000),
            int(config.rollup_1m_retention * 1000),
            int(config.rollup_1h_retention * 1000),
        )


@dataclass
class IngestRate:
    """Samples per second over the last minute, from (time, total) marks."""

    marks: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=13))

    def mark(self, total: int) -> None:
        self.marks.append((time.monotonic(), total))

    def per_second(self) -> float:
        if len(self.marks) < 2:
            return 0.0
        (t0, n0), (t1, n1) = self.marks[0], self.marks[-1]
        return (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0


@dataclass(frozen=True)
class Controller:
    """Every part of a running controller (none optional)."""

    config: ControllerConfig
    clock_ms: Callable[[], int]
    retention: Retention
    storage: Storage
    fleet: Fleet
    ingest: Ingestor
    tokens: TokenStore
    audit: AuditLog
    evaluator: Evaluator
    silences: SilenceStore
    outbox: Outbox
    dispatcher: Dispatcher
    services: ServiceRegistry
    agents: AgentGateway
    faults: FaultOps
    rules: RuleManager
    slo: SLOEngine
    incidents: IncidentManager
    rollouts: RolloutManager
    drills: DrillRunner
    drill_files: DrillFiles
    rate: IngestRate
    remote_write: RemoteWrite

    @property
    def heartbeat_interval_ms(self) -> int:
        return int(self.config.heartbeat_interval * 1000)

    @property
    def require_agent_certs(self) -> bool:
        return not self.config.insecure

    def alert_names(self) -> set[str]:
        return names(self.rules)

    async def maintain(self) -> None:
        """Rollups and retention (scheduled every minute), in small writer
        jobs that pushes queue between."""
        now = self.clock_ms()
        try:
            await Maintenance(self.storage.run, self.storage.read, self.retention).run(now)
            await self.silences.collect_garbage(now)
            await self.remote_write.prune(now)
        except StoreFull:
            log.debug("maintenance waits for disk space")

    async def checkpoint(self) -> None:
        """Copy the WAL into the database from a side connection; once the WAL
        holds more than ``WAL_RESTART_BYTES``, let the writer copy the rest
        between two transactions so the WAL starts again from the top."""
        try:
            wal_bytes = await asyncio.to_thread(self.storage.db.checkpoint)
            if wal_bytes > WAL_RESTART_BYTES:
                # once more from the side, so what the writer copies is only what came in the last moment
                await asyncio.to_thread(self.storage.db.checkpoint)
                await asyncio.wrap_future(self.storage.writer.checkpoint())
        except (sqlite3.Error, OSError) as exc:
            if not out_of_space(exc):
                raise
            log.debug("checkpoint waits for disk space: %s", exc)  # the writer logs the full disk once

    async def count_samples(self) -> int:
        return await asyncio.to_thread(lambda: ts_sql.count_samples(self.storage.reader()))

    async def close(self) -> None:
        """Stop what runs in the background, then the store."""
        try:
            await self.fleet.flush()
        except (StoreError, sqlite3.Error) as exc:
            log.warning("heartbeat times not saved at shutdown: %s", exc)
        await self.remote_write.close()
        await self.rollouts.close()
        await self.drills.close()
        if isinstance(self.agents, GrpcAgentGateway):
            await self.agents.close()
        await asyncio.to_thread(self.storage.close)

    # reloadable parts ---------------------------------------------------------
    def load_slos(self, patterns: list[str]) -> list[str]:
        """The SLO files the globs match into the engine, and their burn-rate
        alerts into the rule manager (applied by the next ``rules.load()``);
        errors keep the running set."""
        slos, errors = load_slo_files(expand_globs(patterns))
        if errors:
            return errors
        self.slo.configure(slos)
        self.rules.extra_groups = burn_alerts(
            slos, int(self.config.slo_interval * 1000), period_days=self.slo.period_ms / 86_400_000
        )
        log.info("%d SLO(s) loaded", len(slos))
        return []

    def configure_notifiers(self, config: ControllerConfig) -> None:
        """:raises ConfigError, ValueError: a bad notifier or inhibition rule (the running ones stay)."""
        notifiers = build_notifiers(config.notifiers, config.source)
        inhibit = parse_inhibit_rules(config.inhibit_rules, config.source)
        self.dispatcher.configure(notifiers, inhibit)
        log.info("%d notifier(s), %d inhibition rule(s)", len(notifiers), len(inhibit))


class ControllerRef:
    """The controller once it is built. The servers start first (health
    NOT_SERVING while migrations run), holding this; calls made before the
    controller exists are refused as UNAVAILABLE."""

    def __init__(self, controller: Controller | None = None) -> None:
        self._controller = controller

    @property
    def ready(self) -> bool:
        return self._controller is not None

    def set(self, controller: Controller) -> None:
        self._controller = controller

    def get(self) -> Controller:
        """:raises Unavailable: while the controller starts."""
        if self._controller is None:
            raise Unavailable("controller is starting (running migrations)")
        return self._controller


def make_evaluator(storage: Storage, retention: Retention, clock_ms: Callable[[], int]) -> Evaluator:
    """PromQL over the store: raw samples within raw retention, rollups beyond."""
    source = StoreSource(
        storage.index, storage.reader, retention.raw_ms, (retention.minute_ms, retention.hour_ms), clock_ms
    )
    return Evaluator(source)


def _base(
    config: ControllerConfig, clock_ms: Callable[[], int]
) -> tuple[Storage, Fleet, Ingestor, TokenStore, SilenceStore]:
    """Blocking: open the store (migrations) and load what lives in memory."""
    storage = Storage.open(config.data_dir / "controller.db")
    reader = storage.reader()
    ingest = Ingestor(storage.writer, storage.index, clock_ms)
    fleet = Fleet(storage.writer, storage.index, clock_ms, int(config.heartbeat_ttl * 1000), ingest.host_down)
    fleet.load(reader)
    ingest.load(reader)
    tokens = TokenStore(storage, clock_ms)
    tokens.load()
    silences = SilenceStore(storage)
    silences.load()
    return storage, fleet, ingest, tokens, silences


async def build(
    config: ControllerConfig,
    *,
    agents: AgentGateway | None = None,
    tls: TlsMaterial | None = None,
    clock_ms: Callable[[], int] = wall_ms,
    pace: Pace | None = None,
) -> Controller:
    """Open the store and make every part; restores alert state, resumes
    unfinished rollouts and clears the faults of unfinished drills.

    ``agents`` defaults to the gRPC gateway (with ``tls``, the controller's
    certificate). :raises StartupError: an invalid rule, SLO or drill file.
    """
    retention = Retention.of(config)
    storage, fleet, ingest, tokens, silences = await asyncio.to_thread(_base, config, clock_ms)
    evaluator = make_evaluator(storage, retention, clock_ms)
    # before ingest starts: from here on every stored sample is logged for the endpoints
    endpoints = parse_endpoints(config.remote_write, config.source)
    remote_write = await RemoteWrite.open(endpoints, storage, clock_ms, retention.raw_ms)
    outbox = Outbox(storage, clock_ms)
    rules = RuleManager(storage, evaluator, clock_ms, list(config.rule_files))
    dispatcher = Dispatcher(storage, silences, outbox, rules.all_alerts, fingerprint, clock_ms)
    dispatcher.configure([], [])
    gateway = agents or GrpcAgentGateway(fleet.get, tls)
    services = ServiceRegistry(storage, clock_ms, lambda: list(fleet.hosts.values()))
    slo = SLOEngine(storage, evaluator, clock_ms, config.slo_period, parse_duration_ms(config.slo_period))
    incidents = IncidentManager(
        storage,
        clock_ms,
        rules.all_alerts,
        dispatcher.muted,
        lambda event, inc: dispatcher.incident_messages(event, notification_doc(inc)),
        Policy(
            frozenset(config.incident_severities),
            dict(config.incident_priorities),
            int(config.escalation_interval * 1000),
            int(config.auto_resolve_after * 1000),
        ),
    )

    # the sideways needs, as callables over parts made just below (asked only once running)
    def rollout_of(service: str) -> Rollout | None:
        return rollouts.active_for(service)

    def drill_on(service: str) -> str:
        return drills.busy(service)

    faults = FaultOps(storage, clock_ms, fleet, gateway, rollout_of)
    deps = RolloutDeps(fleet, evaluator, lambda: names(rules), rules.alerts, drill_on)
    rollouts = RolloutManager(storage, clock_ms, services, gateway, deps, pace)
    drills = DrillRunner(storage, clock_ms, fleet, evaluator, faults, rules.alerts, rollouts.active_for)
    c = Controller(
        config=config,
        clock_ms=clock_ms,
        retention=retention,
        storage=storage,
        fleet=fleet,
        ingest=ingest,
        tokens=tokens,
        audit=AuditLog(storage),
        evaluator=evaluator,
        silences=silences,
        outbox=outbox,
        dispatcher=dispatcher,
        services=services,
        agents=gateway,
        faults=faults,
        rules=rules,
        slo=slo,
        incidents=incidents,
        rollouts=rollouts,
        drills=drills,
        drill_files=DrillFiles(list(config.drill_files)),
        rate=IngestRate(),
        remote_write=remote_write,
    )
    try:
        await _start(c)
    except BaseException:
        await c.close()
        raise
    return c


def names(rules: RuleManager) -> set[str]:
    """The alerting rules' names (an ``--analysis ALERTNAME`` must be one)."""
    return {r.name for g in rules.groups for r in g.rules if r.kind == "alerting"}


async def _start(c: Controller) -> None:
    """Rules (state restored), notifiers, incidents, drills (unfinished ones cleared), rollouts (resumed)."""
    errors = c.load_slos(list(c.config.slo_files))
    if errors:
        raise StartupError("invalid SLO files:\n  " + "\n  ".join(errors))
    errors = c.rules.load()
    if errors:
        raise StartupError("invalid rule files:\n  " + "\n  ".join(errors))
    restored = await asyncio.to_thread(c.rules.restore)
    log.info("loaded %d rule group(s), restored %d alert(s)", len(c.rules.groups), restored)
    c.configure_notifiers(c.config)
    opened = await c.incidents.load()
    if opened:
        log.info("%d open incident(s)", opened)
    if await c.drills.recover():
        log.warning("cleared the faults of drills the previous run left unfinished")
    resumed = await c.rollouts.resume_all()
    if resumed:
        log.info("resumed %d unfinished rollout(s)", resumed)
    errors = c.drill_files.load()
    if errors:
        raise StartupError("invalid drill files:\n  " + "\n  ".join(errors))


def settings(data_dir: Path, **keys: object) -> ControllerConfig:
    """A loopback, insecure configuration for tests, tools and benchmarks:
    the defaults plus ``keys`` (TOML key names, flag-style values)."""
    return load_config(
        None, {"data_dir": str(data_dir), "insecure": True, "metrics_listen": "", "http_listen": "", **keys}
    )
