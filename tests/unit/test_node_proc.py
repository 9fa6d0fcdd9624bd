"""The /proc readers of the host collector over a fixture tree
(tests/fixtures/node): node_exporter's names, types, labels and values."""

from __future__ import annotations

from pathlib import Path

import pytest
from switchman.agent.collect import Family
from switchman.agent.collect.node import Paths
from switchman.agent.collect.node.conntrack import read_conntrack
from switchman.agent.collect.node.diskstats import read_diskstats
from switchman.agent.collect.node.kernel import read_entropy, read_filefd
from switchman.agent.collect.node.meminfo import read_meminfo
from switchman.agent.collect.node.netstat import read_netstat
from switchman.agent.collect.node.pressure import read_pressure
from switchman.agent.collect.node.sockstat import PAGE_SIZE, read_sockstat
from switchman.agent.collect.node.stat import USER_HZ, read_stat
from switchman.agent.collect.node.vmstat import read_vmstat

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "node"
PATHS = Paths(proc=str(FIXTURES / "proc"), sys=str(FIXTURES / "sys"), udev_data=str(FIXTURES / "udev"))
EMPTY = Paths(proc="/nonexistent/proc", sys="/nonexistent/sys", udev_data="/nonexistent/udev")


def scalars(families: list[Family]) -> dict[str, tuple[str, float]]:
    """name -> (type, value) of families of one unlabelled sample."""
    out = {}
    for f in families:
        [(labels, value)] = f.samples
        assert labels == (), f.name
        out[f.name] = (f.kind, value)
    return out


def by_labels(family: Family) -> dict[frozenset[tuple[str, str]], float]:
    return {frozenset(labels): value for labels, value in family.samples}


def named(families: list[Family]) -> dict[str, Family]:
    return {f.name: f for f in families}


def test_stat_gives_the_kernel_counters_boot_time_and_guest_time() -> None:
    fams = named(read_stat(PATHS))
    assert scalars([f for n, f in fams.items() if n != "node_cpu_guest_seconds_total"]) == {
        "node_intr_total": ("counter", 123456.0),
        "node_context_switches_total": ("counter", 987654.0),
        "node_forks_total": ("counter", 4321.0),
        "node_boot_time_seconds": ("gauge", 1700000000.0),
        "node_procs_running": ("gauge", 3.0),
        "node_procs_blocked": ("gauge", 1.0),
    }
    guest = fams["node_cpu_guest_seconds_total"]
    assert guest.kind == "counter"
    assert by_labels(guest) == {
        frozenset({("cpu", "0"), ("mode", "user")}): 200 / USER_HZ,
        frozenset({("cpu", "0"), ("mode", "nice")}): 100 / USER_HZ,
        frozenset({("cpu", "1"), ("mode", "user")}): 0.0,
        frozenset({("cpu", "1"), ("mode", "nice")}): 0.0,
    }


def test_meminfo_names_every_field_as_node_exporter_does() -> None:
    assert scalars(read_meminfo(PATHS)) == {
        "node_memory_MemTotal_bytes": ("gauge", 2048000 * 1024.0),
        "node_memory_MemFree_bytes": ("gauge", 1024000 * 1024.0),
        "node_memory_MemAvailable_bytes": ("gauge", 1536000 * 1024.0),
        "node_memory_Active_anon_bytes": ("gauge", 4096 * 1024.0),
        "node_memory_Inactive_file_bytes": ("gauge", 8192 * 1024.0),
        "node_memory_HugePages_Total": ("gauge", 4.0),
        "node_memory_HugePages_Free": ("gauge", 2.0),
        "node_memory_Hugepagesize_bytes": ("gauge", 2048 * 1024.0),
    }


def test_vmstat_keeps_node_exporters_default_fields_untyped() -> None:
    assert scalars(read_vmstat(PATHS)) == {
        f"node_vmstat_{k}": ("untyped", v)
        for k, v in {
            "pgpgin": 1111.0,
            "pgpgout": 2222.0,
            "pswpin": 3.0,
            "pswpout": 4.0,
            "pgfault": 55555.0,
            "pgmajfault": 66.0,
            "oom_kill": 2.0,
        }.items()
    }


