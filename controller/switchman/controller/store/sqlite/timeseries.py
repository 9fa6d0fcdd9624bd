"""The time-series side of the SQLite store: hosts and their heartbeats,
push cursors, samples written by ingest and by the controller itself, the
alert state written with them, and the reads the status views need. These
run inside writer jobs (``conn`` is the writer's connection) or on a reader
connection; they have this one backend (docs/adr/0012)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from switchman.controller.promql.ast import Matcher
from switchman.controller.promql.values import Sample, Series
from switchman.controller.store.abc import AlertRecord, StoreError, Tx
from switchman.controller.store.series import SeriesIndex, insert_samples
from switchman.controller.store.sqlite import conn_of
from switchman.controller.store.sqlite.rows import write_rows
from switchman.controller.store.sqlite.samples import StoreSource
from switchman.controller.store.writer import Writer

AlertRow = tuple[Any, ...]  # rule_key, fingerprint, labels, annotations, state, active, fired, resolved, value, keep
HostRow = tuple[Any, ...]  # as the hosts table's columns, labels and capabilities as JSON
HOST_COLUMNS = (
    "host_id, hostname, address, labels, agent_version, capabilities, registered_ms, "
    "last_heartbeat_ms, last_push_ms, cert_not_after_ms, metrics_address, job"
)


# hosts -------------------------------------------------------------------------------
def load_hosts(conn: sqlite3.Connection) -> list[HostRow]:
    return list(conn.execute(f"SELECT {HOST_COLUMNS} FROM hosts"))


def upsert_host(conn: sqlite3.Connection, row: HostRow) -> None:
    """A (re-)registration: everything but ``registered_ms`` and ``last_push_ms`` is replaced."""
    conn.execute(
        f"INSERT INTO hosts ({HOST_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
        " ON CONFLICT(host_id) DO UPDATE SET cert_not_after_ms=excluded.cert_not_after_ms,"
        " hostname=excluded.hostname, address=excluded.address, labels=excluded.labels,"
        " agent_version=excluded.agent_version, capabilities=excluded.capabilities,"
        " last_heartbeat_ms=excluded.last_heartbeat_ms, metrics_address=excluded.metrics_address, job=excluded.job",
        row,
    )


def save_heartbeats(conn: sqlite3.Connection, rows: Sequence[tuple[int, int, str]]) -> None:
    """(last_heartbeat_ms, last_push_ms, host_id) rows."""
    conn.executemany("UPDATE hosts SET last_heartbeat_ms=?, last_push_ms=? WHERE host_id=?", rows)


# samples and pushes --------------------------------------------------------------------
def insert_rows(conn: sqlite3.Connection, rows: Sequence[tuple[int, int, float]]) -> None:
    """(series id, ts, value) rows; a sample at the same (series, ts) is replaced."""
    write_rows(conn, rows)


def mark_stale(conn: sqlite3.Connection, series_ids: Iterable[int], ts: int) -> None:
    """A staleness marker at ``ts`` on each series (its target went away)."""
    conn.executemany(
        "INSERT OR REPLACE INTO nan_samples (series_id, ts, stale) VALUES (?,?,1)", [(sid, ts) for sid in series_ids]
    )


def clear_stale(conn: sqlite3.Connection, spans: Iterable[tuple[int, int, int]]) -> None:
    """Drop the staleness markers that samples arriving later contradict:
    (series id, first ts, last ts) of what came (a spool replaying an outage)."""
    conn.executemany("DELETE FROM nan_samples WHERE series_id = ? AND ts BETWEEN ? AND ? AND stale = 1", spans)


def load_cursors(conn: sqlite3.Connection) -> list[tuple[str, str, int]]:
    """(host_id, spool epoch, acknowledged sequence) of every host that pushed."""
    return [(str(h), str(e), int(a)) for h, e, a in conn.execute("SELECT host_id, epoch, acked_seq FROM ingest_cursor")]


def save_cursor(conn: sqlite3.Connection, host_id: str, epoch: str, acked: int) -> None:
    conn.execute(
        "INSERT INTO ingest_cursor (host_id, epoch, acked_seq) VALUES (?,?,?) ON CONFLICT(host_id) DO UPDATE"
        " SET epoch=excluded.epoch, acked_seq=excluded.acked_seq",
        (host_id, epoch, acked),
    )


def insert_events(conn: sqlite3.Connection, rows: Sequence[tuple[object, ...]]) -> None:
    """Events an agent pushed with its samples: (host, ts, kind, severity, service, message, attributes JSON)."""
    conn.executemany(
        "INSERT INTO events (host_id, ts, kind, severity, service, message, attributes) VALUES (?,?,?,?,?,?,?)", rows
    )


def latest_values(conn: sqlite3.Connection, series_ids: Iterable[int], since_ms: int) -> dict[int, float]:
    """Each series' newest sample at or after ``since_ms`` (series without one are left out)."""
    out: dict[int, float] = {}
    for sid in series_ids:
        row = conn.execute(
            "SELECT value FROM samples WHERE series_id=? AND ts >= ? ORDER BY ts DESC LIMIT 1", (sid, since_ms)
        ).fetchone()
        if row is not None:
            out[sid] = float(row[0])
    return out


