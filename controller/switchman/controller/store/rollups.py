"""1-minute and 1-hour rollups (min, max, sum, count, last) and retention.

Buckets are closed ``SETTLE_MS`` after they end so late pushes (an agent's
replay after an outage is much later: its raw samples stay queryable for
``raw_retention``) are included; each run does a bounded number of buckets
so the writer thread is never held for long.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

SETTLE_MS = 2 * 60_000
MAX_BUCKETS_PER_RUN = 30


@dataclass(frozen=True)
class Resolution:
    table: str
    width_ms: int
    source: str  # table the buckets are computed from
    value_sql: str  # how min/max/sum/count/last read from the source


MINUTE = Resolution("rollup_1m", 60_000, "samples", "value")
HOUR = Resolution("rollup_1h", 3_600_000, "rollup_1m", "")


def _progress(conn: sqlite3.Connection, table: str) -> int | None:
    row = conn.execute("SELECT done_until_ms FROM rollup_progress WHERE resolution=?", (table,)).fetchone()
    return None if row is None else int(row[0])


def _first_ts(conn: sqlite3.Connection, source: str) -> int | None:
    row = conn.execute(f"SELECT min(ts) FROM {source} WHERE series_id IN (SELECT id FROM series)").fetchone()
    return None if row is None or row[0] is None else int(row[0])


def roll_up(conn: sqlite3.Connection, res: Resolution, now_ms: int) -> int:
    """Compute the closed buckets not yet done (at most MAX_BUCKETS_PER_RUN).
    Returns the number of buckets computed."""
    w = res.width_ms
    target = (now_ms - SETTLE_MS) // w * w
    done = _progress(conn, res.table)
    if done is None:
        first = _first_ts(conn, res.source)
        if first is None:
            return 0
        done = first // w * w
    n = 0
    while done < target and n < MAX_BUCKETS_PER_RUN:
        _bucket(conn, res, done)
        done += w
        n += 1
    conn.execute(
        "INSERT INTO rollup_progress (resolution, done_until_ms) VALUES (?, ?) "
        "ON CONFLICT(resolution) DO UPDATE SET done_until_ms=excluded.done_until_ms",
        (res.table, done),
    )
    return n


def _bucket(conn: sqlite3.Connection, res: Resolution, start: int) -> None:
    end = start + res.width_ms
    if res.source == "samples":
        conn.execute(
            f"""INSERT OR REPLACE INTO {res.table} (series_id, ts, min, max, sum, count, last)
            SELECT s.series_id, ?, min(s.value), max(s.value), sum(s.value), count(*),
                   (SELECT l.value FROM samples l WHERE l.series_id = s.series_id AND l.ts >= ? AND l.ts < ?
                    ORDER BY l.ts DESC LIMIT 1)
            FROM samples s WHERE s.series_id IN (SELECT id FROM series) AND s.ts >= ? AND s.ts < ?
            GROUP BY s.series_id""",
            (start, start, end, start, end),
        )
    else:
        conn.execute(
            f"""INSERT OR REPLACE INTO {res.table} (series_id, ts, min, max, sum, count, last)
            SELECT s.series_id, ?, min(s.min), max(s.max), sum(s.sum), sum(s.count),
                   (SELECT l.last FROM {res.source} l WHERE l.series_id = s.series_id AND l.ts >= ? AND l.ts < ?
                    ORDER BY l.ts DESC LIMIT 1)
            FROM {res.source} s WHERE s.series_id IN (SELECT id FROM series) AND s.ts >= ? AND s.ts < ?
            GROUP BY s.series_id""",
            (start, start, end, start, end),
        )


def apply_retention(conn: sqlite3.Connection, now_ms: int, raw_ms: int, minute_ms: int, hour_ms: int) -> int:
    """Delete what is older than each table's retention. Returns rows deleted."""
    deleted = 0
    for table, keep in (("samples", raw_ms), ("nan_samples", raw_ms), ("rollup_1m", minute_ms), ("rollup_1h", hour_ms)):
        cur = conn.execute(
            f"DELETE FROM {table} WHERE series_id IN (SELECT id FROM series) AND ts < ?", (now_ms - keep,)
        )
        deleted += cur.rowcount
    return deleted
