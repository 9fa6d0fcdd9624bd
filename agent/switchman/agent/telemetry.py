"""Turn collected families and events into spool batches."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator

from switchman.agent.collect.model import Family, Labels
from switchman.proto.staleness import STALE_NAN
from switchman.proto.v1 import common_pb2, controller_pb2

BLACKBOX_JOB = "blackbox"  # the job of probe results, as blackbox_exporter's usually is


def target_labels(host_id: str, job: str) -> Labels:
    """``instance`` and ``job`` as Prometheus sets them on a target's series."""
    return (("instance", host_id), ("job", job))


def to_series(families: Iterable[Family], ts_ms: int, target: Labels = ()) -> Iterator[common_pb2.Series]:
    """One series per sample; ``target`` (``job``, ``instance``) is added as
    Prometheus adds a target's labels to what it scrapes, winning over an
    exposed label of the same name."""
    for fam in families:
        for name, labels, value in fam.named():
            yield common_pb2.Series(
                name=name, labels={**dict(labels), **dict(target)}, timestamps_ms=[ts_ms], values=[value]
            )


class StaleTracker:
    """Remembers the series of the last collection; those missing from the
    next get a staleness marker, as Prometheus writes when a series leaves a
    scrape (a filesystem unmounted, an interface removed, a slot stopped)."""

    def __init__(self) -> None:
        self._last: set[tuple[str, Labels]] = set()

    def markers(self, series: Iterable[common_pb2.Series], ts_ms: int) -> list[common_pb2.Series]:
        now = {(s.name, tuple(sorted(s.labels.items()))) for s in series}
        gone = self._last - now
        self._last = now
        return [
            common_pb2.Series(name=name, labels=dict(labels), timestamps_ms=[ts_ms], values=[STALE_NAN])
            for name, labels in sorted(gone)
        ]


def make_batches(
    families: Iterable[Family],
    events: list[common_pb2.Event],
    ts_ms: int,
    max_samples: int,
    extra: Iterable[common_pb2.Series] = (),
    target: Labels = (),
    stale: StaleTracker | None = None,
) -> list[controller_pb2.TelemetryBatch]:
    """One batch per ``max_samples`` series (at least one batch when there
    are events); ``extra`` holds series with their own timestamps and target
    labels (probes); ``target`` is the families' ``job`` and ``instance``;
    ``stale`` adds markers for the families' series gone since its last call."""
    batches: list[controller_pb2.TelemetryBatch] = []
    current = controller_pb2.TelemetryBatch(events=events)
    collected: Iterable[common_pb2.Series] = to_series(families, ts_ms, target)
    if stale is not None:
        collected = list(collected)
        collected = [*collected, *stale.markers(collected, ts_ms)]
    for series in itertools.chain(collected, extra):
        if len(current.series) >= max_samples:
            batches.append(current)
            current = controller_pb2.TelemetryBatch()
        current.series.append(series)
    if current.series or current.events:
        batches.append(current)
    return batches
