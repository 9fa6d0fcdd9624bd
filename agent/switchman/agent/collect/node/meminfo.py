"""``/proc/meminfo``: every field, as node_exporter's meminfo collector names it.

``Active(anon)`` becomes ``Active_anon``; a field with a unit (kB) is
multiplied by 1024 and gets ``_bytes``; one without (``HugePages_Total``)
keeps its count and its name.
"""

from __future__ import annotations

from switchman.agent.collect.model import Family
from switchman.agent.collect.node.paths import Paths, read_text


def parse_meminfo(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) not in (2, 3):
            continue
        key = parts[0].rstrip(":")
        if "(" in key:
            key = key.replace("(", "_").replace(")", "")
        value = float(parts[1])
        if len(parts) == 3:
            value *= 1024
            key += "_bytes"
        out[key] = value
    return out


def read_meminfo(paths: Paths) -> list[Family]:
    fields = parse_meminfo(read_text(paths.in_proc("meminfo")) or "")
    return [
        Family.of(
            f"node_memory_{key}",
            "counter" if key.endswith("_total") else "gauge",
            f"Memory information field {key}.",
            value,
        )
        for key, value in fields.items()
    ]
