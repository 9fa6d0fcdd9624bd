"""``/proc/diskstats``: node_exporter's diskstats collector.

Kernels give 11, 15 (discards, 4.18+) or 17 (flushes, 5.5+) counters per
device; a device gets the families its kernel has. Times are milliseconds
(exported as seconds), sizes 512-byte sectors (bytes; discards stay in
sectors, as node_exporter exports them). ``node_disk_info`` and the udev
families read udev's database (``/run/udev/data/b<major>:<minor>``) when
there is one.
"""

from __future__ import annotations

import re

from switchman.agent.collect.model import Family
from switchman.agent.collect.node.paths import Paths, read_text

DEVICE_EXCLUDE = r"^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$"
SECTOR = 512.0
TICK = 0.001

# the counters after major, minor and name, in order: (name, kind, help, factor)
COUNTERS = (
    ("node_disk_reads_completed_total", "counter", "The total number of reads completed successfully.", 1.0),
    ("node_disk_reads_merged_total", "counter", "The total number of reads merged.", 1.0),
    ("node_disk_read_bytes_total", "counter", "The total number of bytes read successfully.", SECTOR),
    ("node_disk_read_time_seconds_total", "counter", "The total number of seconds spent by all reads.", TICK),
    ("node_disk_writes_completed_total", "counter", "The total number of writes completed successfully.", 1.0),
    ("node_disk_writes_merged_total", "counter", "The number of writes merged.", 1.0),
    ("node_disk_written_bytes_total", "counter", "The total number of bytes written successfully.", SECTOR),
    ("node_disk_write_time_seconds_total", "counter", "This is the total number of seconds spent by all writes.", TICK),
    ("node_disk_io_now", "gauge", "The number of I/Os currently in progress.", 1.0),
    ("node_disk_io_time_seconds_total", "counter", "Total seconds spent doing I/Os.", TICK),
    ("node_disk_io_time_weighted_seconds_total", "counter", "The weighted # of seconds spent doing I/Os.", TICK),
    ("node_disk_discards_completed_total", "counter", "The total number of discards completed successfully.", 1.0),
    ("node_disk_discards_merged_total", "counter", "The total number of discards merged.", 1.0),
    ("node_disk_discarded_sectors_total", "counter", "The total number of sectors discarded successfully.", 1.0),
    ("node_disk_discard_time_seconds_total", "counter", "This is the total number of seconds spent by all discards.", TICK),
    ("node_disk_flush_requests_total", "counter", "The total number of flush requests completed successfully", 1.0),
    ("node_disk_flush_requests_time_seconds_total", "counter", "This is the total number of seconds spent by all flush requests.", TICK),
)  # fmt: skip
_ATA = (
    ("ID_ATA_WRITE_CACHE", "node_disk_ata_write_cache", "ATA disk has a write cache."),
    ("ID_ATA_WRITE_CACHE_ENABLED", "node_disk_ata_write_cache_enabled", "ATA disk has its write cache enabled."),
    ("ID_ATA_ROTATION_RATE_RPM", "node_disk_ata_rotation_rate_rpm", "ATA disk rotation rate in RPMs (0 for SSDs)."),
)


def udev_properties(paths: Paths, major: str, minor: str) -> dict[str, str]:
    """The ``E:KEY=VALUE`` lines of the device's udev record."""
    text = read_text(f"{paths.udev_data}/b{major}:{minor}") or ""
    return dict(line[2:].split("=", 1) for line in text.splitlines() if line.startswith("E:") and "=" in line)


def read_diskstats(paths: Paths, exclude: str = DEVICE_EXCLUDE) -> list[Family]:
    info = Family("node_disk_info", "gauge", "Info of /sys/block/<block_device>.")
    counters = [Family(name, kind, text) for name, kind, text, _ in COUNTERS]
    fs_info = Family("node_disk_filesystem_info", "gauge", "Info about disk filesystem.")
    dm_info = Family("node_disk_device_mapper_info", "gauge", "Info about disk device mapper.")
    ata = {key: Family(name, "gauge", text) for key, name, text in _ATA}
    skip = re.compile(exclude)
    for line in (read_text(paths.in_proc("diskstats")) or "").splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        major, minor, dev = fields[:3]
        if skip.search(dev):
            continue
        udev = udev_properties(paths, major, minor)
        info.add(1.0, ("device", dev), ("major", major), ("minor", minor), ("model", udev.get("ID_MODEL", "")),
                 ("path", udev.get("ID_PATH", "")), ("revision", udev.get("ID_REVISION", "")),
                 ("serial", udev.get("ID_SERIAL_SHORT", "")), ("wwn", udev.get("ID_WWN", "")))  # fmt: skip
        for raw, (_, _, _, factor), fam in zip(fields[3:], COUNTERS, counters, strict=False):
            fam.add(int(raw) * factor, ("device", dev))
        _udev_families(dev, udev, fs_info, dm_info, ata)
    return [info, *counters, fs_info, dm_info, *ata.values()]


def _udev_families(dev: str, udev: dict[str, str], fs_info: Family, dm_info: Family, ata: dict[str, Family]) -> None:
    if udev.get("ID_FS_TYPE"):
        fs_info.add(1.0, ("device", dev), ("type", udev["ID_FS_TYPE"]), ("usage", udev.get("ID_FS_USAGE", "")),
                    ("uuid", udev.get("ID_FS_UUID", "")), ("version", udev.get("ID_FS_VERSION", "")))  # fmt: skip
    if udev.get("DM_NAME"):
        dm_info.add(1.0, ("device", dev), ("lv_layer", udev.get("DM_LV_LAYER", "")), ("lv_name", udev.get("DM_LV_NAME", "")),
                    ("name", udev["DM_NAME"]), ("uuid", udev.get("DM_UUID", "")), ("vg_name", udev.get("DM_VG_NAME", "")))  # fmt: skip
    if udev.get("ID_ATA"):
        for key, fam in ata.items():
            if key in udev:
                try:
                    fam.add(float(udev[key]), ("device", dev))
                except ValueError:
                    continue
