"""Writing sample rows: SQLite cannot hold a NaN in a REAL column, so NaN
values and Prometheus' staleness markers go to ``nan_samples`` and every
reader merges the two tables."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from switchman.controller.promql.values import is_stale


def write_rows(conn: sqlite3.Connection, rows: Sequence[tuple[int, int, float]]) -> None:
    """(series id, ts, value) rows; a sample at the same (series, ts) is replaced."""
    nans = [r for r in rows if r[2] != r[2]]
    if nans:
        rows = [r for r in rows if r[2] == r[2]]
        conn.executemany(
            "INSERT OR REPLACE INTO nan_samples (series_id, ts, stale) VALUES (?,?,?)",
            [(sid, ts, int(is_stale(v))) for sid, ts, v in nans],
        )
        conn.executemany("DELETE FROM samples WHERE series_id = ? AND ts = ?", [(sid, ts) for sid, ts, _ in nans])
    conn.executemany("INSERT OR REPLACE INTO samples (series_id, ts, value) VALUES (?,?,?)", rows)
