"""The /sys, mount, identity and clock readers of the host collector over
a fixture tree (tests/fixtures/node), and the collector wired to it."""

from __future__ import annotations

import os
import types

from switchman.agent.collect import HostCollector
from switchman.agent.collect.node import Paths
from switchman.agent.collect.node.filesystem import read_filesystems
from switchman.agent.collect.node.netclass import read_netclass
from switchman.agent.collect.node.netdev import read_netdev
from switchman.agent.collect.node.paths import parse_go_int
from switchman.agent.collect.node.system import read_os, read_time, read_uname
from switchman.agent.collect.node.timex import Timex, values

from tests.unit.test_node_proc import FIXTURES, PATHS, by_labels, named

DEV = "device"


def test_netdev_gives_every_counter_per_device_and_nohandler_where_sysfs_has_it() -> None:
    fams = named(read_netdev(PATHS))
    eth0 = {n: by_labels(f).get(frozenset({(DEV, "eth0")})) for n, f in fams.items()}
    assert eth0 == {
        f"node_network_{k}_total": float(v)
        for k, v in {
            "receive_bytes": 1000000, "receive_packets": 2000, "receive_errs": 1, "receive_drop": 2,
            "receive_fifo": 3, "receive_frame": 4, "receive_compressed": 5, "receive_multicast": 6,
            "transmit_bytes": 500000, "transmit_packets": 1000, "transmit_errs": 7, "transmit_drop": 8,
            "transmit_fifo": 9, "transmit_colls": 10, "transmit_carrier": 11, "transmit_compressed": 12,
            "receive_nohandler": 3,
        }.items()
    }  # fmt: skip
    assert all(f.kind == "counter" for f in fams.values())
    assert {dict(lbl)[DEV] for lbl, _ in fams["node_network_receive_bytes_total"].samples} == {"lo", "eth0"}
    assert {dict(lbl)[DEV] for lbl, _ in fams["node_network_receive_nohandler_total"].samples} == {"eth0"}
    only_eth0 = named(read_netdev(PATHS, exclude="^lo$"))
    assert {dict(lbl)[DEV] for lbl, _ in only_eth0["node_network_receive_bytes_total"].samples} == {"eth0"}


def test_netclass_gives_each_interface_its_properties_and_skips_what_it_cannot_read() -> None:
    fams = named(read_netclass(PATHS))
    assert by_labels(fams["node_network_up"]) == {
        frozenset({(DEV, "eth0")}): 1.0,
        frozenset({(DEV, "dummy0")}): 0.0,
        frozenset({(DEV, "lo")}): 0.0,
    }  # bonding_masters, a plain file, is no interface
    assert frozenset({("address", "52:54:00:12:34:56"), ("broadcast", "ff:ff:ff:ff:ff:ff"), (DEV, "eth0"),
                      ("duplex", "full"), ("ifalias", "uplink"), ("operstate", "up")}) in by_labels(
        fams["node_network_info"]
    )  # fmt: skip
    eth0 = frozenset({(DEV, "eth0")})
    dummy0 = frozenset({(DEV, "dummy0")})
    assert by_labels(fams["node_network_speed_bytes"]) == {eth0: 10000 * 125000.0, dummy0: -125000.0}
    assert by_labels(fams["node_network_flags"]) == {eth0: 4099.0, dummy0: 130.0, frozenset({(DEV, "lo")}): 9.0}
    assert by_labels(fams["node_network_mtu_bytes"])[eth0] == 9000.0
    assert by_labels(fams["node_network_carrier"]) == {eth0: 1.0, frozenset({(DEV, "lo")}): 1.0}  # dummy0 is down
    assert by_labels(fams["node_network_transmit_queue_length"])[dummy0] == 32.0
    assert by_labels(fams["node_network_protocol_type"])[frozenset({(DEV, "lo")})] == 772.0
    assert by_labels(fams["node_network_name_assign_type"]) == {eth0: 4.0}
    assert fams["node_network_carrier_changes_total"].kind == "counter"
    assert fams["node_network_iface_id"].kind == "gauge"
    assert fams["node_network_mtu_bytes"].help == "Network device property: mtu_bytes"


def test_sysfs_integers_parse_as_go_parses_them() -> None:
    assert [parse_go_int(s) for s in ("0x1003", "-1", "010", "9000\n", "", "up")] == [4099, -1, 8, 9000, None, None]


