"""Interned series: one row per metric name + label set, cached in memory.

The index is loaded once at start; new series are inserted by the writer
thread and become visible to readers only after their transaction commits.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from switchman.controller.store.sqlite.rows import write_rows
from switchman.controller.store.writer import Writer

if TYPE_CHECKING:
    from switchman.controller.promql.values import Sample

LabelPairs = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class SeriesInfo:
    id: int
    name: str
    labels: LabelPairs  # sorted, including __name__? no: name is separate; host included

    def label_dict(self) -> dict[str, str]:
        return dict(self.labels)


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def canonical(labels: LabelPairs) -> str:
    """Labels as a JSON object with sorted keys (the pairs arrive sorted)."""
    return _ENCODER.encode(dict(labels))


class SeriesIndex:
    """Series ids by (name, labels) and by name. Thread-safe for readers;
    mutated only from the writer thread."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, LabelPairs], int] = {}
        self._info: dict[int, SeriesInfo] = {}
        self._by_name: dict[str, list[int]] = {}
        # (name, label) -> label value -> ids: built when a selector first asks, dropped when the name changes
        self._postings: dict[tuple[str, str], dict[str, list[int]]] = {}
        self._lock = threading.Lock()
        self._top = 0  # the largest id handed out: the writer numbers new series itself

    def load(self, conn: sqlite3.Connection) -> None:
        infos = [
            SeriesInfo(sid, name, tuple(sorted(json.loads(labels).items())))
            for sid, name, labels in conn.execute("SELECT id, name, labels FROM series")
        ]
        self._add_all(infos)

    def _add(self, info: SeriesInfo) -> None:
        self._add_all([info])

    def _add_all(self, infos: Sequence[SeriesInfo]) -> None:
        with self._lock:
            names = set()
            for info in infos:
                self._by_key[(info.name, info.labels)] = info.id
                self._info[info.id] = info
                self._by_name.setdefault(info.name, []).append(info.id)
                names.add(info.name)
                self._top = max(self._top, info.id)
            for name in names:
                self._forget_postings(name)

    def _forget_postings(self, name: str) -> None:
        if self._postings:
            for key in [k for k in self._postings if k[0] == name]:
                del self._postings[key]

    def _remove(self, info: SeriesInfo) -> None:
        self._remove_all([info], self._top)

    def _remove_all(self, infos: Sequence[SeriesInfo], top_before: int) -> None:
        """Undo :meth:`intern_many` (its transaction rolled back)."""
        with self._lock:
            for info in infos:
                self._by_key.pop((info.name, info.labels), None)
                self._info.pop(info.id, None)
                ids = self._by_name.get(info.name)
                if ids and info.id in ids:
                    ids.remove(info.id)
                self._forget_postings(info.name)
            self._top = min(self._top, top_before)

    def __len__(self) -> int:
        return len(self._info)

    def get(self, name: str, labels: LabelPairs) -> int | None:
        return self._by_key.get((name, labels))

    def intern(
        self, conn: sqlite3.Connection, writer: Writer, name: str, labels: LabelPairs, host_id: str, now_ms: int
    ) -> int:
        """The id of (name, labels), inserting the series when new. Writer thread only."""
        sid = self._by_key.get((name, labels))
        if sid is not None:
            return sid
        return self.intern_many(conn, writer, [(name, labels)], host_id, now_ms)[0]

    def intern_many(
        self,
        conn: sqlite3.Connection,
        writer: Writer,
        keys: Sequence[tuple[str, LabelPairs]],
        host_id: str,
        now_ms: int,
    ) -> list[int]:
        """The ids of the (name, labels) keys, in order; the new ones are numbered
        here and inserted with one statement (a host's first push brings all
        its series at once). Writer thread only."""
        ids: list[int] = []
        new: list[SeriesInfo] = []
        top_before = self._top
        fresh: dict[tuple[str, LabelPairs], int] = {}
        for name, labels in keys:
            sid = self._by_key.get((name, labels)) or fresh.get((name, labels))
            if sid is None:
                sid = top_before + len(new) + 1
                new.append(SeriesInfo(sid, name, labels))
                fresh[(name, labels)] = sid
            ids.append(sid)
        if new:
            conn.executemany(
                "INSERT INTO series (id, name, labels, host_id, created_ms) VALUES (?, ?, ?, ?, ?)",
                [(i.id, i.name, canonical(i.labels), host_id, now_ms) for i in new],
            )
            self._add_all(new)
            writer.on_rollback(lambda: self._remove_all(new, top_before))
        return ids

    def info(self, sid: int) -> SeriesInfo | None:
        return self._info.get(sid)

    def by_name(self, name: str) -> list[SeriesInfo]:
        with self._lock:
            ids = list(self._by_name.get(name, ()))
        return [self._info[i] for i in ids if i in self._info]

    def count(self, name: str) -> int:
        with self._lock:
            return len(self._by_name.get(name, ()))

    def postings(self, name: str, label: str) -> dict[str, list[int]]:
        """The ids of ``name``'s series by their value of ``label`` (series
        without it are not listed). Built once per (name, label), kept until a
        series of ``name`` comes or goes."""
        with self._lock:
            found = self._postings.get((name, label))
            if found is None:
                found = {}
                for i in self._by_name.get(name, ()):
                    value = next((v for k, v in self._info[i].labels if k == label), None)
                    if value is not None:
                        found.setdefault(value, []).append(i)
                self._postings[(name, label)] = found
            return found

    def infos(self, ids: Iterable[int]) -> list[SeriesInfo]:
        with self._lock:
            return [self._info[i] for i in ids if i in self._info]

    def all(self) -> list[SeriesInfo]:
        with self._lock:
            return list(self._info.values())

    def names(self) -> Iterable[str]:
        with self._lock:
            return list(self._by_name)


def insert_samples(
    conn: sqlite3.Connection, index: SeriesIndex, writer: Writer, samples: Sequence[Sample], ts: int
) -> None:
    """Samples computed by the controller itself (recording rules, ALERTS, SLO series), at ``ts``."""
    rows = []
    for s in samples:
        name = s.labels.get("__name__", "")
        labels = tuple(sorted((k, v) for k, v in s.labels.items() if k != "__name__"))
        sid = index.intern(conn, writer, name, labels, s.labels.get("host", ""), ts)
        rows.append((sid, ts, s.v))
    write_rows(conn, rows)
