"""``/proc/pressure`` (PSI, Linux 4.20+): node_exporter's pressure collector.

The ``total=`` of a ``some``/``full`` line is in microseconds; node_exporter
1.5 exports cpu ``some`` and io/memory ``some`` and ``full``.
"""

from __future__ import annotations

from switchman.agent.collect.model import Family
from switchman.agent.collect.node.paths import Paths, read_text

# (resource, line, name, help)
_SERIES = (
    ("cpu", "some", "node_pressure_cpu_waiting_seconds_total", "Total time in seconds that processes have waited for CPU time"),
    ("io", "some", "node_pressure_io_waiting_seconds_total", "Total time in seconds that processes have waited due to IO congestion"),
    ("io", "full", "node_pressure_io_stalled_seconds_total", "Total time in seconds no process could make progress due to IO congestion"),
    ("memory", "some", "node_pressure_memory_waiting_seconds_total", "Total time in seconds that processes have waited for memory"),
    ("memory", "full", "node_pressure_memory_stalled_seconds_total", "Total time in seconds no process could make progress due to memory congestion"),
)  # fmt: skip


def _totals(text: str) -> dict[str, float]:
    out = {}
    for line in text.splitlines():
        kind, _, rest = line.partition(" ")
        for field in rest.split():
            if field.startswith("total="):
                out[kind] = int(field[6:]) / 1e6
    return out


def read_pressure(paths: Paths) -> list[Family]:
    totals = {res: _totals(read_text(paths.in_proc("pressure", res)) or "") for res in ("cpu", "io", "memory")}
    out = []
    for res, line, name, text in _SERIES:
        fam = Family(name, "counter", text)
        if line in totals[res]:
            fam.add(totals[res][line])
        out.append(fam)
    return out
