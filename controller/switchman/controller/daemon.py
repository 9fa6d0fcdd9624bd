"""The controller's lifecycle: store, servers, scheduler, signals."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from grpc_health.v1._async import HealthServicer
from prometheus_client import Histogram, start_http_server
from switchman.controller.agents import AgentGateway, GrpcAgentGateway
from switchman.controller.alerts.manager import RuleManager
from switchman.controller.chaos.drills import DrillRunner
from switchman.controller.chaos.files import DrillFiles
from switchman.controller.chaos.spec import DrillSpec
from switchman.controller.config import ControllerConfig
from switchman.controller.core import Core, Retention
from switchman.controller.errors import ControllerError
from switchman.controller.incidents.manager import IncidentManager, Policy
from switchman.controller.incidents.views import notification_doc
from switchman.controller.metrics import ControllerMetrics
from switchman.controller.notify.inhibit import parse_inhibit_rules
from switchman.controller.notify.registry import build_notifiers
from switchman.controller.paths import expand_globs
from switchman.controller.rollouts.executor import RolloutManager
from switchman.controller.rpc_base import audit_call
from switchman.controller.security.auth import AuthInterceptor
from switchman.controller.security.certs import CertWatch
from switchman.controller.server import ControllerServicer, OpsServicer
from switchman.controller.slo.engine import SLOEngine, burn_alerts
from switchman.controller.slo.spec import load_slo_files
from switchman.proto.channel import (
    TlsMaterial,
    add_health,
    create_server,
    listen,
    set_serving,
    split_host_port,
)
from switchman.proto.daemon import SystemdNotifier
from switchman.proto.durations import parse_duration_ms
from switchman.proto.settings import ConfigError
from switchman.proto.v1 import controller_pb2_grpc, ops_pb2_grpc

log = logging.getLogger(__name__)

FEATURES = [
    "fleet",
    "query",
    "tokens",
    "audit",
    "services",
    "alerts",
    "silences",
    "notifiers",
    "rollouts",
    "faults",
    "drills",
    "slos",
    "incidents",
]


def assemble(
    core: Core, max_message_bytes: int, push_seconds: Histogram | None = None, agents: AgentGateway | None = None
) -> tuple[Any, HealthServicer]:
    """The gRPC server with every service the controller serves (not yet bound)."""
    server = create_server(
        max_message_bytes=max_message_bytes,
        interceptors=[
            AuthInterceptor(
                lambda: core.tokens if core.ready else None,
                lambda method, request, message: audit_call(core, method, request, f"denied: {message}"),
            )
        ],
    )
    health = add_health(server)
    servicer = ControllerServicer(core)
    if push_seconds is not None:
        push = servicer.PushTelemetry

        async def timed(request: Any, context: Any) -> Any:
            started = time.perf_counter()
            try:
                return await push(request, context)
            finally:
                push_seconds.observe(time.perf_counter() - started)

        servicer.PushTelemetry = timed  # type: ignore[method-assign]
    controller_pb2_grpc.add_ControllerServicer_to_server(servicer, server)
    ops_pb2_grpc.add_OpsServicer_to_server(OpsServicer(core, FEATURES, agents), server)
    return server, health


def _log_failure(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("audit of the reload failed: %s", task.exception())


class RuleFileError(ValueError):
    """Rule files that cannot be loaded at start."""


class ControllerDaemon:
    def __init__(
        self,
        config: ControllerConfig,
        notifier: SystemdNotifier | None = None,
        reread: Callable[[], ControllerConfig] | None = None,
    ) -> None:
        self.config = config
        self._reread = reread
        self.notifier = notifier or SystemdNotifier()
        self.core = Core(
            config.data_dir,
            require_agent_certs=not config.insecure,
            heartbeat_ttl_ms=int(config.heartbeat_ttl * 1000),
            heartbeat_interval_ms=int(config.heartbeat_interval * 1000),
            retention=Retention(
                int(config.raw_retention * 1000),
                int(config.rollup_1m_retention * 1000),
                int(config.rollup_1h_retention * 1000),
            ),
        )
        self.tls = None if config.insecure else TlsMaterial.from_dir(config.tls_dir)
        self.cert_watch = CertWatch(None if config.insecure else Path(config.tls_dir))
        self.metrics = ControllerMetrics(self.core)
        self._stop = asyncio.Event()
        self.port = 0
        self.ops_port = 0
        self.metrics_port = 0

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        cfg = self.config
        # the controller's certificate, checking each agent's name against its host id
        agents = GrpcAgentGateway(lambda h: self.core.fleet.get(h), self.tls)  # noqa: PLW0108 (fleet: made at open)
        server, health = assemble(self.core, cfg.max_message_bytes, self.metrics.push_seconds, agents)
        # agents (and a CLI holding a certificate) on `listen`, mutual TLS; the
        # CLI with only ca.pem and a token on `ops_listen` (ADR 0006)
        self.port = listen(server, cfg.listen, self.tls, require_client_cert=True)
        self.ops_port = listen(server, cfg.ops_listen, self.tls, require_client_cert=False) if cfg.ops_listen else 0
        await server.start()  # health says NOT_SERVING until the store is open
        await asyncio.to_thread(self.core.open)
        await self._start_parts(agents)
        await self._check_certs()
        if await self.core.tokens.ensure_admin_file(cfg.data_dir / "admin.token", self.core.clock_ms()):
            log.info("first start: admin token written to %s", cfg.data_dir / "admin.token")

        http_server: Any = None
        if cfg.metrics_listen:
            host, mport = split_host_port(cfg.metrics_listen)
            http_server, _ = start_http_server(mport, addr=host, registry=self.metrics.registry)
            self.metrics_port = int(http_server.server_address[1])

        scheduler = self._start_scheduler(loop)

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stop.set)
        loop.add_signal_handler(signal.SIGHUP, self.reload)
        await set_serving(health, True, ["switchman.v1.Controller", "switchman.v1.Ops"])
        log.info(
            "controller serving agents on %s:%d%s (metrics %s)",
            split_host_port(cfg.listen)[0],
            self.port,
            f", the CLI on {split_host_port(cfg.ops_listen)[0]}:{self.ops_port}" if self.ops_port else "",
            f"{split_host_port(cfg.metrics_listen)[0]}:{self.metrics_port}" if cfg.metrics_listen else "off",
        )
        if cfg.insecure:
            log.warning("--insecure: plaintext gRPC, no certificates (allowed because every address is loopback)")
        self.notifier.ready(f"serving on port {self.port}")
        await self._stop.wait()

        log.info("stopping (grace %.0fs)", cfg.shutdown_grace)
        self.notifier.stopping()
        await health.enter_graceful_shutdown()
        scheduler.shutdown(wait=False)
        await server.stop(cfg.shutdown_grace)
        if self.core.rollouts is not None:
            await self.core.rollouts.close()
        if self.core.drills is not None:
            await self.core.drills.close()
        await agents.close()
        if http_server is not None:
            http_server.shutdown()
        await asyncio.to_thread(self.core.close)
        log.info("stopped")
        return 0

    async def _start_parts(self, agents: AgentGateway) -> None:
        """Rules (state restored), notifiers, rollouts (resumed), drills (unfinished ones cleared)."""
        cfg = self.config
        self.rules = RuleManager(self.core, cfg.rule_files)
        self.core.slo = SLOEngine(self.core, cfg.slo_period, parse_duration_ms(cfg.slo_period))
        slo_errors = self._load_slos()
        if slo_errors:
            raise RuleFileError("invalid SLO files:\n  " + "\n  ".join(slo_errors))
        errors = self.rules.load()
        if errors:
            raise RuleFileError("invalid rule files:\n  " + "\n  ".join(errors))
        restored = await asyncio.to_thread(self.rules.restore, self.core.db.reader())
        self.core.rules = self.rules
        log.info("loaded %d rule group(s), restored %d alert(s)", len(self.rules.groups), restored)
        self._configure_notifiers(cfg)
        dispatcher = self.core.dispatcher
        self.core.incidents = IncidentManager(
            self.core,
            self.rules.all_alerts,
            dispatcher.muted,
            lambda event, inc: dispatcher.incident_messages(event, notification_doc(inc)),
            Policy(
                frozenset(cfg.incident_severities),
                dict(cfg.incident_priorities),
                int(cfg.escalation_interval * 1000),
                int(cfg.auto_resolve_after * 1000),
            ),
        )
        opened = await self.core.incidents.load()
        if opened:
            log.info("%d open incident(s)", opened)
        self.core.rollouts = RolloutManager(self.core, agents, self._alert_names)
        assert self.core.faults is not None
        self.core.drills = DrillRunner(self.core, self.core.faults, self.rules.alerts)
        self.core.rollouts.busy = self.core.drills.busy
        if await self.core.drills.recover():
            log.warning("cleared the faults of drills the previous run left unfinished")
        resumed = await self.core.rollouts.resume_all()
        if resumed:
            log.info("resumed %d unfinished rollout(s)", resumed)
        self.drill_files = DrillFiles(cfg.drill_files)
        errors = self.drill_files.load()
        if errors:
            raise RuleFileError("invalid drill files:\n  " + "\n  ".join(errors))

    def _load_slos(self) -> list[str]:
        """SLO files into the engine and their burn-rate alerts into the rule manager (rules.load() applies them)."""
        slos, errors = load_slo_files(expand_globs(self.config.slo_files))
        if errors:
            return errors
        assert self.core.slo is not None
        self.core.slo.configure(slos)
        self.rules.extra_groups = burn_alerts(slos, int(self.config.slo_interval * 1000))
        log.info("%d SLO(s) loaded", len(slos))
        return []

    def _start_scheduler(self, loop: asyncio.AbstractEventLoop) -> AsyncIOScheduler:
        """Every periodic job of the controller."""
        cfg = self.config
        self.core.rate.mark(self.core.ingest.samples_total)
        scheduler = AsyncIOScheduler(event_loop=loop)
        scheduler.add_job(
            self.core.fleet.tick, "interval", seconds=cfg.heartbeat_interval, id="fleet", max_instances=1, coalesce=True
        )
        scheduler.add_job(self.core.maintain, "interval", seconds=60, id="rollups", max_instances=1, coalesce=True)
        scheduler.add_job(self._check_certs, "interval", seconds=60, id="certs", max_instances=1, coalesce=True)
        scheduler.add_job(lambda: self.core.rate.mark(self.core.ingest.samples_total), "interval", seconds=5, id="rate")
        scheduler.add_job(self.core.checkpoint, "interval", seconds=2, id="checkpoint", max_instances=1, coalesce=True)
        assert self.core.slo is not None
        scheduler.add_job(
            self.core.slo.evaluate,
            "interval",
            seconds=cfg.slo_interval,
            id="slo",
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
        )
        assert self.core.incidents is not None
        scheduler.add_job(
            self.core.incidents.tick, "interval", seconds=1, id="incidents", max_instances=1, coalesce=True
        )
        scheduler.add_job(self.core.dispatcher.tick, "interval", seconds=1, id="notify", max_instances=1, coalesce=True)
        scheduler.add_job(
            self.core.outbox.deliver_due, "interval", seconds=1, id="outbox", max_instances=1, coalesce=True
        )
        self._scheduler = scheduler
        self._schedule_rules()
        self._schedule_drills()
        scheduler.start()
        if self.notifier.watchdog_interval_s:
            scheduler.add_job(
                self.notifier.watchdog, "interval", seconds=self.notifier.watchdog_interval_s, id="watchdog"
            )
        return scheduler

    async def _check_certs(self) -> None:
        """Log certificates that have expired or expire soon (the controller's and the agents')."""
        hosts = [(h.host_id, h.cert_not_after_ms) for h in self.core.fleet.hosts.values()]
        for finding in await asyncio.to_thread(self.cert_watch.check, hosts):
            log.log(finding.level, "%s", finding.message)

    def _schedule_rules(self) -> None:
        for job in self._scheduler.get_jobs():
            if job.id.startswith("rules:"):
                job.remove()
        for i, group in enumerate(self.rules.groups):
            self._scheduler.add_job(
                self.rules.evaluate_group,
                "interval",
                args=[group],
                seconds=group.interval_ms / 1000,
                id=f"rules:{i}:{group.name}",
                max_instances=1,
                coalesce=True,
                next_run_time=datetime.now(UTC),
            )

    def _alert_names(self) -> set[str]:
        return {r.name for g in self.rules.groups for r in g.rules if r.kind == "alerting"}

    def _configure_notifiers(self, cfg: ControllerConfig) -> None:
        notifiers = build_notifiers(cfg.notifiers, cfg.source)
        inhibit = parse_inhibit_rules(cfg.inhibit_rules, cfg.source)
        self.core.dispatcher.configure(notifiers, inhibit, self.core.db.reader())
        log.info("%d notifier(s), %d inhibition rule(s)", len(notifiers), len(inhibit))

    def _reload_notifiers(self, cfg: ControllerConfig) -> str:
        """Notifiers and inhibition rules from the re-read config; a bad one keeps the running ones."""
        try:
            self._configure_notifiers(cfg)
        except (ConfigError, ValueError) as exc:
            log.error("reload refused, keeping the running notifiers: %s", exc)
            return f"notifiers refused: {exc}"
        return ""

    def _reread_config(self, refused: list[str]) -> ControllerConfig | None:
        """The config file again (None, with the reason in ``refused``, when it is invalid)."""
        if self._reread is None:
            return None
        try:
            return self._reread()
        except (ConfigError, ValueError) as exc:
            log.error("reload refused, keeping the running configuration: %s", exc)
            refused.append(f"config refused: {exc}")
            return None

    def _schedule_drills(self) -> None:
        for job in self._scheduler.get_jobs():
            if job.id.startswith("drill:"):
                job.remove()
        for spec in self.drill_files.specs:
            if spec.schedule:
                self._scheduler.add_job(
                    self._scheduled_drill,
                    CronTrigger.from_crontab(spec.schedule),
                    args=[spec],
                    id=f"drill:{spec.file}:{spec.title}",
                    max_instances=1,
                    coalesce=True,
                )

    async def _scheduled_drill(self, spec: DrillSpec) -> None:
        assert self.core.drills is not None
        try:
            j = await self.core.drills.start(spec, force=False, dry_run=False, actor="schedule")
        except ControllerError as exc:
            log.warning("scheduled drill %r (%s) did not start: %s", spec.title, spec.file, exc)
            return
        log.info("scheduled drill %r started as drill %d", spec.title, j.id)

    def reload(self) -> None:
        """SIGHUP: re-read the config file (its rule, SLO and drill globs, its
        notifiers and inhibition rules; flags still win), then every rule, SLO
        and drill file those globs match now. Each part that is invalid keeps
        its running set; the outcome is audited."""
        self.notifier.reloading()
        refused: list[str] = []
        if self.core.ready:
            cfg = self._reread_config(refused)
            if cfg is not None:
                refused.append(self._reload_notifiers(cfg))
                self.config = replace(
                    self.config, rule_files=cfg.rule_files, slo_files=cfg.slo_files, drill_files=cfg.drill_files
                )
        if self.core.ready and hasattr(self, "rules"):
            self.rules.patterns = list(self.config.rule_files)
            self.drill_files.patterns = list(self.config.drill_files)
            slo_errors = self._load_slos()
            if slo_errors:
                refused.append("SLOs refused: " + "; ".join(slo_errors))
                log.error("reload refused, keeping the running SLOs:\n  %s", "\n  ".join(slo_errors))
            errors = self.rules.load()
            if errors:
                refused.append("rules refused: " + "; ".join(errors))
                log.error("reload refused, keeping the running rules:\n  %s", "\n  ".join(errors))
            else:
                self._schedule_rules()
                log.info("reloaded %d rule group(s) from %s", len(self.rules.groups), self.config.source)
            drill_errors = self.drill_files.load()
            if drill_errors:
                refused.append("drills refused: " + "; ".join(drill_errors))
                log.error("reload refused, keeping the running drill files:\n  %s", "\n  ".join(drill_errors))
            else:
                self._schedule_drills()
        if self.core.ready:
            parts = [r for r in refused if r]
            result = ("refused: " + "; ".join(parts))[:900] if parts else "ok"
            task = asyncio.ensure_future(
                self.core.audit.append(
                    self.core.clock_ms(), "signal:SIGHUP", "ReloadConfig", self.config.source, "{}", result
                )
            )
            task.add_done_callback(_log_failure)
        self.notifier.ready()
