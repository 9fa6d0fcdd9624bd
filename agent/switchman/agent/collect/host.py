"""The host's metrics under node_exporter's names (SPEC 3.1, 12.2).

:class:`HostCollector` is the entry point: CPU time and the process count
come from psutil, load from ``os.getloadavg``; the rest is read straight
from ``/proc`` and ``/sys`` by the modules of :mod:`.node`, one per
node_exporter collector, with node_exporter 1.5's (Debian's) names, label
sets, types and default filters, so the node exporter mixin and node
dashboards read the same series from an agent as from node_exporter.
"""

from __future__ import annotations

import os

import psutil
from switchman.agent.collect.model import Family
from switchman.agent.collect.node import Paths
from switchman.agent.collect.node.conntrack import read_conntrack
from switchman.agent.collect.node.diskstats import read_diskstats
from switchman.agent.collect.node.filesystem import read_filesystems
from switchman.agent.collect.node.kernel import read_entropy, read_filefd
from switchman.agent.collect.node.meminfo import read_meminfo
from switchman.agent.collect.node.netclass import read_netclass
from switchman.agent.collect.node.netdev import read_netdev
from switchman.agent.collect.node.netstat import read_netstat
from switchman.agent.collect.node.pressure import read_pressure
from switchman.agent.collect.node.sockstat import read_sockstat
from switchman.agent.collect.node.stat import read_stat
from switchman.agent.collect.node.system import read_os, read_time, read_uname
from switchman.agent.collect.node.timex import Timex
from switchman.agent.collect.node.vmstat import read_vmstat

CPU_MODES = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")

READERS = (
    read_stat,
    read_meminfo,
    read_vmstat,
    read_filefd,
    read_entropy,
    read_pressure,
    read_filesystems,
    read_diskstats,
    read_netdev,
    read_netclass,
    read_sockstat,
    read_netstat,
    read_conntrack,
    read_uname,
    read_os,
    read_time,
)


class HostCollector:
    """Reads the host's metrics. Keeps the previous CPU times to compute a
    utilisation ratio between two calls (one instance per consumer).

    ``proc``, ``sys`` and ``rootfs`` are node_exporter's ``--path.procfs``,
    ``--path.sysfs`` and ``--path.rootfs``; CPU times (psutil) and the
    clock (``adjtimex``) are always the running kernel's.
    """

    def __init__(
        self, proc: str = "/proc", sys: str = "/sys", rootfs: str = "/", udev_data: str = "/run/udev/data"
    ) -> None:
        self.paths = Paths(proc=proc, sys=sys, rootfs=rootfs, udev_data=udev_data)
        self._prev_cpu: tuple[float, float] | None = None
        self._timex = Timex()

    def collect(self) -> list[Family]:
        out = [*self._cpu(), *self._load(), self._processes()]
        for read in READERS:
            out += read(self.paths)
        out += self._timex.collect()
        return out

    def _cpu(self) -> list[Family]:
        seconds = Family("node_cpu_seconds_total", "counter", "Seconds the CPUs spent in each mode.")
        busy = idle = 0.0
        for i, t in enumerate(psutil.cpu_times(percpu=True)):
            cpu = str(i)
            for mode in CPU_MODES:
                v = getattr(t, mode, None)
                if v is None:
                    continue
                seconds.add(v, ("cpu", cpu), ("mode", mode))
                if mode in ("idle", "iowait"):
                    idle += v
                else:
                    busy += v
        util = Family(
            "switchman_node_cpu_utilisation_ratio", "gauge", "Share of CPU time not idle since the last reading."
        )
        if self._prev_cpu is not None:
            d_busy, d_idle = busy - self._prev_cpu[0], idle - self._prev_cpu[1]
            if d_busy + d_idle > 0:
                util.add(d_busy / (d_busy + d_idle))
        self._prev_cpu = (busy, idle)
        return [seconds, util]

    @staticmethod
    def _load() -> list[Family]:
        out = []
        for name, value in zip(("node_load1", "node_load5", "node_load15"), os.getloadavg(), strict=True):
            out.append(Family.of(name, "gauge", f"{name[9:]}m load average.", value))
        return out

    @staticmethod
    def _processes() -> Family:
        return Family.of("node_processes_pids", "gauge", "Number of PIDs.", len(psutil.pids()))
