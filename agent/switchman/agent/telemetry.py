"""Turn collected families and events into spool batches."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator

from switchman.agent.collect.model import Family
from switchman.proto.v1 import common_pb2, controller_pb2


def to_series(families: Iterable[Family], ts_ms: int) -> Iterator[common_pb2.Series]:
    for fam in families:
        for labels, value in fam.samples:
            yield common_pb2.Series(name=fam.name, labels=dict(labels), timestamps_ms=[ts_ms], values=[value])


def make_batches(
    families: Iterable[Family],
    events: list[common_pb2.Event],
    ts_ms: int,
    max_samples: int,
    extra: Iterable[common_pb2.Series] = (),
) -> list[controller_pb2.TelemetryBatch]:
    """One batch per ``max_samples`` series (at least one batch when there
    are events); ``extra`` holds series with their own timestamps (probes)."""
    batches: list[controller_pb2.TelemetryBatch] = []
    current = controller_pb2.TelemetryBatch(events=events)
    for series in itertools.chain(to_series(families, ts_ms), extra):
        if len(current.series) >= max_samples:
            batches.append(current)
            current = controller_pb2.TelemetryBatch()
        current.series.append(series)
    if current.series or current.events:
        batches.append(current)
    return batches
