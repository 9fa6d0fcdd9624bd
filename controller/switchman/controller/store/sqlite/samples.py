"""PromQL reads from the SQLite store: raw samples, and rollups for the
part of a window older than raw retention."""

from __future__ import annotations

import itertools
import math
import sqlite3
from collections.abc import Callable, Sequence

import numpy as np
from switchman.controller.promql.ast import Matcher
from switchman.controller.promql.source import match_series
from switchman.controller.promql.values import STALE_NAN, Series
from switchman.controller.promql.windows import Block, Floats
from switchman.controller.store.series import SeriesIndex

ROLLUPS = (("rollup_1m", 60_000), ("rollup_1h", 3_600_000))


class StoreSource:
    """Reads raw samples where they are kept, and 1-minute / 1-hour rollups
    (their ``last`` value at the end of each bucket) for older parts of the
    window."""

    def __init__(
        self,
        index: SeriesIndex,
        reader: Callable[[], sqlite3.Connection],
        raw_retention_ms: int,
        rollup_retention_ms: Sequence[int] = (30 * 86_400_000, 400 * 86_400_000),
        now_ms: Callable[[], int] | None = None,
    ) -> None:
        self._index = index
        self._reader = reader
        self._raw_retention_ms = raw_retention_ms
        self._rollup_retention_ms = rollup_retention_ms
        self._now_ms = now_ms

    def select_block(self, matchers: Sequence[Matcher], start_ms: int, end_ms: int) -> Block:
        """:meth:`select` read straight into arrays (no list per series); a
        window reaching past raw retention reads as :meth:`select` does."""
        if self._now_ms is not None and start_ms < self._now_ms() - self._raw_retention_ms:
            return Block.of(self.select(matchers, start_ms, end_ms))
        return self._read_block(matchers, start_ms, end_ms, "ORDER BY series_id, ts")

    def select_latest(self, matchers: Sequence[Matcher], start_ms: int, end_ms: int) -> Block:
        """What an instant selector at ``end_ms`` needs of :meth:`select_block`:
        per series its newest sample in the window (and its newest NaN or
        staleness marker, which wins on the same time, as in :meth:`select`)."""
        if self._now_ms is not None and start_ms < self._now_ms() - self._raw_retention_ms:
            return Block.of(self.select(matchers, start_ms, end_ms))
        return self._read_block(matchers, start_ms, end_ms, "GROUP BY series_id", "max(ts)")

    def _read_block(
        self, matchers: Sequence[Matcher], start_ms: int, end_ms: int, tail: str, time: str = "ts"
    ) -> Block:
        infos = match_series(self._index, matchers)
        conn = self._reader()
        ids = [i.id for i in infos]
        parts: list[Floats] = []
        nans: list[tuple[int, int, int]] = []
        for chunk_start in range(0, len(ids), 900):
            chunk = ids[chunk_start : chunk_start + 900]
            marks = ",".join("?" * len(chunk))
            # SQLite: a bare column next to max() comes from the row holding the maximum
            rows = conn.execute(
                f"SELECT series_id, {time}, value FROM samples WHERE series_id IN ({marks}) AND ts >= ? AND ts <= ? "
                + tail,
                (*chunk, start_ms, end_ms),
            )
            # streamed, not fetched: a row's tuple dies at once, so no garbage collection runs over them all;
            # ids and times are integers below 2**53, exact as doubles
            parts.append(np.fromiter(itertools.chain.from_iterable(rows), np.float64).reshape(-1, 3))
            nans += conn.execute(
                f"SELECT series_id, {time}, stale FROM nan_samples WHERE series_id IN ({marks}) AND ts >= ? AND ts <= ?"
                + ("" if tail.startswith("ORDER") else " " + tail),
                (*chunk, start_ms, end_ms),
            ).fetchall()
        table = np.concatenate(parts) if parts else np.zeros((0, 3))
        sid, ts, vs = table[:, 0].astype(np.int64), table[:, 1].astype(np.int64), table[:, 2].copy()
        stale_ids: set[int] = set()
        if nans:
            extra = np.array(nans, dtype=np.int64).reshape(-1, 3)
            marker = np.where(extra[:, 2] != 0, STALE_NAN, math.nan)
            sid, ts, vs = (
                np.concatenate((sid, extra[:, 0])),
                np.concatenate((ts, extra[:, 1])),
                np.concatenate((vs, marker)),
            )
            order = np.lexsort((ts, sid))
            sid, ts, vs = sid[order], ts[order], vs[order]
            stale_ids = {int(i) for i, _, st in nans if st}
        # rows in the order of `infos`, series without samples left out
        known = np.array(ids, dtype=np.int64)
        by_id = np.argsort(known)
        rank = by_id[np.searchsorted(known[by_id], sid)] if len(sid) else sid
        order = np.argsort(rank, kind="stable")
        rank, ts, vs = rank[order], ts[order], vs[order]
        present, first = np.unique(rank, return_index=True)
        end = np.append(first[1:], len(rank)).astype(np.int64) if len(first) else first.astype(np.int64)
        kept = [infos[int(n)] for n in present]
        unnamed = [dict(i.labels) for i in kept]
        labels = [{"__name__": i.name, **rest} for i, rest in zip(kept, unnamed, strict=True)]
        stale = np.fromiter((i.id in stale_ids for i in kept), np.bool_, len(kept))
        block = Block(labels, ts, vs, first.astype(np.int64), end, stale)
        block.cached("unnamed", lambda: unnamed)  # what range functions label their results with
        return block

    def select(self, matchers: Sequence[Matcher], start_ms: int, end_ms: int) -> list[Series]:
        infos = match_series(self._index, matchers)
        if not infos:
            return []
        by_id = {i.id: Series({"__name__": i.name, **dict(i.labels)}) for i in infos}
        conn = self._reader()
        raw_from = start_ms
        if self._now_ms is not None:
            raw_from = max(start_ms, self._now_ms() - self._raw_retention_ms)
            self._read_rollups(conn, by_id, start_ms, raw_from)
        ids = list(by_id)
        for chunk_start in range(0, len(ids), 900):
            chunk = ids[chunk_start : chunk_start + 900]
            marks = ",".join("?" * len(chunk))
            for sid, ts, v in conn.execute(
                f"SELECT series_id, ts, value FROM samples WHERE series_id IN ({marks}) AND ts >= ? AND ts <= ? "
                "ORDER BY series_id, ts",
                (*chunk, raw_from, end_ms),
            ):
                s = by_id[sid]
                s.ts.append(ts)
                s.vs.append(v)
            self._merge_nans(conn, by_id, chunk, raw_from, end_ms)
        return [s for s in by_id.values() if s.ts]

    @staticmethod
    def _merge_nans(
        conn: sqlite3.Connection, by_id: dict[int, Series], chunk: list[int], start_ms: int, end_ms: int
    ) -> None:
        """NaN samples and staleness markers (``nan_samples``) into the series read so far, in time order."""
        marks = ",".join("?" * len(chunk))
        touched: set[int] = set()
        for sid, ts, stale in conn.execute(
            f"SELECT series_id, ts, stale FROM nan_samples WHERE series_id IN ({marks}) AND ts >= ? AND ts <= ?",
            (*chunk, start_ms, end_ms),
        ):
            s = by_id[sid]
            s.ts.append(ts)
            s.vs.append(STALE_NAN if stale else math.nan)
            s.stale = s.stale or bool(stale)
            touched.add(sid)
        for sid in touched:
            s = by_id[sid]
            points = sorted(zip(s.ts, s.vs, strict=True), key=lambda p: p[0])
            s.ts[:] = [t for t, _ in points]
            s.vs[:] = [v for _, v in points]

    def _read_rollups(self, conn: sqlite3.Connection, by_id: dict[int, Series], start_ms: int, until_ms: int) -> None:
        """Fill the part of the window older than raw retention from rollups,
        the finest resolution that still covers it."""
        if start_ms >= until_ms or self._now_ms is None:
            return
        now = self._now_ms()
        ids = list(by_id)
        for (table, width), keep in zip(ROLLUPS, self._rollup_retention_ms, strict=True):
            if start_ms < now - keep:
                continue
            for chunk_start in range(0, len(ids), 900):
                chunk = ids[chunk_start : chunk_start + 900]
                marks = ",".join("?" * len(chunk))
                for sid, ts, last in conn.execute(
                    f"SELECT series_id, ts, last FROM {table} WHERE series_id IN ({marks}) "
                    "AND ts + ? >= ? AND ts + ? < ? ORDER BY series_id, ts",
                    (*chunk, width, start_ms, width, until_ms),
                ):
                    s = by_id[sid]
                    s.ts.append(ts + width)
                    s.vs.append(last)
            return


