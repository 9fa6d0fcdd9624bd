"""The console's reads of telemetry: the same evaluator as the Prometheus
API, one query per panel for all the hosts of a page (never one per host)."""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Sequence

from switchman.controller.promql import parse
from switchman.controller.promql.values import Sample, Series
from switchman.controller.wiring import Controller

VITALS = {
    "cpu": '100 * (1 - avg by (host) (rate(node_cpu_seconds_total{{mode="idle",host=~"{hosts}"}}[1m])))',
    "memory": (
        '100 * (1 - node_memory_MemAvailable_bytes{{host=~"{hosts}"}}'
        ' / on(host) node_memory_MemTotal_bytes{{host=~"{hosts}"}})'
    ),
    "disk": (
        '100 * max by (host) (1 - node_filesystem_avail_bytes{{mountpoint="/",host=~"{hosts}"}}'
        ' / on(host, mountpoint, device) node_filesystem_size_bytes{{mountpoint="/",host=~"{hosts}"}})'
    ),
}

HOST_CHARTS = (
    ("CPU busy %", '100 * (1 - avg by (host) (rate(node_cpu_seconds_total{{mode="idle",host="{host}"}}[1m])))'),
    (
        "Memory used %",
        '100 * (1 - node_memory_MemAvailable_bytes{{host="{host}"}} / node_memory_MemTotal_bytes{{host="{host}"}})',
    ),
    ("Load (1m)", 'node_load1{{host="{host}"}}'),
    (
        "Network received bytes/s",
        'sum by (host) (rate(node_network_receive_bytes_total{{host="{host}",device!="lo"}}[1m]))',
    ),
)


def alternation(hosts: Sequence[str]) -> str:
    """A regex matching exactly these names, quoted for a PromQL string."""
    pattern = "|".join(re.escape(h) for h in hosts)
    return pattern.replace("\\", "\\\\").replace('"', '\\"')


async def instant(core: Controller, expr: str) -> list[Sample]:
    node = parse(expr)
    value = await asyncio.to_thread(core.evaluator.instant, node, core.clock_ms())
    return [s for s in value if isinstance(s, Sample)] if isinstance(value, list) else []


async def ranged(core: Controller, expr: str, seconds: int, points: int = 120) -> list[Series]:
    end = core.clock_ms()
    step = max(1000, seconds * 1000 // points)
    node = parse(expr)
    return list(await asyncio.to_thread(core.evaluator.range, node, end - seconds * 1000, end, step))


async def vitals(core: Controller, hosts: Sequence[str]) -> dict[str, dict[str, float]]:
    """host -> {cpu, memory, disk} in percent, for the hosts given."""
    out: dict[str, dict[str, float]] = {h: {} for h in hosts}
    if not hosts:
        return out
    pattern = alternation(hosts)
    for name, template in VITALS.items():
        for s in await instant(core, template.format(hosts=pattern)):
            host = s.labels.get("host", "")
            if host in out and math.isfinite(s.v):
                out[host][name] = s.v
    return out
