"""1-minute and 1-hour rollups (min, max, sum, count, last) and retention.

Buckets are closed ``SETTLE_MS`` after they end so late pushes (an agent's
replay after an outage is much later: its raw samples stay queryable for
``raw_retention``) are included.

Every statement here works on one range of series ids (a *slice*), and the
reads are apart from the writes, so the maintenance job
(:mod:`~switchman.controller.store.maintenance`) reads on a reader
connection and hands the writer only small writes by key that pushes queue
between, never one long transaction. A bucket's progress is recorded only once every slice of it is
done; redoing a slice after a crash gives the same rows (``INSERT OR REPLACE``).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

SETTLE_MS = 2 * 60_000
MAX_BUCKETS_PER_RUN = 30
ALL_SERIES = (0, 2**62)  # a slice holding every series id


@dataclass(frozen=True)
class Resolution:
    table: str
    width_ms: int
    source: str  # table the buckets are computed from


MINUTE = Resolution("rollup_1m", 60_000, "samples")
HOUR = Resolution("rollup_1h", 3_600_000, "rollup_1m")
RETAINED = ("samples", "nan_samples", "rollup_1m", "rollup_1h")

# the series of one slice: SQLite then seeks each series' rows by the (series_id, ts) key
_SLICE = "SELECT id FROM series WHERE id BETWEEN ? AND ?"


def progress(conn: sqlite3.Connection, table: str) -> int | None:
    row = conn.execute("SELECT done_until_ms FROM rollup_progress WHERE resolution=?", (table,)).fetchone()
    return None if row is None else int(row[0])


def set_progress(conn: sqlite3.Connection, table: str, done_until_ms: int) -> None:
    conn.execute(
        "INSERT INTO rollup_progress (resolution, done_until_ms) VALUES (?, ?) "
        "ON CONFLICT(resolution) DO UPDATE SET done_until_ms=excluded.done_until_ms",
        (table, done_until_ms),
    )


def _first_ts(conn: sqlite3.Connection, source: str) -> int | None:
    row = conn.execute(f"SELECT min(ts) FROM {source} WHERE series_id IN (SELECT id FROM series)").fetchone()
    return None if row is None or row[0] is None else int(row[0])


def max_series_id(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT coalesce(max(id), 0) FROM series").fetchone()[0])


def due_buckets(conn: sqlite3.Connection, res: Resolution, now_ms: int, ceiling_ms: int | None = None) -> list[int]:
    """The start of each closed bucket not yet done (at most MAX_BUCKETS_PER_RUN,
    none at or past ``ceiling_ms``: the hour waits for its minutes)."""
    w = res.width_ms
    target = (now_ms - SETTLE_MS) // w * w
    if ceiling_ms is not None:
        target = min(target, ceiling_ms // w * w)
    done = progress(conn, res.table)
    if done is None:
        first = _first_ts(conn, res.source)
        if first is None:
            return []
        done = first // w * w
    return list(range(done, target, w))[:MAX_BUCKETS_PER_RUN]


BucketRow = tuple[int, int, float, float, float, int, float]  # series_id, ts, min, max, sum, count, last


def bucket_rows(conn: sqlite3.Connection, res: Resolution, start: int, lo: int, hi: int) -> list[BucketRow]:
    """The bucket at ``start`` for the series with ids in [lo, hi] (a read: a reader connection will do)."""
    end = start + res.width_ms
    if res.source == "samples":
        agg, last = "min(s.value), max(s.value), sum(s.value), count(*)", "value"
    else:
        agg, last = "min(s.min), max(s.max), sum(s.sum), sum(s.count)", "last"
    return conn.execute(
        f"""SELECT s.series_id, ?, {agg},
               (SELECT l.{last} FROM {res.source} l WHERE l.series_id = s.series_id AND l.ts >= ? AND l.ts < ?
                ORDER BY l.ts DESC LIMIT 1)
        FROM {res.source} s WHERE s.series_id IN ({_SLICE}) AND s.ts >= ? AND s.ts < ?
        GROUP BY s.series_id""",
        (start, start, end, lo, hi, start, end),
    ).fetchall()


def write_bucket(conn: sqlite3.Connection, res: Resolution, rows: list[BucketRow]) -> None:
    conn.executemany(
        f"INSERT OR REPLACE INTO {res.table} (series_id, ts, min, max, sum, count, last) VALUES (?,?,?,?,?,?,?)", rows
    )


def roll_up_slice(conn: sqlite3.Connection, res: Resolution, start: int, lo: int, hi: int) -> None:
    """The bucket at ``start`` for the series with ids in [lo, hi], read and written on ``conn``."""
    write_bucket(conn, res, bucket_rows(conn, res, start, lo, hi))


def old_keys(
    conn: sqlite3.Connection, table: str, before_ms: int, lo: int, hi: int, limit: int
) -> list[tuple[int, int]]:
    """At most ``limit`` (series_id, ts) older than ``before_ms`` of the series with ids in [lo, hi] (a read)."""
    return conn.execute(
        f"SELECT series_id, ts FROM {table} WHERE series_id IN ({_SLICE}) AND ts < ? LIMIT ?",
        (lo, hi, before_ms, limit),
    ).fetchall()


def delete_keys(conn: sqlite3.Connection, table: str, keys: list[tuple[int, int]]) -> int:
    conn.executemany(f"DELETE FROM {table} WHERE series_id = ? AND ts = ?", keys)
    return len(keys)


def delete_slice(conn: sqlite3.Connection, table: str, before_ms: int, lo: int, hi: int, limit: int) -> int:
    """Delete at most ``limit`` rows older than ``before_ms`` of the series with ids in [lo, hi]."""
    return delete_keys(conn, table, old_keys(conn, table, before_ms, lo, hi, limit))


def roll_up(conn: sqlite3.Connection, res: Resolution, now_ms: int) -> int:
    """Every due bucket for every series in this one transaction (tests and
    tools; the controller uses the sliced maintenance job). Returns the
    number of buckets computed."""
    buckets = due_buckets(conn, res, now_ms)
    for start in buckets:
        roll_up_slice(conn, res, start, *ALL_SERIES)
    if buckets:
        set_progress(conn, res.table, buckets[-1] + res.width_ms)
    return len(buckets)


def apply_retention(conn: sqlite3.Connection, now_ms: int, raw_ms: int, minute_ms: int, hour_ms: int) -> int:
    """Delete what is older than each table's retention, in this one
    transaction (tests and tools). Returns rows deleted."""
    keep = dict(zip(RETAINED, (raw_ms, raw_ms, minute_ms, hour_ms), strict=True))
    return sum(delete_slice(conn, t, now_ms - keep[t], *ALL_SERIES, -1) for t in RETAINED)