def test_filefd_and_entropy() -> None:
    assert scalars(read_filefd(PATHS) + read_entropy(PATHS)) == {
        "node_filefd_allocated": ("gauge", 1536.0),
        "node_filefd_maximum": ("gauge", 9223372036854775807.0),
        "node_entropy_available_bits": ("gauge", 256.0),
        "node_entropy_pool_size_bits": ("gauge", 256.0),
    }


def test_pressure_totals_are_seconds() -> None:
    assert scalars(read_pressure(PATHS)) == {
        "node_pressure_cpu_waiting_seconds_total": ("counter", 2.5),
        "node_pressure_io_waiting_seconds_total": ("counter", 1.5),
        "node_pressure_io_stalled_seconds_total": ("counter", 0.75),
        "node_pressure_memory_waiting_seconds_total": ("counter", 1e-05),
        "node_pressure_memory_stalled_seconds_total": ("counter", 5e-06),
    }


def test_conntrack_sums_the_per_cpu_hex_statistics() -> None:
    assert scalars(read_conntrack(PATHS)) == {
        f"node_nf_conntrack_{k}": ("gauge", v)
        for k, v in {
            "entries": 42.0,
            "entries_limit": 65536.0,
            "stat_found": 17.0,
            "stat_invalid": 4.0,
            "stat_ignore": 257.0,
            "stat_insert": 2.0,
            "stat_insert_failed": 4.0,
            "stat_drop": 2.0,
            "stat_early_drop": 5.0,
            "stat_search_restart": 11.0,
        }.items()
    }


def test_sockstat_gives_each_protocol_and_state_and_memory_in_bytes() -> None:
    assert scalars(read_sockstat(PATHS)) == {
        f"node_sockstat_{k}": ("gauge", float(v))
        for k, v in {
            "sockets_used": 230,
            "TCP_inuse": 12,
            "TCP_orphan": 1,
            "TCP_tw": 7,
            "TCP_alloc": 15,
            "TCP_mem": 3,
            "TCP_mem_bytes": 3 * PAGE_SIZE,
            "UDP_inuse": 2,
            "UDP_mem": 1,
            "UDP_mem_bytes": PAGE_SIZE,
            "UDPLITE_inuse": 0,
            "RAW_inuse": 0,
            "FRAG_inuse": 0,
            "FRAG_memory": 0,
            "TCP6_inuse": 4,
            "UDP6_inuse": 1,
            "FRAG6_inuse": 0,
            "FRAG6_memory": 0,
        }.items()
    }


def test_netstat_keeps_the_default_fields_of_netstat_snmp_and_snmp6() -> None:
    expected = {
        "TcpExt_SyncookiesSent": 1,
        "TcpExt_SyncookiesRecv": 2,
        "TcpExt_ListenOverflows": 3,
        "TcpExt_ListenDrops": 4,
        "TcpExt_TCPTimeouts": 5,
        "TcpExt_TCPSynRetrans": 6,
        "IpExt_InOctets": 123456,
        "IpExt_OutOctets": 654321,
        "Ip_Forwarding": 1,
        "Icmp_InMsgs": 10,
        "Icmp_InErrors": 1,
        "Icmp_OutMsgs": 11,
        "Tcp_ActiveOpens": 100,
        "Tcp_PassiveOpens": 50,
        "Tcp_InErrs": 2,
        "Tcp_CurrEstab": 8,
        "Tcp_InSegs": 9000,
        "Tcp_OutSegs": 8000,
        "Tcp_RetransSegs": 30,
        "Tcp_OutRsts": 40,
        "Udp_InDatagrams": 500,
        "Udp_NoPorts": 6,
        "Udp_InErrors": 0,
        "Udp_OutDatagrams": 400,
        "Udp_RcvbufErrors": 0,
        "Udp_SndbufErrors": 0,
        "Ip6_InOctets": 2048,
        "Ip6_OutOctets": 1024,
        "Icmp6_InMsgs": 3,
        "Icmp6_InErrors": 1,
        "Udp6_InDatagrams": 7,
        "Udp6_NoPorts": 0,
    }
    fams = read_netstat(PATHS)
    assert scalars(fams) == {f"node_netstat_{k}": ("untyped", float(v)) for k, v in expected.items()}
    assert named(fams)["node_netstat_Tcp_InErrs"].help == "Statistic TcpInErrs."


