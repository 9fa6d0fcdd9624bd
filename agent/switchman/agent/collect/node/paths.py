"""Where the collectors read, and the plain file reads they share."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Paths:
    """The roots node_exporter takes as ``--path.procfs``, ``--path.sysfs``,
    ``--path.rootfs`` and ``--collector.diskstats.udev-data-path``."""

    proc: str = "/proc"
    sys: str = "/sys"
    rootfs: str = "/"
    udev_data: str = "/run/udev/data"

    def in_proc(self, *parts: str) -> str:
        return os.path.join(self.proc, *parts)

    def in_sys(self, *parts: str) -> str:
        return os.path.join(self.sys, *parts)

    def in_rootfs(self, path: str) -> str:
        return os.path.join(self.rootfs, path.lstrip("/"))


def read_text(path: str) -> str | None:
    """The file's text, or None when it cannot be read (absent, not permitted,
    or a sysfs attribute the device does not support)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:  # unbuffered reads: most of these files are a few bytes, read ~100 times a collection
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
    except OSError:
        return None
    finally:
        os.close(fd)
    return b"".join(chunks).decode("utf-8", "replace")


def parse_go_int(text: str) -> int | None:
    """An integer as Go's ``strconv.ParseInt(s, 0, 64)`` reads it (sysfs
    values: ``0x1003`` is hex, a leading ``0`` octal), None when it is not one."""
    s = text.strip().replace("_", "")
    sign = 1
    if s[:1] in ("+", "-"):
        sign, s = (-1 if s[0] == "-" else 1), s[1:]
    base = 10
    if s[:2].lower() in ("0x", "0o", "0b"):
        base, s = {"x": 16, "o": 8, "b": 2}[s[1].lower()], s[2:]
    elif len(s) > 1 and s[0] == "0":
        base = 8
    try:
        return sign * int(s, base) if s else None
    except ValueError:
        return None
