"""The agent's lifecycle: builds its parts from the config, runs the loops,
reloads on SIGHUP, stops in order. The parts know nothing of it: the Agent
servicer is handed them (:func:`switchman.agent.server.create_server`), the
collectors what they read."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import grpc
from grpc_health.v1._async import HealthServicer
from switchman.agent import __version__
from switchman.agent import config as config_mod
from switchman.agent.collect import Family
from switchman.agent.collect.agent_self import AgentSelfCollector, CycleStats
from switchman.agent.collect.exposition import MetricsServer
from switchman.agent.collect.readings import Readings
from switchman.agent.collect.services import ServiceSlotCollector
from switchman.agent.faults.ledger import Ledger
from switchman.agent.faults.manager import FaultManager
from switchman.agent.linkdiag import LinkDiagnosis
from switchman.agent.probes.runner import ProbeRunner
from switchman.agent.push import ControllerLink, Identity, LinkStats, controller_serving
from switchman.agent.scrape.manager import ScrapeManager
from switchman.agent.scrape.slots import slot_targets
from switchman.agent.scrape.targets import parse_scrapes
from switchman.agent.server import AgentInfoSource, AgentParts, create_server
from switchman.agent.services.drivers.process import ProcessDriver
from switchman.agent.services.drivers.registry import Drivers
from switchman.agent.services.manager import ServiceManager
from switchman.agent.services.reaper import Reaper
from switchman.agent.services.state import StateStore
from switchman.agent.spool import Spool, SpoolStats
from switchman.agent.telemetry import BLACKBOX_JOB, StaleTracker, make_batches, target_labels
from switchman.agent.telemetry_buffer import TelemetryBuffer
from switchman.proto.channel import (
    CONTROLLER_IDENTITY,
    TlsMaterial,
    create_channel,
    listen,
    set_serving,
    split_host_port,
)
from switchman.proto.daemon import SystemdNotifier
from switchman.proto.probes import ProbeError, ProbeSpec, parse_probe
from switchman.proto.settings import ConfigError

log = logging.getLogger(__name__)

CONFIGURED_PROBE = "probe:"  # the key prefix of the config's probes (a service's are SERVICE:SLOT)


def configured_probes(config: config_mod.AgentConfig) -> list[ProbeSpec]:
    """The ``[[probe]]`` tables of the config, parsed. :raises ProbeError:"""
    return [parse_probe(table, f"{config.source}: probe #{i + 1}") for i, table in enumerate(config.probes)]


class AgentDaemon:
    def __init__(
        self,
        config: config_mod.AgentConfig,
        *,
        reload_config: Callable[[], config_mod.AgentConfig] | None = None,
        notifier: SystemdNotifier | None = None,
    ) -> None:
        c = self.config = config
        self._reload_config = reload_config
        self.notifier = notifier or SystemdNotifier()
        self.started_at_ms = int(time.time() * 1000)
        self.spool = Spool(c.data_dir / "spool.db", c.spool_max_bytes)
        self.tls = None if c.insecure else TlsMaterial.from_dir(c.tls_dir)
        self.link_diagnosis = LinkDiagnosis(c.controller, None if c.insecure else Path(c.tls_dir), host_id=c.host_id)
        self.link_stats = LinkStats()
        self._channel: grpc.aio.Channel | None = None
        self.link: ControllerLink  # made in run(): grpc.aio objects belong to the running loop
        # target labels as Prometheus sets them: the collector's job (node) and the probes' (blackbox)
        self.target = target_labels(c.host_id, c.job)
        self.stale = StaleTracker()
        self.scrapes = ScrapeManager(f"switchman-agent/{__version__}")
        self.configured_scrapes = parse_scrapes(c.scrapes, c.source, c.interval)
        self.buffer = TelemetryBuffer(target=target_labels(c.host_id, BLACKBOX_JOB))
        self.probes = ProbeRunner(self.buffer)
        self._store = StateStore(c.data_dir / "services.db")
        self.drivers = Drivers(ProcessDriver(c.data_dir / "logs", self._slot_event))
        self.services = ServiceManager(
            self._store, self.drivers, c.service_address, self.buffer, self.probes, c.data_dir / "routers"
        )
        self.reaper = Reaper(self.services, self.buffer)
        self.faults = FaultManager(
            Ledger(c.data_dir / "faults.db"),
            self.services,
            self._set_partition,
            self.buffer,
            c.data_dir,
            int(c.max_fault_duration * 1000),
        )
        self.cycles = CycleStats()
        own = AgentSelfCollector(self.spool.stats, self.link_stats, self.cycles, lambda: len(self.probes.keys()))
        self.readings = Readings([own, ServiceSlotCollector(self.services)], self.cycles)
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.port = 0
        self.metrics_port = 0

    # what the parts are handed ------------------------------------------------
    def identity(self) -> Identity:
        c = self.config
        return Identity(
            host_id=c.host_id,
            hostname=socket.gethostname(),
            labels=dict(c.labels),
            advertise=self._advertise(),
            version=__version__,
            capabilities=["metrics", "spool", "services", "faults"],
            metrics_address=self._metrics_address(),
            job=c.job,
        )

    def _advertise(self) -> str:
        c = self.config
        return c.advertise if not c.advertise.endswith(":0") else f"{split_host_port(c.advertise)[0]}:{self.port}"

    def _metrics_address(self) -> str:
        """Where a Prometheus reaches ``/metrics``: the listen host, or the advertised one for a wildcard."""
        if not self.metrics_port:
            return ""
        host = split_host_port(self.config.metrics_listen)[0]
        if host in ("0.0.0.0", "::", ""):
            host = split_host_port(self._advertise())[0]
        return f"{host}:{self.metrics_port}"

    async def spool_stats(self) -> SpoolStats:
        return await asyncio.to_thread(self.spool.stats)

    async def read_now(self) -> list[Family]:
        """What ``/metrics`` serves now."""
        return await self.readings.read_now()

    def parts(self) -> AgentParts:
        info = AgentInfoSource(
            self.identity, self.config.controller, self.started_at_ms, self.link_stats, self.spool_stats, self.read_now
        )
        return AgentParts(self.services, self.faults, self.probes, info)

    def _slot_event(self, service: str, kind: str, message: str) -> None:
        self.buffer.event(kind, message, service=service, severity="warning")

    def _set_partition(self, on: bool) -> None:
        """The partition fault: no push, no heartbeat (the Agent service still answers, so halt works)."""
        self.link.partitioned = on
        if not on:
            self.link.wake()

    # loops -----------------------------------------------------------------
    async def _collect_loop(self) -> None:
        interval = self.config.interval
        next_at = time.monotonic()
        while not self._stop.is_set():
            try:
                await self.drivers.refresh()
                for router in list(self.services.routers.values()):
                    await router.refresh()
                self.scrapes.sync(
                    [*self.configured_scrapes, *slot_targets(self.services, self.config.service_address, interval)]
                )
                families = await asyncio.to_thread(self.readings.for_push)
                now_ms = int(time.time() * 1000)
                extra, events = self.buffer.drain()
                extra += self.scrapes.drain()
                for batch in make_batches(
                    families, events, now_ms, self.config.batch_max_samples, extra, self.target, self.stale
                ):
                    await asyncio.to_thread(self.spool.append, batch, now_ms)
                self.link.wake()
            except Exception:
                log.exception("collection cycle failed; trying again next interval")
            next_at += interval
            delay = next_at - time.monotonic()
            if delay < 0:  # fell behind (suspended, overloaded): skip, never burst
                next_at = time.monotonic() + interval
                delay = interval
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=delay)

    async def _watchdog_loop(self, every: float) -> None:
        while not self._stop.is_set():
            self.notifier.watchdog()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=every)

    # reload ----------------------------------------------------------------
    def reload(self) -> None:
        """SIGHUP: re-read the file; apply labels, probes and scrapes; keep the old
        config when the new one is invalid."""
        if self._reload_config is None:
            return
        self.notifier.reloading()
        try:
            new = self._reload_config()
            probes = configured_probes(new)
            scrapes = parse_scrapes(new.scrapes, new.source, self.config.interval)
        except (ConfigError, ProbeError) as exc:
            log.error("reload refused, keeping the running configuration: %s", exc)
        else:
            changed = new.labels != self.config.labels
            self.config = replace(self.config, labels=new.labels, probes=new.probes, scrapes=new.scrapes)
            self.probes.replace(CONFIGURED_PROBE, probes)
            self.configured_scrapes = scrapes  # the next cycle starts and stops scrape loops
            log.info("configuration reloaded (labels %s)", "changed" if changed else "unchanged")
            if changed:
                self.link.resync()
        self.notifier.ready()

    # run ------------------------------------------------------------------
    async def _start_parts(self) -> None:
        """Probes, services (adopting what runs), then faults (reverting what a crash left)."""
        self.probes.replace(CONFIGURED_PROBE, configured_probes(self.config))
        await self.services.reconcile()
        recovered = await self.faults.recover()
        if recovered:
            log.warning("reverted %d fault(s) left applied by the previous run", recovered)

    async def _open_link(self) -> None:
        # the breaker paces the calls: the channel's own backoff must not hold back a retry
        self._channel = create_channel(
            self.config.controller, self.tls, server_name=CONTROLLER_IDENTITY, max_reconnect_backoff_ms=1000
        )
        self.link = ControllerLink(
            self._channel,
            self.spool,
            self.identity,
            push_timeout=self.config.push_timeout,
            backoff_cap=self.config.backoff_cap,
            explain=self.link_diagnosis.explain,
            serving=functools.partial(controller_serving, self._channel),
            stats=self.link_stats,
            registered=self.reaper.registered,
        )
        for finding in await asyncio.to_thread(self.link_diagnosis.check_certificates):
            log.log(finding.level, "%s", finding.message)

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        # few blocking jobs (collect, spool, scrape) run at once; each idle worker thread costs memory
        loop.set_default_executor(ThreadPoolExecutor(max_workers=3, thread_name_prefix="agent-io"))
        await self._open_link()
        server, health = create_server(self.parts(), self.tls)
        self.port = listen(server, self.config.listen, self.tls, require_client_cert=True)
        await server.start()
        metrics = MetricsServer(self.read_now)
        if self.config.metrics_listen:
            host, mport = split_host_port(self.config.metrics_listen)
            self.metrics_port = await metrics.start(host, mport)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stop.set)
        loop.add_signal_handler(signal.SIGHUP, self.reload)
        await self._start_parts()
        self.link.start()
        self._tasks.append(asyncio.create_task(self._collect_loop(), name="collect"))
        if self.notifier.watchdog_interval_s:
            self._tasks.append(asyncio.create_task(self._watchdog_loop(self.notifier.watchdog_interval_s)))
        await set_serving(health, True, ["switchman.v1.Agent"])
        log.info(
            "agent %s serving on %s (metrics %s), controller %s",
            self.config.host_id,
            f"{split_host_port(self.config.listen)[0]}:{self.port}",
            self.config.metrics_listen or "off",
            self.config.controller,
        )
        if self.tls is None:
            log.warning("--insecure: plaintext gRPC, no certificates (allowed because every address is loopback)")
        self.notifier.ready(f"serving on port {self.port}")
        await self._stop.wait()
        return await self._shutdown(server, health, metrics)

    async def _shutdown(self, server: grpc.aio.Server, health: HealthServicer, metrics: MetricsServer) -> int:
        log.info("stopping: finishing in-flight work (grace %.0fs)", self.config.shutdown_grace)
        self.notifier.stopping()
        await health.enter_graceful_shutdown()
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await server.stop(self.config.shutdown_grace / 2)
        await self.probes.stop()
        await self.scrapes.close()
        await self.faults.close()
        await self.reaper.close()
        await self.services.close()  # slots keep running; the next start adopts them
        self._store.close()
        flushed = await self.link.flush(self.config.shutdown_grace / 2)
        await self.link.stop()
        if self._channel is not None:
            await self._channel.close(None)
        await metrics.stop()
        stats = self.spool.stats()
        self.spool.close()
        log.info("stopped (spool %s, %d batches kept)", "flushed" if flushed else "kept for replay", stats.batches)
        return 0