def test_diskstats_gives_each_device_the_counters_its_kernel_has() -> None:
    fams = named(read_diskstats(PATHS))
    reads = by_labels(fams["node_disk_reads_completed_total"])
    assert reads == {frozenset({("device", d)}): v for d, v in (("vda", 1000.0), ("dm-0", 300.0), ("sdb", 10.0))}
    vda = {n: by_labels(f).get(frozenset({("device", "vda")})) for n, f in fams.items()}
    assert {n: v for n, v in vda.items() if n != "node_disk_info" and v is not None} == {
        "node_disk_reads_completed_total": 1000.0,
        "node_disk_reads_merged_total": 20.0,
        "node_disk_read_bytes_total": 8000 * 512.0,
        "node_disk_read_time_seconds_total": 1.5,
        "node_disk_writes_completed_total": 2000.0,
        "node_disk_writes_merged_total": 30.0,
        "node_disk_written_bytes_total": 16000 * 512.0,
        "node_disk_write_time_seconds_total": 2.5,
        "node_disk_io_now": 1.0,
        "node_disk_io_time_seconds_total": 3.0,
        "node_disk_io_time_weighted_seconds_total": 4.0,
        "node_disk_discards_completed_total": 40.0,
        "node_disk_discards_merged_total": 2.0,
        "node_disk_discarded_sectors_total": 512.0,
        "node_disk_discard_time_seconds_total": 0.06,
        "node_disk_flush_requests_total": 70.0,
        "node_disk_flush_requests_time_seconds_total": 0.08,
        "node_disk_ata_rotation_rate_rpm": 0.0,
    }
    assert fams["node_disk_io_now"].kind == "gauge" and fams["node_disk_io_time_seconds_total"].kind == "counter"
    devices = {n: {dict(lbl)["device"] for lbl, _ in f.samples} for n, f in fams.items()}
    assert devices["node_disk_discards_completed_total"] == {"vda", "dm-0"}  # 15 or more counters
    assert devices["node_disk_flush_requests_total"] == {"vda"}  # 17
    info = by_labels(fams["node_disk_info"])
    assert info[frozenset({("device", "sdb"), ("major", "8"), ("minor", "16"), ("model", ""), ("path", ""),
                           ("revision", ""), ("serial", ""), ("wwn", "")})] == 1.0  # fmt: skip
    assert frozenset({("device", "vda"), ("major", "254"), ("minor", "0"), ("model", "QEMU_HARDDISK"),
                      ("path", "virtio-pci-0000:00:05.0"), ("revision", "2.5+"), ("serial", "disk-01"),
                      ("wwn", "0x5000c500a1b2c3d4")}) in info  # fmt: skip
    assert by_labels(fams["node_disk_filesystem_info"]) == {
        frozenset({("device", "vda"), ("type", "ext4"), ("usage", "filesystem"),
                   ("uuid", "0b5a5c3e-1f2d-4a6b-9c8d-7e6f5a4b3c2d"), ("version", "1.0")}): 1.0
    }  # fmt: skip


@pytest.mark.parametrize(
    "read", [read_stat, read_meminfo, read_vmstat, read_filefd, read_entropy, read_pressure, read_conntrack,
             read_sockstat, read_netstat, read_diskstats],
)  # fmt: skip
def test_a_host_without_the_file_gives_no_samples(read: object) -> None:
    assert callable(read)
    assert all(not f.samples for f in read(EMPTY))
