"""PushTelemetry handling: validate, intern series, store samples and events,
de-duplicate by (host, spool epoch, sequence), acknowledge only what is committed."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import repeat

from switchman.controller.errors import Conflict, InvalidArgument
from switchman.controller.store.series import LabelPairs, SeriesIndex
from switchman.controller.store.sqlite import timeseries as ts_sql
from switchman.controller.store.writer import Writer
from switchman.proto.v1 import controller_pb2
from switchman.proto.validate import ValidationError, check_labels, check_metric_name

MAX_EVENT_TEXT = 4096
REPLAY_SLACK_MS = 60_000


@dataclass
class Cursor:
    epoch: str
    acked: int


@dataclass(frozen=True)
class PushResult:
    acked: int
    stored: int
    duplicates: int


class Ingestor:
    def __init__(self, writer: Writer, index: SeriesIndex, clock_ms: Callable[[], int]) -> None:
        self._writer = writer
        self._index = index
        self._now = clock_ms
        self.cursors: dict[str, Cursor] = {}
        # (host, name, labels as the agent sent them) -> series id
        self._ids: dict[tuple[str, str, LabelPairs], int] = {}
        # hosts whose series got staleness markers when they went down, and when:
        # what their spools replay around that time contradicts the markers
        self._marked: dict[str, int] = {}
        self.samples_total = 0
        self.batches_total = 0
        self.duplicates_total = 0

    def load(self, conn: sqlite3.Connection) -> None:
        for host_id, epoch, acked in ts_sql.load_cursors(conn):
            self.cursors[host_id] = Cursor(epoch, acked)

    def acked(self, host_id: str, epoch: str) -> int:
        c = self.cursors.get(host_id)
        return c.acked if c is not None and c.epoch == epoch else 0

    async def push(self, host_id: str, epoch: str, batches: Sequence[controller_pb2.TelemetryBatch]) -> PushResult:
        if not epoch:
            raise InvalidArgument("spool_epoch: must not be empty")
        last = 0
        for b in batches:
            first = b.first_sequence or b.sequence
            if b.sequence == 0 or first > b.sequence or first <= last:
                raise InvalidArgument(
                    f"batches: sequences must be positive and increasing (got {first}..{b.sequence} after {last})"
                )
            last = b.sequence
        return await self._writer.run(lambda conn: self._apply(conn, host_id, epoch, batches))

    def _apply(
        self, conn: sqlite3.Connection, host_id: str, epoch: str, batches: Sequence[controller_pb2.TelemetryBatch]
    ) -> PushResult:
        """Runs in the writer thread, inside the transaction."""
        now = self._now()
        previous = self.cursors.get(host_id)
        acked = previous.acked if previous is not None and previous.epoch == epoch else 0
        rows: list[tuple[int, int, float]] = []
        events: list[tuple[object, ...]] = []
        dups = 0
        for b in batches:
            first = b.first_sequence or b.sequence
            if b.sequence <= acked:
                dups += 1
                continue
            if first <= acked:
                raise Conflict(
                    f"batch {first}..{b.sequence} overlaps sequence {acked} already committed; register again"
                )
            for s in b.series:
                key = (host_id, s.name, tuple(sorted(s.labels.items())))
                sid = self._ids.get(key)
                if sid is None:
                    sid = self._new_series(conn, key, now)
                if len(s.timestamps_ms) != len(s.values):
                    raise InvalidArgument(
                        f"series {s.name}: {len(s.timestamps_ms)} timestamps but {len(s.values)} values"
                    )
                rows.extend(zip(repeat(sid), s.timestamps_ms, s.values))
            for e in b.events:
                events.append(
                    (
                        host_id,
                        e.timestamp_ms or now,
                        e.kind[:200],
                        int(e.severity),
                        e.service[:200],
                        e.message[:MAX_EVENT_TEXT],
                        json.dumps(dict(e.attributes))[:MAX_EVENT_TEXT],
                    )
                )
            acked = b.sequence
        if host_id in self._marked:
            self._replayed(conn, host_id, rows)
        ts_sql.insert_rows(conn, rows)
        if events:
            ts_sql.insert_events(conn, events)
        if previous is None or previous.acked != acked or previous.epoch != epoch:
            ts_sql.save_cursor(conn, host_id, epoch, acked)
            self.cursors[host_id] = Cursor(epoch, acked)
            self._writer.on_rollback(lambda: self._restore(host_id, previous))
        stored = len(rows)

        def count() -> None:
            self.samples_total += stored
            self.batches_total += len(batches) - dups
            self.duplicates_total += dups

        self._writer.on_commit(count)
        return PushResult(acked, stored, dups)

    def host_down(self, conn: sqlite3.Connection, host_id: str, now: int) -> None:
        """A staleness marker on every series the host pushed (Prometheus marks
        a target's series stale when its scrape fails). Writer thread."""
        ts_sql.mark_stale(conn, [sid for (host, _, _), sid in self._ids.items() if host == host_id], now)
        self._marked[host_id] = now

    def _replayed(self, conn: sqlite3.Connection, host_id: str, rows: list[tuple[int, int, float]]) -> None:
        """Samples a spool kept through the outage: the host was there after all,
        so the markers within a minute of them go."""
        marked = self._marked[host_id]
        spans: dict[int, tuple[int, int]] = {}
        for sid, ts, _ in rows:
            lo, hi = spans.get(sid, (ts, ts))
            spans[sid] = (min(lo, ts), max(hi, ts))
        ts_sql.clear_stale(conn, [(sid, lo - REPLAY_SLACK_MS, hi) for sid, (lo, hi) in spans.items()])
        if rows and min(ts for _, ts, _ in rows) > marked + REPLAY_SLACK_MS:
            del self._marked[host_id]  # the replay is past the outage

    def _restore(self, host_id: str, previous: Cursor | None) -> None:
        if previous is None:
            self.cursors.pop(host_id, None)
        else:
            self.cursors[host_id] = previous

    def _forget(self, key: tuple[str, str, LabelPairs]) -> None:
        self._ids.pop(key, None)

    def _new_series(self, conn: sqlite3.Connection, key: tuple[str, str, LabelPairs], now: int) -> int:
        host_id, name, labels = key
        try:
            check_metric_name(name)
            check_labels(f"series {name}", dict(labels))
        except ValidationError as exc:
            raise InvalidArgument(str(exc)) from None
        full = tuple(sorted({**dict(labels), "host": host_id}.items()))  # the controller's host label wins
        sid = self._index.intern(conn, self._writer, name, full, host_id, now)
        self._ids[key] = sid
        self._writer.on_rollback(lambda: self._forget(key))
        return sid
