"""The built-in host collector beside Debian's prometheus-node-exporter on
the same host: the same family names, types, label sets and values."""

from __future__ import annotations

import re
import shutil
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from switchman.agent.collect import Family, HostCollector

from tests.helpers import Daemon, free_port, wait_until

pytestmark = pytest.mark.slow

NODE_EXPORTER = shutil.which("prometheus-node-exporter") or "/usr/bin/prometheus-node-exporter"

# The families the node exporter mixin and the node dashboards read (SPEC 12.2):
# each one node_exporter exports here, the agent must export too.
REQUIRED = re.compile(
    r"node_filesystem_(size_bytes|free_bytes|avail_bytes|files|files_free|readonly|device_error)"
    r"|node_network_(up|speed_bytes|mtu_bytes|info|carrier|transmit_queue_length|flags|iface_\w+"
    r"|(receive|transmit)_\w+_total|carrier\w*_total)"
    r"|node_memory_\w+|node_vmstat_\w+|node_filefd_(allocated|maximum)"
    r"|node_(context_switches|intr|forks)_total|node_procs_(running|blocked)|node_boot_time_seconds"
    r"|node_pressure_\w+|node_sockstat_\w+|node_netstat_\w+|node_nf_conntrack_\w+|node_timex_\w+"
    r"|node_time_seconds|node_uname_info|node_os_(info|version)|node_disk_\w+|node_cpu_seconds_total|node_load\d+"
)

# What node_exporter exports here that the agent does not, and why.
NOT_COVERED = {
    "node_exporter_build_info": "node_exporter's own build; the agent has switchman_agent_build_info",
    "node_scrape_collector_duration_seconds": "per node_exporter collector; the agent reports its cycle time",
    "node_scrape_collector_success": "per node_exporter collector",
    "node_textfile_scrape_error": "no textfile collector in the agent",
    "node_arp_entries": "arp collector: not read by the mixin's alerts or the node dashboards' main panels",
    "node_selinux_enabled": "selinux collector: not read by the mixin or the dashboards",
    "node_softnet_dropped_total": "softnet collector: not covered yet",
    "node_softnet_processed_total": "softnet collector: not covered yet",
    "node_softnet_times_squeezed_total": "softnet collector: not covered yet",
    "node_udp_queues": "udp_queues collector: not covered yet",
}

# What the agent exports under node_ that node_exporter does not export here, and why.
AGENT_ONLY = {
    "node_processes_pids": "node_exporter's processes collector (off by default) exports it under this name",
}

# Debian patches netdev's default --collector.netdev.device-exclude to ^lo$;
# upstream node_exporter (and the agent) keep the loopback's counters.
NETDEV = re.compile(r"node_network_(receive|transmit)_[a-z]+_total")

# Gauges that do not move between two reads a moment apart: equal values.
STEADY = re.compile(
    r"node_filesystem_(size_bytes|files|readonly|device_error)|node_memory_(MemTotal|SwapTotal|Hugepagesize"
    r"|VmallocTotal|HugePages_Total|CommitLimit)(_bytes)?|node_network_(info|up|mtu_bytes|speed_bytes|flags"
    r"|iface_\w+|address_assign_type|carrier|device_id|dormant|name_assign_type|net_dev_group|protocol_type"
    r"|transmit_queue_length)|node_filefd_maximum|node_nf_conntrack_entries_limit|node_boot_time_seconds"
    r"|node_uname_info|node_os_(info|version)|node_disk_info|node_time_zone_offset_seconds"
    r"|node_time_clocksource_\w+|node_timex_(status|tick_seconds|tai_offset_seconds|pps_\w+)"
    r"|node_entropy_pool_size_bits"
)

# Untyped values that are gauges, not counters: they go down too.
GAUGE_LIKE = re.compile(r"node_netstat_Tcp_CurrEstab")

Samples = dict[frozenset[tuple[str, str]], float]