def count_samples(conn: sqlite3.Connection) -> int:
    """Every stored sample, NaN samples and staleness markers included."""
    return int(conn.execute("SELECT (SELECT count(*) FROM samples) + (SELECT count(*) FROM nan_samples)").fetchone()[0])


# alert state -----------------------------------------------------------------------------
def load_alerts(conn: sqlite3.Connection) -> list[AlertRow]:
    return list(conn.execute("SELECT * FROM alerts"))


def replace_alerts(conn: sqlite3.Connection, rule_key: str, rows: Sequence[AlertRow]) -> None:
    """The alerts of one rule, all at once (written with the samples they produced)."""
    conn.execute("DELETE FROM alerts WHERE rule_key = ?", (rule_key,))
    conn.executemany("INSERT INTO alerts VALUES (?,?,?,?,?,?,?,?,?,?)", rows)


# the repositories over these tables ------------------------------------------------------
class SqliteAlertStates:
    def __init__(self, reader: Callable[[], sqlite3.Connection]) -> None:
        self._reader = reader

    def all(self) -> list[AlertRecord]:
        return [
            AlertRecord(
                str(key),
                str(fp),
                json.loads(labels),
                json.loads(notes),
                str(state),
                int(a),
                int(f),
                int(r),
                float(v),
                int(k),
            )
            for key, fp, labels, notes, state, a, f, r, v, k in load_alerts(self._reader())
        ]

    def replace(self, tx: Tx, rule_key: str, alerts: Sequence[AlertRecord]) -> None:
        rows = [
            (
                rule_key,
                a.fingerprint,
                json.dumps(a.labels),
                json.dumps(a.annotations),
                a.state,
                a.active_at_ms,
                a.fired_at_ms,
                a.resolved_at_ms,
                a.value,
                a.keep_firing_since_ms,
            )
            for a in alerts
        ]
        replace_alerts(conn_of(tx), rule_key, rows)


class SqliteSamples:
    def __init__(self, index: SeriesIndex, writer: Writer, reader: Callable[[], sqlite3.Connection]) -> None:
        self._index, self._writer, self._reader = index, writer, reader
        self._raw = StoreSource(index, reader, 0)  # no clock: raw samples only

    def add(self, tx: Tx, samples: Sequence[Sample], ts: int) -> None:
        if any(not s.labels.get("__name__") for s in samples):
            raise StoreError("a sample without a metric name (__name__) cannot be stored")
        insert_samples(conn_of(tx), self._index, self._writer, samples, ts)

    def select(self, matchers: Sequence[Matcher], start_ms: int, end_ms: int) -> list[Series]:
        return self._raw.select(matchers, start_ms, end_ms)

    def count(self) -> int:
        return count_samples(self._reader())
