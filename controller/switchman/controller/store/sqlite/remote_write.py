"""The remote-write tables (migration 0012): the log of sample rows in
commit order, filled by temporary triggers on the writer connection while
endpoints are configured, and one cursor per endpoint. Writes run in writer
jobs (``conn`` is the writer's connection), reads on a reader connection.

The log holds (series, ts) only (about 4 µs of writer CPU per sample); the value is read from ``samples`` or
``nan_samples`` when it is sent, so a row whose sample is gone (retention,
a staleness marker cleared by a replay) is skipped."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

TRIGGERS = (
    "CREATE TEMP TRIGGER IF NOT EXISTS remote_write_samples AFTER INSERT ON main.samples BEGIN"
    " INSERT INTO remote_write_log (series_id, ts) VALUES (NEW.series_id, NEW.ts); END",
    "CREATE TEMP TRIGGER IF NOT EXISTS remote_write_nan_samples AFTER INSERT ON main.nan_samples BEGIN"
    " INSERT INTO remote_write_log (series_id, ts) VALUES (NEW.series_id, NEW.ts); END",
)
DROP_TRIGGERS = (
    "DROP TRIGGER IF EXISTS temp.remote_write_samples",
    "DROP TRIGGER IF EXISTS temp.remote_write_nan_samples",
)

LogRow = tuple[int, int, int, float | None, int | None]  # seq, series id, ts, value, stale (None: not a NaN row)


@dataclass(frozen=True)
class Cursor:
    name: str
    url: str
    sent_seq: int
    inflight_seq: int


def start_log(conn: sqlite3.Connection) -> None:
    """Log every sample row written from now on (writer connection)."""
    for sql in TRIGGERS:
        conn.execute(sql)


def stop_log(conn: sqlite3.Connection) -> None:
    """No endpoint configured: stop logging and forget the log (writer connection)."""
    for sql in DROP_TRIGGERS:
        conn.execute(sql)
    conn.execute("DELETE FROM remote_write_log")
    conn.execute("DELETE FROM remote_write_cursor")


def head(conn: sqlite3.Connection) -> int:
    """The number of the last log row committed (0 before any)."""
    return int(conn.execute("SELECT coalesce(max(seq), 0) FROM remote_write_log").fetchone()[0])


def load_cursors(conn: sqlite3.Connection) -> dict[str, Cursor]:
    return {
        str(n): Cursor(str(n), str(u), int(s), int(i))
        for n, u, s, i in conn.execute("SELECT name, url, sent_seq, inflight_seq FROM remote_write_cursor")
    }


def keep_cursors(conn: sqlite3.Connection, names: Iterable[str]) -> None:
    """Forget the cursors of endpoints no longer configured."""
    keep = list(names)
    marks = ",".join("?" * len(keep))
    conn.execute(f"DELETE FROM remote_write_cursor WHERE name NOT IN ({marks})", keep)


def save_cursor(conn: sqlite3.Connection, cursor: Cursor, now_ms: int) -> None:
    conn.execute(
        "INSERT INTO remote_write_cursor (name, url, sent_seq, inflight_seq, updated_ms) VALUES (?,?,?,?,?)"
        " ON CONFLICT(name) DO UPDATE SET url=excluded.url, sent_seq=excluded.sent_seq,"
        " inflight_seq=excluded.inflight_seq, updated_ms=excluded.updated_ms",
        (cursor.name, cursor.url, cursor.sent_seq, cursor.inflight_seq, now_ms),
    )


def read_log(conn: sqlite3.Connection, after: int, until: int | None, limit: int) -> list[LogRow]:
    """Log rows after ``after`` (up to ``until`` when given), in log order, with their values."""
    return [
        (int(seq), int(sid), int(ts), v, stale)
        for seq, sid, ts, v, stale in conn.execute(
            "SELECT l.seq, l.series_id, l.ts, s.value, n.stale FROM remote_write_log l"
            " LEFT JOIN samples s ON s.series_id = l.series_id AND s.ts = l.ts"
            " LEFT JOIN nan_samples n ON n.series_id = l.series_id AND n.ts = l.ts"
            " WHERE l.seq > ? AND l.seq <= ? ORDER BY l.seq LIMIT ?",
            (after, until if until is not None else 2**62, limit),
        )
    ]


def oldest_ts(conn: sqlite3.Connection, after: int) -> int | None:
    """The sample timestamp of the first log row after ``after``."""
    row = conn.execute("SELECT ts FROM remote_write_log WHERE seq > ? ORDER BY seq LIMIT 1", (after,)).fetchone()
    return int(row[0]) if row else None


def prune(conn: sqlite3.Connection, sent_by_all: int, older_than_ms: int) -> int:
    """Drop the log rows every endpoint has answered, and the oldest ones (in
    log order) whose samples raw retention deletes, but never the last row (a
    new row's number is one more than the largest there). Returns the first
    row number kept: the rows before it are gone."""
    last = head(conn)
    conn.execute("DELETE FROM remote_write_log WHERE seq <= ?", (min(sent_by_all, last - 1),))
    row = conn.execute(
        "SELECT seq FROM remote_write_log WHERE ts >= ? ORDER BY seq LIMIT 1", (older_than_ms,)
    ).fetchone()
    kept_from = min(int(row[0]), last) if row is not None else last
    conn.execute("DELETE FROM remote_write_log WHERE seq < ?", (kept_from,))
    return kept_from
