"""The controller's lifecycle: store, servers, scheduler, signals."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from grpc_health.v1._async import HealthServicer
from prometheus_client import Histogram, start_http_server
from switchman.controller.chaos.spec import DrillSpec
from switchman.controller.config import ControllerConfig
from switchman.controller.errors import ControllerError
from switchman.controller.http.server import HttpServer
from switchman.controller.metrics import ControllerMetrics, own_samples
from switchman.controller.rpc_base import audit_call
from switchman.controller.security.auth import AuthInterceptor
from switchman.controller.security.certs import CertWatch
from switchman.controller.server import ControllerServicer, OpsServicer
from switchman.controller.store.abc import StoreFull
from switchman.controller.wiring import Controller, ControllerRef, StartupError, build
from switchman.proto.channel import (
    TlsMaterial,
    add_health,
    create_server,
    listen,
    set_serving,
    split_host_port,
)
from switchman.proto.daemon import SystemdNotifier
from switchman.proto.settings import ConfigError
from switchman.proto.v1 import controller_pb2_grpc, ops_pb2_grpc

log = logging.getLogger(__name__)
OWN_INTERVAL_S = 15

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
    ref: ControllerRef, max_message_bytes: int, push_seconds: Histogram | None = None
) -> tuple[Any, HealthServicer]:
    """The gRPC server with every service the controller serves (not yet
    bound). Calls made before ``ref`` holds the controller are refused."""
    server = create_server(
        max_message_bytes=max_message_bytes,
        interceptors=[
            AuthInterceptor(
                lambda: ref.get().tokens if ref.ready else None,
                lambda method, request, message: audit_call(ref.get(), method, request, f"denied: {message}"),
            )
        ],
    )
    health = add_health(server)
    servicer = ControllerServicer(ref)
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
    ops_pb2_grpc.add_OpsServicer_to_server(OpsServicer(ref, FEATURES), server)
    return server, health


def _log_failure(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("audit of the reload failed: %s", task.exception())


RuleFileError = StartupError  # what main() catches: an invalid rule, SLO or drill file at start


class ControllerDaemon:
    """Lifecycle only: servers first (NOT_SERVING), then :func:`~switchman.controller.wiring.build`,
    then the scheduler and signals; on SIGTERM the reverse."""

    def __init__(
        self,
        config: ControllerConfig,
        notifier: SystemdNotifier | None = None,
        reread: Callable[[], ControllerConfig] | None = None,
    ) -> None:
        self.config = config
        self._reread = reread
        self.notifier = notifier or SystemdNotifier()
        self.ref = ControllerRef()
        self.tls = None if config.insecure else TlsMaterial.from_dir(config.tls_dir)
        self.cert_watch = CertWatch(None if config.insecure else Path(config.tls_dir))
        self.metrics = ControllerMetrics(self.ref)
        self._stop = asyncio.Event()
        self.port = 0
        self.ops_port = 0
        self.metrics_port = 0
        self.http_port = 0
        self._scheduler: AsyncIOScheduler | None = None
        self._reload_pending = False  # a SIGHUP that came before the controller was running

    @property
    def c(self) -> Controller:
        return self.ref.get()

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        cfg = self.config
        # first of all: a signal that comes while the store opens must not kill the process
        # (SIGHUP's default action); a reload before the controller runs waits until it does
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stop.set)
        loop.add_signal_handler(signal.SIGHUP, self.reload)
        server, health = assemble(self.ref, cfg.max_message_bytes, self.metrics.push_seconds)
        # agents (and a CLI holding a certificate) on `listen`, mutual TLS; the
        # CLI with only ca.pem and a token on `ops_listen` (ADR 0006)
        self.port = listen(server, cfg.listen, self.tls, require_client_cert=True)
        self.ops_port = listen(server, cfg.ops_listen, self.tls, require_client_cert=False) if cfg.ops_listen else 0
        await server.start()  # health says NOT_SERVING until the store is open
        try:
            # the controller's certificate, checking each agent's name against its host id
            self.ref.set(await build(cfg, tls=self.tls))
        except BaseException:
            await server.stop(0)
            raise
        c = self.c
        await self._start_remote_write(server, c)
        await self._check_certs()
        # the HTTP API listens before the admin token appears: whoever waits for the token can call it
        http = HttpServer(self.ref, cfg.http_listen, None if cfg.insecure else cfg.tls_dir, cfg.data_dir, FEATURES)
        if cfg.http_listen:
            try:
                self.http_port = await http.start()
            except OSError as exc:  # a port in use: one line, and nothing left half-started
                await server.stop(0)
                await c.close()
                raise OSError(f"http_listen {cfg.http_listen}: {exc.strerror or exc}") from None
        if await c.tokens.ensure_admin_file(cfg.data_dir / "admin.token", c.clock_ms()):
            log.info("first start: admin token written to %s", cfg.data_dir / "admin.token")

        http_server: Any = None
        if cfg.metrics_listen:
            host, mport = split_host_port(cfg.metrics_listen)
            http_server, _ = start_http_server(mport, addr=host, registry=self.metrics.registry)
            self.metrics_port = int(http_server.server_address[1])

        scheduler = self._start_scheduler(loop)

        await set_serving(health, True, ["switchman.v1.Controller", "switchman.v1.Ops"])
        log.info(
            "controller serving agents on %s:%d%s (metrics %s, HTTP API %s)",
            split_host_port(cfg.listen)[0],
            self.port,
            f", the CLI on {split_host_port(cfg.ops_listen)[0]}:{self.ops_port}" if self.ops_port else "",
            f"{split_host_port(cfg.metrics_listen)[0]}:{self.metrics_port}" if cfg.metrics_listen else "off",
            f"{split_host_port(cfg.http_listen)[0]}:{self.http_port}" if cfg.http_listen else "off",
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
        await http.stop()
        if http_server is not None:
            http_server.shutdown()
        await self._save_token_uses()
        await c.close()
        log.info("stopped")
        return 0

    @staticmethod
    async def _start_remote_write(server: Any, c: Controller) -> None:
        """One task per remote-write endpoint (ingest never waits on a receiver). A TLS
        file that cannot be read stops the start: one line, and nothing left half-started."""
        try:
            await c.remote_write.start()
        except OSError:
            await server.stop(0)
            await c.close()
            raise

    async def _record_own(self) -> None:
        """The controller's own metrics into its store, as a Prometheus scraping it would."""
        c = self.c
        now = c.clock_ms()
        samples = own_samples(self.metrics.registry, self.config.listen, now)
        with contextlib.suppress(StoreFull):  # the writer logged the full disk; the endpoint still serves these
            await c.storage.write(lambda tx: c.storage.samples.add(tx, samples, now))

    def _start_scheduler(self, loop: asyncio.AbstractEventLoop) -> AsyncIOScheduler:
        """Every periodic job of the controller."""
        cfg, c = self.config, self.c
        c.rate.mark(c.ingest.samples_total)
        scheduler = AsyncIOScheduler(event_loop=loop)
        every = {"max_instances": 1, "coalesce": True}
        scheduler.add_job(c.fleet.tick, "interval", seconds=cfg.heartbeat_interval, id="fleet", **every)
        scheduler.add_job(c.maintain, "interval", seconds=60, id="rollups", **every)
        scheduler.add_job(self._check_certs, "interval", seconds=60, id="certs", **every)
        scheduler.add_job(lambda: c.rate.mark(c.ingest.samples_total), "interval", seconds=5, id="rate")
        scheduler.add_job(c.checkpoint, "interval", seconds=2, id="checkpoint", **every)
        scheduler.add_job(
            c.slo.evaluate, "interval", seconds=cfg.slo_interval, id="slo", next_run_time=datetime.now(UTC), **every
        )
        scheduler.add_job(c.incidents.tick, "interval", seconds=1, id="incidents", **every)
        scheduler.add_job(c.dispatcher.tick, "interval", seconds=1, id="notify", **every)
        scheduler.add_job(c.outbox.deliver_due, "interval", seconds=1, id="outbox", **every)
        scheduler.add_job(self._save_token_uses, "interval", seconds=60, id="token-uses", **every)
        scheduler.add_job(
            self._record_own,
            "interval",
            seconds=OWN_INTERVAL_S,
            id="own-metrics",
            next_run_time=datetime.now(UTC) + timedelta(seconds=1),
            **every,
        )
        self._scheduler = scheduler
        self._schedule_rules()
        self._schedule_drills()
        scheduler.start()
        if self.notifier.watchdog_interval_s:
            scheduler.add_job(
                self.notifier.watchdog, "interval", seconds=self.notifier.watchdog_interval_s, id="watchdog"
            )
        if self._reload_pending:  # a SIGHUP while starting: the files are read again now
            self._reload_pending = False
            self.reload()
        return scheduler

    async def _save_token_uses(self) -> None:
        with contextlib.suppress(StoreFull):  # kept in memory for the next save
            await self.c.tokens.save_last_used()

    async def _check_certs(self) -> None:
        """Log certificates that have expired or expire soon (the controller's and the agents')."""
        hosts = [(h.host_id, h.cert_not_after_ms) for h in self.c.fleet.hosts.values()]
        for finding in await asyncio.to_thread(self.cert_watch.check, hosts):
            log.log(finding.level, "%s", finding.message)

    def _schedule_rules(self) -> None:
        scheduler = self._scheduler
        if scheduler is None:
            return
        for job in scheduler.get_jobs():
            if job.id.startswith("rules:"):
                job.remove()
        for i, group in enumerate(self.c.rules.groups):
            scheduler.add_job(
                self.c.rules.evaluate_group,
                "interval",
                args=[group],
                seconds=group.interval_ms / 1000,
                id=f"rules:{i}:{group.name}",
                max_instances=1,
                coalesce=True,
                next_run_time=datetime.now(UTC),
            )

    def _reload_notifiers(self, cfg: ControllerConfig) -> str:
        """Notifiers and inhibition rules from the re-read config; a bad one keeps the running ones."""
        try:
            self.c.configure_notifiers(cfg)
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
        scheduler = self._scheduler
        if scheduler is None:
            return
        for job in scheduler.get_jobs():
            if job.id.startswith("drill:"):
                job.remove()
        for spec in self.c.drill_files.specs:
            if spec.schedule:
                scheduler.add_job(
                    self._scheduled_drill,
                    CronTrigger.from_crontab(spec.schedule),
                    args=[spec],
                    id=f"drill:{spec.file}:{spec.title}",
                    max_instances=1,
                    coalesce=True,
                )

    async def _scheduled_drill(self, spec: DrillSpec) -> None:
        try:
            j = await self.c.drills.start(spec, force=False, dry_run=False, actor="schedule")
        except ControllerError as exc:
            log.warning("scheduled drill %r (%s) did not start: %s", spec.title, spec.file, exc)
            return
        log.info("scheduled drill %r started as drill %d", spec.title, j.id)

    def reload(self) -> None:
        """SIGHUP: re-read the config file (its rule, SLO and drill globs, its
        notifiers and inhibition rules; flags still win), then every rule, SLO
        and drill file those globs match now. Each part that is invalid keeps
        its running set; the outcome is audited."""
        if self._scheduler is None:  # still starting: the files may have changed after they were read
            self._reload_pending = True
            return
        self.notifier.reloading()
        self._reload(self.c)
        self.notifier.ready()

    def _reload(self, c: Controller) -> None:
        refused: list[str] = []
        cfg = self._reread_config(refused)
        if cfg is not None:
            refused.append(self._reload_notifiers(cfg))
            self.config = replace(
                self.config, rule_files=cfg.rule_files, slo_files=cfg.slo_files, drill_files=cfg.drill_files
            )
        c.rules.patterns = list(self.config.rule_files)
        c.drill_files.patterns = list(self.config.drill_files)
        slo_errors = c.load_slos(list(self.config.slo_files))
        if slo_errors:
            refused.append("SLOs refused: " + "; ".join(slo_errors))
            log.error("reload refused, keeping the running SLOs:\n  %s", "\n  ".join(slo_errors))
        errors = c.rules.load()
        if errors:
            refused.append("rules refused: " + "; ".join(errors))
            log.error("reload refused, keeping the running rules:\n  %s", "\n  ".join(errors))
        else:
            self._schedule_rules()
            log.info("reloaded %d rule group(s) from %s", len(c.rules.groups), self.config.source)
        drill_errors = c.drill_files.load()
        if drill_errors:
            refused.append("drills refused: " + "; ".join(drill_errors))
            log.error("reload refused, keeping the running drill files:\n  %s", "\n  ".join(drill_errors))
        else:
            self._schedule_drills()
        parts = [r for r in refused if r]
        result = ("refused: " + "; ".join(parts))[:900] if parts else "ok"
        task = asyncio.ensure_future(
            c.audit.append(c.clock_ms(), "signal:SIGHUP", "ReloadConfig", self.config.source, "{}", result)
        )
        task.add_done_callback(_log_failure)
