"""The agent's lifecycle: wires collector, spool, link, servers; owns every task."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import grpc
import psutil
from switchman.agent import __version__
from switchman.agent import config as config_mod
from switchman.agent.collect import Family, HostCollector
from switchman.agent.collect.exposition import MetricsServer
from switchman.agent.faults.ledger import Ledger
from switchman.agent.faults.manager import FaultManager
from switchman.agent.linkdiag import LinkDiagnosis
from switchman.agent.probes.runner import ProbeRunner
from switchman.agent.push import ControllerLink, Identity
from switchman.agent.server import AgentServicer
from switchman.agent.services.drivers.base import Driver
from switchman.agent.services.drivers.container import ContainerDriver
from switchman.agent.services.drivers.process import ProcessDriver
from switchman.agent.services.errors import InvalidService
from switchman.agent.services.manager import ServiceManager
from switchman.agent.services.state import StateStore
from switchman.agent.spool import Spool, SpoolStats
from switchman.agent.telemetry import make_batches
from switchman.agent.telemetry_buffer import TelemetryBuffer
from switchman.proto.channel import (
    CONTROLLER_IDENTITY,
    TlsMaterial,
    add_health,
    create_channel,
    create_server,
    listen,
    set_serving,
    split_host_port,
)
from switchman.proto.daemon import SystemdNotifier
from switchman.proto.interceptors import RequirePeer
from switchman.proto.probes import ProbeError, parse_probe
from switchman.proto.settings import ConfigError
from switchman.proto.v1 import agent_pb2_grpc

log = logging.getLogger(__name__)


async def port_accepts(host: str, port: int, timeout: float = 0.5) -> bool:
    """Whether ``host:port`` accepts a TCP connection (closed again at once)."""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


class AgentDaemon:
    def __init__(
        self,
        config: config_mod.AgentConfig,
        *,
        reload_config: Callable[[], config_mod.AgentConfig] | None = None,
        notifier: SystemdNotifier | None = None,
    ) -> None:
        self.config = config
        self._reload_config = reload_config
        self.notifier = notifier or SystemdNotifier()
        self.started_at_ms = int(time.time() * 1000)
        self.spool = Spool(config.data_dir / "spool.db", config.spool_max_bytes)
        self.tls = None if config.insecure else TlsMaterial.from_dir(config.tls_dir)
        self.link_diagnosis = LinkDiagnosis(
            config.controller, None if config.insecure else Path(config.tls_dir), host_id=config.host_id
        )
        self._channel: grpc.aio.Channel | None = None
        self.link: ControllerLink  # made in run(): grpc.aio objects belong to the running loop
        self._push_collector = HostCollector(extra=self._own_families)
        self._scrape_collector = HostCollector(extra=self._own_families)
        self._scrape_lock = threading.Lock()
        self._me = psutil.Process()
        self.cycles = 0
        self.collect_cpu_total = 0.0
        self.collect_cpu_last = 0.0
        self.buffer = TelemetryBuffer()
        self.probes: ProbeRunner  # made in run(): they own tasks on the running loop
        self.services: ServiceManager
        self._store = StateStore(config.data_dir / "services.db")
        self._process_driver = ProcessDriver(config.data_dir / "logs", self._slot_event)
        self._containers: dict[str, ContainerDriver] = {}
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.port = 0
        self.metrics_port = 0

    # identity and readings -----------------------------------------------------
    def identity(self) -> Identity:
        c = self.config
        return Identity(
            host_id=c.host_id,
            hostname=socket.gethostname(),
            labels=dict(c.labels),
            advertise=c.advertise
            if not c.advertise.endswith(":0")
            else f"{split_host_port(c.advertise)[0]}:{self.port}",
            version=__version__,
            capabilities=["metrics", "spool", "services", "faults"],
        )

    async def spool_stats(self) -> SpoolStats:
        return await asyncio.to_thread(self.spool.stats)

    def _own_families(self) -> list[Family]:
        st = self.spool.stats()
        out = []
        for name, kind, text, value in (
            ("switchman_agent_spool_batches", "gauge", "Batches waiting in the spool.", st.batches),
            ("switchman_agent_spool_samples", "gauge", "Samples waiting in the spool.", st.samples),
            ("switchman_agent_spool_bytes", "gauge", "Bytes used by the spool database.", st.bytes),
            (
                "switchman_agent_spool_dropped_total",
                "counter",
                "Samples dropped because the spool was full.",
                st.dropped_samples,
            ),
            ("switchman_agent_collect_cycles_total", "counter", "Collection cycles run.", self.cycles),
            (
                "switchman_agent_collect_cpu_seconds_total",
                "counter",
                "CPU seconds spent collecting.",
                self.collect_cpu_total,
            ),
            (
                "switchman_agent_controller_connected",
                "gauge",
                "1 when the last call to the controller succeeded.",
                int(self.link.stats.connected),
            ),
            ("switchman_agent_pushes_total", "counter", "Successful PushTelemetry calls.", self.link.stats.pushes_ok),
            (
                "switchman_agent_probes",
                "gauge",
                "Probes running.",
                len(self.probes.keys()) if hasattr(self, "probes") else 0,
            ),
            (
                "switchman_agent_push_failures_total",
                "counter",
                "Failed calls to the controller.",
                self.link.stats.pushes_failed,
            ),
        ):
            f = Family(name, kind, text)
            f.add(value)
            out.append(f)
        me = self._me
        with me.oneshot():
            t = me.cpu_times()
            for name, kind, text, value in (
                (
                    "process_cpu_seconds_total",
                    "counter",
                    "Agent CPU time (user and system) in seconds.",
                    t.user + t.system,
                ),
                ("process_resident_memory_bytes", "gauge", "Agent resident memory in bytes.", me.memory_info().rss),
                ("process_open_fds", "gauge", "Agent open file descriptors.", me.num_fds()),
                ("process_start_time_seconds", "gauge", "Agent start time, Unix seconds.", me.create_time()),
            ):
                f = Family(name, kind, text)
                f.add(value)
                out.append(f)
        info = Family("switchman_agent_build_info", "gauge", "Agent version.")
        info.add(1, ("version", __version__))
        out.append(info)
        out.extend(self._service_families())
        return out

    def _slot_event(self, service: str, kind: str, message: str) -> None:
        self.buffer.event(kind, message, service=service, severity="warning")

    def _driver(self, kind: str) -> Driver:
        if kind == "process":
            return self._process_driver
        if kind in ("docker", "podman"):
            return self._containers.setdefault(kind, ContainerDriver(kind))
        raise InvalidService(f"driver {kind!r} is not available on this agent")

    def _service_families(self) -> list[Family]:
        if not hasattr(self, "services"):
            return []
        fams = {
            "up": Family("switchman_service_slot_up", "gauge", "1 when the slot's process runs."),
            "active": Family("switchman_service_slot_active", "gauge", "1 for the slot that gets the traffic."),
            "rss": Family("switchman_service_slot_resident_memory_bytes", "gauge", "Resident memory of the slot."),
            "cpu": Family("switchman_service_slot_cpu_seconds_total", "counter", "CPU time of the slot."),
            "fds": Family("switchman_service_slot_open_fds", "gauge", "Open file descriptors of the slot."),
            "restarts": Family(
                "switchman_service_slot_restarts_total", "counter", "Restarts of the slot after it died."
            ),
            "conns": Family(
                "switchman_service_slot_connections", "gauge", "Connections the router holds open to the slot."
            ),
        }
        for rec in self._store.services():
            for slot in ("blue", "green"):
                proc, _, version = self.services.slot_status(rec.name, slot)
                if not version and not proc.running:
                    continue
                labels = (("service", rec.name), ("slot", slot), ("version", version))
                fams["up"].add(1.0 if proc.running else 0.0, *labels)
                fams["active"].add(1.0 if rec.active_slot == slot else 0.0, *labels)
                fams["rss"].add(proc.rss_bytes, *labels)
                fams["cpu"].add(proc.cpu_seconds, *labels)
                fams["fds"].add(proc.open_fds, *labels)
                fams["restarts"].add(proc.restarts, *labels)
                router = self.services.routers.get(rec.name)
                fams["conns"].add(router.connections(slot) if router else 0, *labels)
        return list(fams.values())

    def _collect_for_push(self) -> list[Family]:
        t0 = time.thread_time()
        fams = self._push_collector.collect()
        spent = time.thread_time() - t0
        self.cycles += 1
        self.collect_cpu_last = spent
        self.collect_cpu_total += spent
        return fams

    def _collect_for_scrape(self) -> list[Family]:
        with self._scrape_lock:
            return self._scrape_collector.collect()

    async def read_now(self) -> list[Family]:
        return await asyncio.to_thread(self._collect_for_scrape)

    # loops -----------------------------------------------------------------
    async def _collect_loop(self) -> None:
        interval = self.config.interval
        next_at = time.monotonic()
        while not self._stop.is_set():
            try:
                for containers in self._containers.values():
                    await containers.refresh()
                for router in list(self.services.routers.values()):
                    await router.refresh()
                families = await asyncio.to_thread(self._collect_for_push)
                now_ms = int(time.time() * 1000)
                extra, events = self.buffer.drain()
                for batch in make_batches(families, events, now_ms, self.config.batch_max_samples, extra):
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

    def _start_configured_probes(self) -> None:
        for key in [k for k in self.probes.keys() if k.startswith("probe:")]:  # noqa: SIM118 (a method, not a dict)
            self.probes.remove(key)
        for i, table in enumerate(self.config.probes):
            spec = parse_probe(table, f"{self.config.source}: probe #{i + 1}")
            self.probes.add(f"probe:{spec.name}", spec)

    # reload ----------------------------------------------------------------
    def reload(self) -> None:
        """SIGHUP: re-read the file; apply labels (and probes); keep the old
        config when the new one is invalid."""
        if self._reload_config is None:
            return
        self.notifier.reloading()
        try:
            new = self._reload_config()
        except ConfigError as exc:
            log.error("reload refused, keeping the running configuration: %s", exc)
        else:
            changed = new.labels != self.config.labels
            try:
                for i, table in enumerate(new.probes):
                    parse_probe(table, f"{new.source}: probe #{i + 1}")
            except ProbeError as exc:
                log.error("reload refused, keeping the running configuration: %s", exc)
                self.notifier.ready()
                return
            self.config = replace(self.config, labels=new.labels, probes=new.probes)
            self._start_configured_probes()
            log.info("configuration reloaded (labels %s)", "changed" if changed else "unchanged")
            if changed:
                self.link.resync()
        self.notifier.ready()

    # run ------------------------------------------------------------------
    async def _start_services(self) -> None:
        """Probes, services (adopting what runs), then faults (reverting what a crash left)."""
        self.probes = ProbeRunner(self.buffer)
        self._start_configured_probes()
        self.services = ServiceManager(
            self._store,
            self._driver,
            self.config.service_address,
            self.buffer,
            self.probes,
            self.config.data_dir / "routers",
        )
        await self.services.reconcile()
        self.faults = FaultManager(
            Ledger(self.config.data_dir / "faults.db"),
            self.services,
            self._set_partition,
            self.buffer,
            self.config.data_dir,
            int(self.config.max_fault_duration * 1000),
        )
        recovered = await self.faults.recover()
        if recovered:
            log.warning("reverted %d fault(s) left applied by the previous run", recovered)

    def _set_partition(self, on: bool) -> None:
        """The partition fault: no push, no heartbeat (the Agent service still answers, so halt works)."""
        self.link.partitioned = on
        if not on:
            self.link.wake()

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        # few blocking jobs (collect, spool, scrape) run at once; each idle worker thread costs memory
        loop.set_default_executor(ThreadPoolExecutor(max_workers=3, thread_name_prefix="agent-io"))
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
            port_open=functools.partial(port_accepts, *split_host_port(self.config.controller)),
        )
        for finding in await asyncio.to_thread(self.link_diagnosis.check_certificates):
            log.log(finding.level, "%s", finding.message)
        # only the controller's certificate may call the Agent service (mTLS)
        server = create_server(
            interceptors=[] if self.tls is None else [RequirePeer("/switchman.v1.Agent/", {CONTROLLER_IDENTITY})]
        )
        health = add_health(server)
        agent_pb2_grpc.add_AgentServicer_to_server(AgentServicer(self), server)
        self.port = listen(server, self.config.listen, self.tls, require_client_cert=True)
        await server.start()
        metrics = MetricsServer(self.read_now)
        if self.config.metrics_listen:
            host, mport = split_host_port(self.config.metrics_listen)
            self.metrics_port = await metrics.start(host, mport)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stop.set)
        loop.add_signal_handler(signal.SIGHUP, self.reload)
        await self._start_services()
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

        log.info("stopping: finishing in-flight work (grace %.0fs)", self.config.shutdown_grace)
        self.notifier.stopping()
        await health.enter_graceful_shutdown()
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await server.stop(self.config.shutdown_grace / 2)
        await self.probes.stop()
        await self.faults.close()
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
