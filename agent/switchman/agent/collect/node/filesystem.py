"""Mounted filesystems: node_exporter's filesystem collector.

The mounts are those of ``/proc/1/mounts`` (else ``/proc/mounts``), with
Debian's node_exporter defaults for what to leave out. A filesystem that
``statfs`` fails on gets ``node_filesystem_device_error`` 1 and nothing
else. Unlike node_exporter, a mount that hangs is not timed out: ``statfs``
of a dead network mount blocks the collection.
"""

from __future__ import annotations

import os
import re

from switchman.agent.collect.model import Family
from switchman.agent.collect.node.paths import Paths, read_text

# Debian's prometheus-node-exporter 1.5 defaults
MOUNT_POINTS_EXCLUDE = r"^/(dev|proc|run|sys|mnt|media|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)"
FS_TYPES_EXCLUDE = (
    r"^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs"
    r"|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs)$"
)
_LABELS = ("device", "fstype", "mountpoint")


def mounts(paths: Paths) -> list[tuple[str, str, str, str]]:
    """(device, mount point, type, options) of each mount, the mount point
    unescaped and seen from ``paths.rootfs``."""
    text = read_text(paths.in_proc("1", "mounts"))
    if text is None:
        text = read_text(paths.in_proc("mounts")) or ""
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 4:
            continue
        point = parts[1].replace("\\040", " ").replace("\\011", "\t")
        if paths.rootfs != "/":
            point = point.removeprefix(paths.rootfs) or "/"
        out.append((parts[0], point, parts[2], parts[3]))
    return out


def read_filesystems(
    paths: Paths, mount_points_exclude: str = MOUNT_POINTS_EXCLUDE, fs_types_exclude: str = FS_TYPES_EXCLUDE
) -> list[Family]:
    size = Family("node_filesystem_size_bytes", "gauge", "Filesystem size in bytes.")
    free = Family("node_filesystem_free_bytes", "gauge", "Filesystem free space in bytes.")
    avail = Family("node_filesystem_avail_bytes", "gauge", "Filesystem space available to non-root users in bytes.")
    files = Family("node_filesystem_files", "gauge", "Filesystem total file nodes.")
    files_free = Family("node_filesystem_files_free", "gauge", "Filesystem total free file nodes.")
    readonly = Family("node_filesystem_readonly", "gauge", "Filesystem read-only status.")
    error = Family(
        "node_filesystem_device_error",
        "gauge",
        "Whether an error occurred while getting statistics for the given device.",
    )
    skip_point, skip_type = re.compile(mount_points_exclude), re.compile(fs_types_exclude)
    seen: set[tuple[str, str, str]] = set()
    for device, point, fstype, options in mounts(paths):
        if skip_point.search(point) or skip_type.search(fstype) or (device, point, fstype) in seen:
            continue
        seen.add((device, point, fstype))
        labels = tuple(zip(_LABELS, (device, fstype, point), strict=True))
        try:
            st = os.statvfs(paths.in_rootfs(point))
        except OSError:
            error.add(1.0, *labels)
            continue
        error.add(0.0, *labels)
        size.add(st.f_blocks * st.f_bsize, *labels)
        free.add(st.f_bfree * st.f_bsize, *labels)
        avail.add(st.f_bavail * st.f_bsize, *labels)
        files.add(st.f_files, *labels)
        files_free.add(st.f_ffree, *labels)
        readonly.add(1.0 if "ro" in options.split(",") else 0.0, *labels)
    return [size, free, avail, files, files_free, readonly, error]
