"""psutil readings as node_exporter-named families (SPEC 3.1).

Every value is read from the kernel through psutil at the moment
:meth:`HostCollector.collect` runs. Filesystems and devices are filtered
with node_exporter's default exclusion patterns so existing dashboards and
rules see the same series.
"""

from __future__ import annotations

import os
import re
import time

import psutil
from switchman.agent.collect.model import Family

# node_exporter's defaults (collector/filesystem_linux.go, diskstats_linux.go)
FS_TYPES_EXCLUDE = re.compile(
    r"^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs"
    r"|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|erofs|sysfs|tracefs)$"
)
MOUNT_POINTS_EXCLUDE = re.compile(
    r"^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)"
)
DISK_EXCLUDE = re.compile(r"^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$")
CPU_MODES = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")


class HostCollector:
    """Reads the host's metrics. Keeps the previous CPU times to compute a
    utilisation ratio between two calls (one instance per consumer)."""

    def __init__(self) -> None:
        self._prev_cpu: tuple[float, float] | None = None

    def collect(self) -> list[Family]:
        return [
            *self._cpu(),
            *self._memory(),
            *self._load(),
            *self._filesystems(),
            *self._disks(),
            *self._network(),
            *self._system(),
        ]

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
    def _memory() -> list[Family]:
        vm = psutil.virtual_memory()
        sw = psutil.swap_memory()
        out = []
        for name, value in (
            ("MemTotal", vm.total),
            ("MemAvailable", vm.available),
            ("MemFree", vm.free),
            ("Buffers", getattr(vm, "buffers", 0)),
            ("Cached", getattr(vm, "cached", 0)),
            ("SwapTotal", sw.total),
            ("SwapFree", sw.free),
        ):
            f = Family(f"node_memory_{name}_bytes", "gauge", f"Memory information field {name}_bytes.")
            f.add(value)
            out.append(f)
        return out

    @staticmethod
    def _load() -> list[Family]:
        out = []
        for name, value in zip(("node_load1", "node_load5", "node_load15"), os.getloadavg(), strict=True):
            f = Family(name, "gauge", f"{name[9:]}m load average.")
            f.add(value)
            out.append(f)
        return out

    @staticmethod
    def _filesystems() -> list[Family]:
        size = Family("node_filesystem_size_bytes", "gauge", "Filesystem size in bytes.")
        avail = Family("node_filesystem_avail_bytes", "gauge", "Filesystem space available to non-root users in bytes.")
        free = Family("node_filesystem_free_bytes", "gauge", "Filesystem free space in bytes.")
        seen: set[str] = set()
        for part in psutil.disk_partitions(all=False):
            if FS_TYPES_EXCLUDE.match(part.fstype) or MOUNT_POINTS_EXCLUDE.match(part.mountpoint):
                continue
            if part.mountpoint in seen:
                continue
            seen.add(part.mountpoint)
            try:
                st = os.statvfs(part.mountpoint)
            except OSError:
                continue
            labels = (("device", part.device), ("fstype", part.fstype), ("mountpoint", part.mountpoint))
            size.add(st.f_blocks * st.f_frsize, *labels)
            avail.add(st.f_bavail * st.f_frsize, *labels)
            free.add(st.f_bfree * st.f_frsize, *labels)
        return [size, avail, free]

    @staticmethod
    def _disks() -> list[Family]:
        fams = {
            "read_bytes": Family(
                "node_disk_read_bytes_total", "counter", "The total number of bytes read successfully."
            ),
            "write_bytes": Family(
                "node_disk_written_bytes_total", "counter", "The total number of bytes written successfully."
            ),
            "read_count": Family(
                "node_disk_reads_completed_total", "counter", "The total number of reads completed successfully."
            ),
            "write_count": Family(
                "node_disk_writes_completed_total", "counter", "The total number of writes completed successfully."
            ),
        }
        busy = Family("node_disk_io_time_seconds_total", "counter", "Total seconds spent doing I/Os.")
        counters = psutil.disk_io_counters(perdisk=True, nowrap=True) or {}
        for dev, c in counters.items():
            if DISK_EXCLUDE.match(dev):
                continue
            for attr, fam in fams.items():
                fam.add(getattr(c, attr), ("device", dev))
            if hasattr(c, "busy_time"):
                busy.add(c.busy_time / 1000.0, ("device", dev))
        return [*fams.values(), busy]

    @staticmethod
    def _network() -> list[Family]:
        spec = (
            ("bytes_recv", "node_network_receive_bytes_total", "Network device statistic receive_bytes."),
            ("bytes_sent", "node_network_transmit_bytes_total", "Network device statistic transmit_bytes."),
            ("packets_recv", "node_network_receive_packets_total", "Network device statistic receive_packets."),
            ("packets_sent", "node_network_transmit_packets_total", "Network device statistic transmit_packets."),
            ("errin", "node_network_receive_errs_total", "Network device statistic receive_errs."),
            ("errout", "node_network_transmit_errs_total", "Network device statistic transmit_errs."),
            ("dropin", "node_network_receive_drop_total", "Network device statistic receive_drop."),
            ("dropout", "node_network_transmit_drop_total", "Network device statistic transmit_drop."),
        )
        fams = [Family(name, "counter", text) for _, name, text in spec]
        for dev, c in (psutil.net_io_counters(pernic=True, nowrap=True) or {}).items():
            for (attr, _, _), fam in zip(spec, fams, strict=True):
                fam.add(getattr(c, attr), ("device", dev))
        return fams

    @staticmethod
    def _system() -> list[Family]:
        boot = Family("node_boot_time_seconds", "gauge", "Node boot time, in unixtime.")
        boot.add(psutil.boot_time())
        now = Family("node_time_seconds", "gauge", "System time in seconds since epoch (1970).")
        now.add(time.time())
        procs = Family("node_processes_pids", "gauge", "Number of PIDs.")
        procs.add(len(psutil.pids()))
        return [boot, now, procs]
