"""Staleness markers and NaN samples through the controller's real store:
pushed by an agent, written when a host goes down, contradicted by a spool
replaying the outage, and honoured by the evaluator as Prometheus does."""

from __future__ import annotations

import math
from pathlib import Path

from switchman.agent.collect.model import Family
from switchman.agent.telemetry import StaleTracker, make_batches, target_labels
from switchman.controller.fleet import Host
from switchman.controller.promql import parse
from switchman.controller.promql.values import Sample
from switchman.controller.wiring import Controller, build, settings
from switchman.proto.staleness import STALE_NAN, is_stale
from switchman.proto.v1 import common_pb2, controller_pb2

from tests.helpers import in_own_loop

T0 = 1_800_000_000_000


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> int:
        return self.now


def push(series: list[tuple[str, dict[str, str], int, float]], seq: int) -> controller_pb2.TelemetryBatch:
    return controller_pb2.TelemetryBatch(
        sequence=seq,
        series=[common_pb2.Series(name=n, labels=lbl, timestamps_ms=[ts], values=[v]) for n, lbl, ts, v in series],
    )


def query(c: Controller, expr: str, t: int) -> list[Sample]:
    value = c.evaluator.instant(parse(expr), t)
    assert isinstance(value, list)
    return [s for s in value if isinstance(s, Sample)]


@in_own_loop(60)
async def test_nan_samples_are_stored_and_a_stale_marker_ends_a_series(tmp_path: Path) -> None:
    clock = Clock()
    c = await build(settings(tmp_path, heartbeat_ttl="10s"), clock_ms=clock)
    try:
        await c.fleet.register(Host("h1", "h1", "127.0.0.1:1", {}, "", [], T0, T0))
        # a NaN is a value (an exporter's empty summary), not an error that blocks the spool
        await c.ingest.push("h1", "e", [push([("q", {"quantile": "0.5"}, T0, math.nan), ("g", {}, T0, 1.0)], 1)])
        [nan] = query(c, "q", T0 + 1000)
        assert math.isnan(nan.v) and not is_stale(nan.v)
        await c.ingest.push("h1", "e", [push([("g", {}, T0 + 1000, STALE_NAN)], 2)])
        assert query(c, "g", T0 + 500) and not query(c, "g", T0 + 1000) and not query(c, "g", T0 + 60_000)
        assert [s.v for s in query(c, "count_over_time(g[5m])", T0 + 2000)] == [1.0]  # markers are not samples
    finally:
        await c.close()


@in_own_loop(60)
async def test_a_host_going_down_marks_its_series_stale_until_its_spool_replays_the_outage(tmp_path: Path) -> None:
    clock = Clock()
    c = await build(settings(tmp_path, heartbeat_ttl="10s"), clock_ms=clock)
    try:
        await c.fleet.register(Host("h1", "h1", "127.0.0.1:1", {}, "", [], T0, T0))
        await c.fleet.register(Host("h2", "h2", "127.0.0.1:2", {}, "", [], T0, T0))
        for host in ("h1", "h2"):
            await c.ingest.push(host, "e", [push([("node_load1", {}, T0, 0.5)], 1)])
        clock.now = T0 + 5_000
        c.fleet.heartbeat("h2")
        clock.now = T0 + 12_000  # h1's last heartbeat is older than the TTL
        await c.fleet.tick()
        down_at = clock.now
        hosts = {s.labels["host"] for s in query(c, "node_load1", down_at + 1000)}
        assert hosts == {"h2"}, "h1's sample is within the 5m lookback but its marker says it is gone"
        assert {s.labels["host"]: s.v for s in query(c, "up", down_at)} == {"h1": 0.0, "h2": 1.0}

        # h1 was only cut off: its spool replays samples through the outage, which contradict the marker
        replay = [push([("node_load1", {}, T0 + k * 4000, 0.5 + k)], 1 + k) for k in range(1, 6)]
        await c.ingest.push("h1", "e", replay)
        assert {s.labels["host"]: s.v for s in query(c, "node_load1", down_at + 1000)}["h1"] == 3.5
    finally:
        await c.close()


def test_series_gone_from_a_collection_get_a_marker_once() -> None:
    tracker = StaleTracker()
    target = target_labels("h1", "node")

    def collect(mounts: list[str], ts: int) -> list[common_pb2.Series]:
        fam = Family("node_filesystem_avail_bytes", "gauge", "")
        for m in mounts:
            fam.add(1.0, ("mountpoint", m))
        return [s for b in make_batches([fam], [], ts, 100, (), target, tracker) for s in b.series]

    assert all(not is_stale(s.values[0]) for s in collect(["/", "/data"], 1000))
    second = collect(["/"], 2000)
    [marker] = [s for s in second if is_stale(s.values[0])]
    assert dict(marker.labels) == {"mountpoint": "/data", "instance": "h1", "job": "node"}
    assert list(marker.timestamps_ms) == [2000]
    assert not any(is_stale(s.values[0]) for s in collect(["/"], 3000))  # once


def test_the_marker_survives_the_wire() -> None:
    wire = common_pb2.Series.FromString(common_pb2.Series(values=[STALE_NAN, math.nan]).SerializeToString())
    assert is_stale(wire.values[0]) and not is_stale(wire.values[1])