class Reading:
    """One exposition, by family: type and samples."""

    def __init__(self, types: dict[str, str], samples: dict[str, Samples]) -> None:
        self.types, self.samples = types, samples

    @classmethod
    def of_text(cls, text: str) -> Reading:
        types: dict[str, str] = {}
        samples: dict[str, Samples] = {}
        for m in text_string_to_metric_families(text):
            for s in m.samples:
                name = s.name
                if name.endswith("_created"):
                    continue
                types[name] = "untyped" if m.type == "unknown" else m.type
                samples.setdefault(name, {})[frozenset(s.labels.items())] = s.value
        return cls(types, samples)

    @classmethod
    def of_families(cls, families: list[Family]) -> Reading:
        types = {f.name: f.kind for f in families if f.samples}
        samples = {f.name: {frozenset(lbl): v for lbl, v in f.samples} for f in families if f.samples}
        return cls(types, samples)


def scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as r:
        return str(r.read().decode())


@pytest.fixture
def node_exporter(tmp_path: Path) -> Iterator[str]:
    assert Path(NODE_EXPORTER).exists(), "prometheus-node-exporter is not installed: run `make system-deps`"
    port = free_port()
    daemon = Daemon([NODE_EXPORTER, f"--web.listen-address=127.0.0.1:{port}"], tmp_path / "node_exporter.log").start()
    url = f"http://127.0.0.1:{port}/metrics"

    def up() -> bool:
        try:
            return "node_exporter_build_info" in scrape(url)
        except OSError:
            return False

    try:
        wait_until(up, 15, what="node_exporter's /metrics")
        yield url
    finally:
        daemon.terminate()


def readings(url: str) -> tuple[Reading, Reading, Reading]:
    """node_exporter, then the agent's collector, then node_exporter again."""
    collector = HostCollector()
    collector.collect()  # a first reading, as the agent's collector has done before any scrape
    before = Reading.of_text(scrape(url))
    agent = Reading.of_families(collector.collect())
    after = Reading.of_text(scrape(url))
    return before, agent, after


def agent_samples(name: str, agent: Reading) -> Samples:
    samples = agent.samples.get(name, {})
    if NETDEV.fullmatch(name):
        return {lbl: v for lbl, v in samples.items() if ("device", "lo") not in lbl}
    return samples


def within(name: str, kind: str, value: float, a: float, b: float) -> bool:
    if STEADY.fullmatch(name):
        return value in (a, b)
    lo, hi = min(a, b), max(a, b)
    if kind in ("counter", "untyped") and not GAUGE_LIKE.fullmatch(name):
        slack = 1e-9 * abs(hi) + 0.002  # rounding of the units node_exporter converts (ms, µs)
    else:
        slack = max(0.05 * abs(hi), 16.0)  # gauges that move: free memory, sockets, processes
    return lo - slack <= value <= hi + slack


def test_agent_exports_what_node_exporter_exports_with_its_types_labels_and_values(node_exporter: str) -> None:
    before, agent, after = readings(node_exporter)
    ne_names = {n for n in before.types if n.startswith("node_")}
    agent_names = {n for n in agent.types if n.startswith("node_")}

    missing = sorted(n for n in ne_names - agent_names if n not in NOT_COVERED)
    assert not missing, f"node_exporter exports, the agent does not: {missing}"
    required = sorted(n for n in ne_names if REQUIRED.fullmatch(n) and n not in agent_names)
    assert not required, required
    unknown = sorted(n for n in agent_names - ne_names if n not in AGENT_ONLY and n not in after.types)
    assert not unknown, f"the agent exports, node_exporter does not: {unknown}"

    wrong: list[str] = []
    for name in sorted(ne_names & agent_names):
        if agent.types[name] != before.types[name]:
            wrong.append(f"{name}: type {agent.types[name]}, node_exporter {before.types[name]}")
            continue
        mine = agent_samples(name, agent)
        ref_a, ref_b = before.samples[name], after.samples.get(name, {})
        if set(mine) != set(ref_a) and set(mine) != set(ref_b):
            wrong.append(f"{name}: labels {sorted(map(sorted, mine))}, node_exporter {sorted(map(sorted, ref_a))}")
            continue
        for labels, value in mine.items():
            if (
                labels in ref_a
                and labels in ref_b
                and not within(name, agent.types[name], value, ref_a[labels], ref_b[labels])
            ):
                wrong.append(f"{name}{dict(labels)}: {value}, node_exporter {ref_a[labels]} then {ref_b[labels]}")
    assert not wrong, "\n".join(wrong)
