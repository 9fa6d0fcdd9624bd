"""The agent's own families: ``switchman_agent_*`` (spool, collection,
controller link, probes, build) and ``process_*`` for the agent's process,
read from what the collector is handed (prometheus_client's
``ProcessCollector(proc=...)`` habit)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import psutil
from switchman.agent import __version__
from switchman.agent.collect.model import Family
from switchman.agent.push import LinkStats
from switchman.agent.spool import SpoolStats


@dataclass
class CycleStats:
    """What the collection cycles cost: how many ran, the CPU seconds they took."""

    cycles: int = 0
    cpu_seconds: float = 0.0

    def timed(self, read: Callable[[], list[Family]]) -> list[Family]:
        """``read()``, counted as one cycle with the CPU time this thread spent in it."""
        started = time.thread_time()
        families = read()
        self.cpu_seconds += time.thread_time() - started
        self.cycles += 1
        return families


class AgentSelfCollector:
    """``spool_stats`` and ``probe_count`` are read at each collection, as are
    ``link`` and ``cycles`` (kept up to date by their owners); ``process`` is
    the agent's own process."""

    def __init__(
        self,
        spool_stats: Callable[[], SpoolStats],
        link: LinkStats,
        cycles: CycleStats,
        probe_count: Callable[[], int],
        process: psutil.Process | None = None,
        version: str = __version__,
    ) -> None:
        self._spool_stats = spool_stats
        self._link = link
        self._cycles = cycles
        self._probe_count = probe_count
        self._process = process or psutil.Process()
        self._version = version

    def collect(self) -> list[Family]:
        return [
            *self._agent(),
            *self._process_families(),
            Family.of("switchman_agent_build_info", "gauge", "Agent version.", 1, ("version", self._version)),
        ]

    def _agent(self) -> list[Family]:
        st = self._spool_stats()
        link = self._link
        return [
            Family.of("switchman_agent_spool_batches", "gauge", "Batches waiting in the spool.", st.batches),
            Family.of("switchman_agent_spool_samples", "gauge", "Samples waiting in the spool.", st.samples),
            Family.of("switchman_agent_spool_bytes", "gauge", "Bytes used by the spool database.", st.bytes),
            Family.of(
                "switchman_agent_spool_dropped_total",
                "counter",
                "Samples dropped because the spool was full.",
                st.dropped_samples,
            ),
            Family.of("switchman_agent_collect_cycles_total", "counter", "Collection cycles run.", self._cycles.cycles),
            Family.of(
                "switchman_agent_collect_cpu_seconds_total",
                "counter",
                "CPU seconds spent collecting.",
                self._cycles.cpu_seconds,
            ),
            Family.of(
                "switchman_agent_controller_connected",
                "gauge",
                "1 when the last call to the controller succeeded.",
                int(link.connected),
            ),
            Family.of("switchman_agent_pushes_total", "counter", "Successful PushTelemetry calls.", link.pushes_ok),
            Family.of("switchman_agent_probes", "gauge", "Probes running.", self._probe_count()),
            Family.of(
                "switchman_agent_push_failures_total", "counter", "Failed calls to the controller.", link.pushes_failed
            ),
        ]

    def _process_families(self) -> list[Family]:
        me = self._process
        with me.oneshot():
            t = me.cpu_times()
            return [
                Family.of(
                    "process_cpu_seconds_total",
                    "counter",
                    "Agent CPU time (user and system) in seconds.",
                    t.user + t.system,
                ),
                Family.of(
                    "process_resident_memory_bytes", "gauge", "Agent resident memory in bytes.", me.memory_info().rss
                ),
                Family.of("process_open_fds", "gauge", "Agent open file descriptors.", me.num_fds()),
                Family.of("process_start_time_seconds", "gauge", "Agent start time, Unix seconds.", me.create_time()),
            ]