class SeriesCatalog:
    """Which series exist in a time range (the ``series``, ``labels`` and
    ``label/<name>/values`` endpoints), without reading their samples."""

    def __init__(self, index: SeriesIndex, reader: Callable[[], sqlite3.Connection]) -> None:
        self._index = index
        self._reader = reader

    def series(self, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int) -> list[dict[str, str]]:
        """Label sets (``__name__`` included) of the series matching any of
        ``matcher_sets`` (every series when empty) with a raw sample or a
        1-minute rollup in ``[start_ms, end_ms]``, sorted as Prometheus sorts them."""
        if matcher_sets:
            found = {i.id: i for ms in matcher_sets for i in match_series(self._index, ms)}
        else:
            found = {i.id: i for i in self._index.all()}
        if start_ms <= -UNBOUNDED_MS and end_ms >= UNBOUNDED_MS:  # no time range asked: every series known
            return _sorted([{"__name__": i.name, **dict(i.labels)} for i in found.values()])
        conn = self._reader()
        live = [
            info
            for sid, info in found.items()
            if conn.execute(
                "SELECT EXISTS (SELECT 1 FROM samples WHERE series_id = ? AND ts BETWEEN ? AND ?)"
                " OR EXISTS (SELECT 1 FROM rollup_1m WHERE series_id = ? AND ts BETWEEN ? AND ?)",
                (sid, start_ms, end_ms, sid, start_ms - 60_000, end_ms),
            ).fetchone()[0]
        ]
        return _sorted([{"__name__": i.name, **dict(i.labels)} for i in live])


UNBOUNDED_MS = 9 * 10**15  # (year 287,000) beyond this a start or end is "no bound" (Prometheus' min and max times)


def _sorted(series: list[dict[str, str]]) -> list[dict[str, str]]:
    """In Prometheus' series order: by label pairs, name included."""
    return sorted(series, key=lambda labels: sorted(labels.items()))
