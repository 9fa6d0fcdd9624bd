"""Who the host is and what time it keeps: node_exporter's uname, os and time collectors."""

from __future__ import annotations

import os
import re
import time

from switchman.agent.collect.model import Family
from switchman.agent.collect.node.paths import Paths, read_text

OS_RELEASE = ("etc/os-release", "usr/lib/os-release")
_OS_LABELS = (
    ("build_id", "BUILD_ID"), ("id", "ID"), ("id_like", "ID_LIKE"), ("image_id", "IMAGE_ID"),
    ("image_version", "IMAGE_VERSION"), ("name", "NAME"), ("pretty_name", "PRETTY_NAME"), ("variant", "VARIANT"),
    ("variant_id", "VARIANT_ID"), ("version", "VERSION"), ("version_codename", "VERSION_CODENAME"),
    ("version_id", "VERSION_ID"),
)  # fmt: skip
_VERSION = re.compile(r"^[0-9]+\.?[0-9]*")


def read_uname(paths: Paths) -> list[Family]:
    u = os.uname()
    domain = (read_text(paths.in_proc("sys", "kernel", "domainname")) or "(none)").strip()
    labels = {"domainname": domain, "machine": u.machine, "nodename": u.nodename, "release": u.release,
              "sysname": u.sysname, "version": u.version}  # fmt: skip
    return [
        Family.of(
            "node_uname_info",
            "gauge",
            "Labeled system information as provided by the uname system call.",
            1.0,
            *sorted(labels.items()),
        )
    ]


def parse_os_release(text: str) -> dict[str, str]:
    """``KEY=value`` lines, values unquoted (shell-style single or double quotes)."""
    out = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            quote, value = value[0], value[1:-1]
            if quote == '"':
                value = re.sub(r"\\(.)", r"\1", value)
        out[key.strip()] = value
    return out


def read_os(paths: Paths) -> list[Family]:
    info = Family(
        "node_os_info",
        "gauge",
        "A metric with a constant '1' value labeled by build_id, id, id_like, image_id, image_version, "
        "name, pretty_name, variant, variant_id, version, version_codename, version_id.",
    )
    version = Family("node_os_version", "gauge", "Metric containing the major.minor part of the OS version.")
    text = next((t for t in (read_text(paths.in_rootfs(p)) for p in OS_RELEASE) if t is not None), None)
    if text is None:
        return [info, version]
    env = parse_os_release(text)
    info.add(1.0, *((label, env.get(key, "")) for label, key in _OS_LABELS))
    m = _VERSION.match(env.get("VERSION_ID", ""))
    if m and float(m.group()) > 0:
        version.add(
            float(m.group()),
            ("id", env.get("ID", "")),
            ("id_like", env.get("ID_LIKE", "")),
            ("name", env.get("NAME", "")),
        )
    return [info, version]


def read_time(paths: Paths) -> list[Family]:
    now = time.time()
    local = time.localtime(now)
    zone = Family("node_time_zone_offset_seconds", "gauge", "System time zone offset in seconds.")
    zone.add(local.tm_gmtoff, ("time_zone", local.tm_zone))
    available = Family(
        "node_time_clocksource_available_info",
        "gauge",
        "Available clocksources read from '/sys/devices/system/clocksource'.",
    )
    current = Family(
        "node_time_clocksource_current_info",
        "gauge",
        "Current clocksource read from '/sys/devices/system/clocksource'.",
    )
    root = paths.in_sys("devices", "system", "clocksource")
    try:
        names = sorted(n for n in os.listdir(root) if n.startswith("clocksource") and n[11:12].isdigit())
    except OSError:
        names = []
    for i, entry in enumerate(names):
        base, device = os.path.join(root, entry), str(i)
        for name in (read_text(os.path.join(base, "available_clocksource")) or "").split():
            available.add(1.0, ("clocksource", name), ("device", device))
        chosen = (read_text(os.path.join(base, "current_clocksource")) or "").strip()
        current.add(1.0, ("clocksource", chosen), ("device", device))
    return [
        Family.of("node_time_seconds", "gauge", "System time in seconds since epoch (1970).", now),
        zone,
        available,
        current,
    ]