def test_filesystems_dedupe_exclude_and_mark_readonly_and_errors() -> None:
    fams = named(read_filesystems(PATHS))  # the fixture's mounts are / (twice, and read-only) and a missing one
    vda = frozenset({(DEV, "/dev/vda"), ("fstype", "ext4"), ("mountpoint", "/")})
    vdb = frozenset({(DEV, "/dev/vdb"), ("fstype", "xfs"), ("mountpoint", "/")})
    gone = frozenset({(DEV, "/dev/vdc"), ("fstype", "ext4"), ("mountpoint", "/srv/no such mount")})
    assert by_labels(fams["node_filesystem_device_error"]) == {vda: 0.0, vdb: 0.0, gone: 1.0}
    assert by_labels(fams["node_filesystem_readonly"]) == {vda: 0.0, vdb: 1.0}
    st = os.statvfs("/")
    assert by_labels(fams["node_filesystem_size_bytes"])[vda] == st.f_blocks * st.f_bsize
    assert by_labels(fams["node_filesystem_files"])[vdb] == st.f_files
    assert set(by_labels(fams["node_filesystem_files_free"])) == {vda, vdb}
    assert all(f.kind == "gauge" for f in fams.values())


def test_os_release_and_uname() -> None:
    fams = named(read_os(Paths(rootfs=str(FIXTURES / "rootfs"))))
    [(labels, one)] = fams["node_os_info"].samples
    assert one == 1.0 and dict(labels) == {
        "build_id": "", "id": "testix", "id_like": "debian", "image_id": "", "image_version": "",
        "name": "Testix GNU/Linux", "pretty_name": "Testix GNU/Linux 7.3 (quokka)", "variant": "",
        "variant_id": "", "version": "7.3 (quokka)", "version_codename": "quokka", "version_id": "7.3",
    }  # fmt: skip
    assert fams["node_os_version"].samples == [
        ((("id", "testix"), ("id_like", "debian"), ("name", "Testix GNU/Linux")), 7.3)
    ]
    assert all(not f.samples for f in read_os(Paths(rootfs="/nonexistent")))
    [(labels, _)] = read_uname(PATHS)[0].samples
    u = os.uname()
    assert dict(labels) == {"domainname": "(none)", "machine": u.machine, "nodename": u.nodename,
                            "release": u.release, "sysname": u.sysname, "version": u.version}  # fmt: skip


def test_time_gives_the_clock_its_zone_and_the_clocksources() -> None:
    fams = named(read_time(PATHS))
    assert by_labels(fams["node_time_clocksource_available_info"]) == {
        frozenset({("clocksource", c), (DEV, "0")}): 1.0 for c in ("tsc", "hpet", "acpi_pm")
    }
    assert by_labels(fams["node_time_clocksource_current_info"]) == {
        frozenset({("clocksource", "tsc"), (DEV, "0")}): 1.0
    }
    [(labels, offset)] = fams["node_time_zone_offset_seconds"].samples
    assert [k for k, _ in labels] == ["time_zone"] and abs(offset) <= 14 * 3600


def test_timex_converts_as_node_exporter_does() -> None:
    tx = types.SimpleNamespace(
        status=0x2001, offset=500_000, freq=65536 * 10, maxerror=16_000, esterror=2_000, constant=7, tick=10_000,
        ppsfreq=65536, jitter=1_000, shift=4, stabil=0, jitcnt=1, calcnt=2, errcnt=3, stbcnt=4, tai=37,
    )  # fmt: skip
    v = values(0, tx)
    assert v["sync_status"] == 1.0 and values(5, tx)["sync_status"] == 0.0  # TIME_ERROR
    assert v["offset_seconds"] == 0.0005  # STA_NANO: nanoseconds
    assert v["frequency_adjustment_ratio"] == 1.00001
    assert (v["maxerror_seconds"], v["estimated_error_seconds"], v["tick_seconds"]) == (0.016, 0.002, 0.01)
    assert (v["pps_frequency_hertz"], v["pps_jitter_seconds"], v["tai_offset_seconds"]) == (1e-06, 1e-06, 37.0)


def test_timex_reads_the_running_kernel() -> None:
    fams = named(Timex().collect())
    assert len(fams) == 17 and all(len(f.samples) == 1 for f in fams.values())
    assert fams["node_timex_tick_seconds"].samples[0][1] > 0
    assert fams["node_timex_pps_error_total"].kind == "counter"


def test_host_collector_reads_the_roots_it_is_given() -> None:
    reading = HostCollector(
        proc=str(FIXTURES / "proc"), sys=str(FIXTURES / "sys"), rootfs=str(FIXTURES / "rootfs"),
        udev_data=str(FIXTURES / "udev"),
    ).collect()  # fmt: skip
    fams = named(reading)
    assert fams["node_memory_HugePages_Total"].samples == [((), 4.0)]
    assert fams["node_nf_conntrack_entries"].samples == [((), 42.0)]
    assert fams["node_os_version"].samples[0][1] == 7.3
    assert fams["node_network_speed_bytes"].samples
    assert fams["node_cpu_seconds_total"].samples  # psutil: the running kernel's
    assert len(reading) == len(fams), "a family name twice"
