"""``/proc/stat``: node_exporter's stat collector and the cpu collector's guest time."""

from __future__ import annotations

import os

from switchman.agent.collect.model import Family
from switchman.agent.collect.node.paths import Paths, read_text

# /proc/stat key -> (name, kind, help)
_SCALARS = {
    "intr": ("node_intr_total", "counter", "Total number of interrupts serviced."),
    "ctxt": ("node_context_switches_total", "counter", "Total number of context switches."),
    "processes": ("node_forks_total", "counter", "Total number of forks."),
    "btime": ("node_boot_time_seconds", "gauge", "Node boot time, in unixtime."),
    "procs_running": ("node_procs_running", "gauge", "Number of processes in runnable state."),
    "procs_blocked": ("node_procs_blocked", "gauge", "Number of processes blocked waiting for I/O to complete."),
}


def _user_hz() -> int:
    try:
        return os.sysconf("SC_CLK_TCK")
    except (ValueError, OSError):
        return 100


USER_HZ = _user_hz()


def read_stat(paths: Paths) -> list[Family]:
    fams = {key: Family(name, kind, text) for key, (name, kind, text) in _SCALARS.items()}
    guest = Family("node_cpu_guest_seconds_total", "counter", "Seconds the CPUs spent in guests (VMs) for each mode.")
    for line in (read_text(paths.in_proc("stat")) or "").splitlines():
        key, _, rest = line.partition(" ")
        fam = fams.get(key)
        if fam is not None:
            first = rest.split(None, 1)
            if first:
                fam.add(float(first[0]))  # intr: the total comes first
        elif key.startswith("cpu") and key != "cpu":
            fields = rest.split()
            if len(fields) >= 10:  # user nice system idle iowait irq softirq steal guest guest_nice
                cpu = key[3:]
                guest.add(int(fields[8]) / USER_HZ, ("cpu", cpu), ("mode", "user"))
                guest.add(int(fields[9]) / USER_HZ, ("cpu", cpu), ("mode", "nice"))
    return [*fams.values(), guest]
