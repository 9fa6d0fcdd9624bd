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
from switchman.proto.v1 import common_pb2, controller_pb2
from switchman.proto.validate import ValidationError, check_labels, check_metric_name

MAX_EVENT_TEXT = 4096
REPLAY_SLACK_MS = 60_000
Key = tuple[str, str, LabelPairs]  # (host, metric name, labels as the agent sent them)


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
        self._ids: dict[Key, int] = {}
        self._of_host: dict[str, set[int]] = {}  # the series ids each host pushed (its staleness markers)
        # hosts whose series got staleness markers when they went down, and when:
        # what their spools replay around that time contradicts the markers
        self._marked: dict[str, int] = {}
        self.samples_total = 0
        self.batches_total = 0
        self.duplicates_total = 0

    def load(self, conn: sqlite3.Connection) -> None:
        """The push cursors, and every stored series under the key its host pushes
        it by: after a restart, a fleet's first pushes find their series at once."""
        for host_id, epoch, acked in ts_sql.load_cursors(conn):
            self.cursors[host_id] = Cursor(epoch, acked)
        for info in self._index.all():
            host = next((v for k, v in info.labels if k == "host"), None)
            if host is not None:
                self._ids[(host, info.name, tuple(p for p in info.labels if p[0] != "host"))] = info.id
                self._of_host.setdefault(host, set()).add(info.id)

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
        fresh: list[tuple[int, Key, common_pb2.Series]] = []  # (where in rows, key, series) of new series
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
                if len(s.timestamps_ms) != len(s.values):
                    raise InvalidArgument(
                        f"series {s.name}: {len(s.timestamps_ms)} timestamps but {len(s.values)} values"
                    )
                sid = self._ids.get(key)
                if sid is None:
                    fresh.append((len(rows), key, s))
                    continue
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
        if fresh:
            rows = self._with_new_series(conn, rows, fresh, now)
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
        ts_sql.mark_stale(conn, sorted(self._of_host.get(host_id, ())), now)
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

    def _forget_all(self, ids: dict[Key, int]) -> None:
        for key, sid in ids.items():
            self._ids.pop(key, None)
            self._of_host.get(key[0], set()).discard(sid)

    def _with_new_series(
        self,
        conn: sqlite3.Connection,
        rows: list[tuple[int, int, float]],
        fresh: list[tuple[int, Key, common_pb2.Series]],
        now: int,
    ) -> list[tuple[int, int, float]]:
        """``rows`` with the samples of the series this push is the first to
        bring, those series validated and interned together."""
        keys = list(dict.fromkeys(key for _, key, _ in fresh))
        for _, name, labels in keys:
            try:
                check_metric_name(name)
                check_labels(f"series {name}", dict(labels))
            except ValidationError as exc:
                raise InvalidArgument(str(exc)) from None
        host_id = keys[0][0]
        # the controller's host label wins over one the agent sent
        full = [(name, tuple(sorted({**dict(labels), "host": host_id}.items()))) for _, name, labels in keys]
        ids = dict(zip(keys, self._index.intern_many(conn, self._writer, full, host_id, now), strict=True))
        self._ids.update(ids)
        self._of_host.setdefault(host_id, set()).update(ids.values())
        self._writer.on_rollback(lambda: self._forget_all(ids))
        out: list[tuple[int, int, float]] = []
        done = 0
        for at, key, s in fresh:  # in the order the push sent them (a later sample of a series replaces an earlier)
            out.extend(rows[done:at])
            done = at
            out.extend(zip(repeat(ids[key]), s.timestamps_ms, s.values))
        out.extend(rows[done:])
        return out
