"""``/proc/vmstat``: node_exporter's vmstat collector with its default field filter."""

from __future__ import annotations

import re

from switchman.agent.collect.model import Family
from switchman.agent.collect.node.paths import Paths, read_text

DEFAULT_FIELDS = r"^(oom_kill|pgpg|pswp|pg.*fault).*"


def read_vmstat(paths: Paths, fields: str = DEFAULT_FIELDS) -> list[Family]:
    pattern = re.compile(fields)
    out = []
    for line in (read_text(paths.in_proc("vmstat")) or "").splitlines():
        name, _, value = line.partition(" ")
        if value and pattern.search(name):
            out.append(
                Family.of(f"node_vmstat_{name}", "untyped", f"/proc/vmstat information field {name}.", float(value))
            )
    return out
