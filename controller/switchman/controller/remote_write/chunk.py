"""A chunk: the log rows one round sends, split into shards (by series, so
one series' samples stay in one shard, in order) and each shard into
requests of at most ``max_samples_per_send`` samples. The split depends only
on the rows and the queue settings, so a chunk re-read after a crash is sent
as the same requests: a receiver that already committed one refuses it whole
or took it whole, and never sees old and new samples mixed."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from switchman.controller.promql.values import STALE_NAN
from switchman.controller.remote_write.encode import LabelPairs, SeriesBatch, encode
from switchman.controller.store.sqlite.remote_write import LogRow

Labeller = Callable[[int], LabelPairs | None]  # series id -> labels to send, None: not sent


@dataclass
class Request:
    batches: list[SeriesBatch]
    _body: bytes = b""

    def body(self) -> bytes:
        """The encoded body (encoded once, however often it is sent)."""
        if not self._body:
            self._body = encode(self.batches)
        return self._body

    @property
    def samples(self) -> int:
        return sum(len(b.samples) for b in self.batches)


@dataclass
class Shard:
    requests: list[Request]
    done: int = 0  # requests answered so far

    @property
    def finished(self) -> bool:
        return self.done >= len(self.requests)


@dataclass
class Chunk:
    end: int  # the last log row it covers
    shards: list[Shard]
    expired: int = 0  # rows whose sample raw retention deleted before it was sent
    dropped_by_relabel: int = 0  # samples of series write_relabel drops

    @property
    def finished(self) -> bool:
        return all(s.finished for s in self.shards)

    @property
    def samples(self) -> int:
        return sum(r.samples for s in self.shards for r in s.requests)


def value_of(row: LogRow) -> float | None:
    """The row's sample value (stale marker or NaN from ``nan_samples``), None when the sample is gone."""
    _, _, _, value, stale = row
    if stale is not None:
        return STALE_NAN if stale else math.nan
    return value


def make_chunk(
    rows: Sequence[LogRow], labeller: Labeller, shards: int, max_per_send: int, expired_before_ms: int
) -> Chunk:
    """``rows`` (in log order, not empty) as shards of requests. A row whose
    sample is gone is left out: older than ``expired_before_ms``, retention
    deleted it (counted); else a replay cleared that staleness marker."""
    per_series: dict[int, dict[int, float]] = {}
    expired = 0
    for row in rows:
        _, sid, ts, _, _ = row
        v = value_of(row)
        if v is None:
            expired += ts < expired_before_ms
            continue
        per_series.setdefault(sid, {})[ts] = v  # the same (series, ts) twice: once, its current value
    groups: list[list[SeriesBatch]] = [[] for _ in range(shards)]
    relabelled = 0
    for sid, points in per_series.items():
        labels = labeller(sid)
        if labels is None:
            relabelled += len(points)
            continue
        groups[sid % shards].append(SeriesBatch(labels, sorted(points.items())))
    return Chunk(
        end=rows[-1][0],
        shards=[Shard(_requests(g, max_per_send)) for g in groups if g],
        expired=expired,
        dropped_by_relabel=relabelled,
    )


def _requests(batches: Sequence[SeriesBatch], max_per_send: int) -> list[Request]:
    """Fill requests up to ``max_per_send`` samples, a long series split across two in order."""
    out: list[Request] = []
    current: list[SeriesBatch] = []
    room = max_per_send
    for b in batches:
        samples = list(b.samples)
        while samples:
            take, samples = samples[:room], samples[room:]
            current.append(SeriesBatch(b.labels, take))
            room -= len(take)
            if room == 0:
                out.append(Request(current))
                current, room = [], max_per_send
    if current:
        out.append(Request(current))
    return out
