"""The time-series side of the SQLite store: hosts and their heartbeats,
push cursors, samples written by ingest and by the controller itself, the
alert state written with them, and the reads the status views need. These
run inside writer jobs (``conn`` is the writer's connection) or on a reader
connection; they have this one backend (docs/adr/0012)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

AlertRow = tuple[Any, ...]  # rule_key, fingerprint, labels, annotations, state, active, fired, resolved, value, keep
HostRow = tuple[Any, ...]  # as the hosts table's columns, labels and capabilities as JSON
HOST_COLUMNS = (
    "host_id, hostname, address, labels, agent_version, capabilities, registered_ms, "
    "last_heartbeat_ms, last_push_ms, cert_not_after_ms"
)


# hosts -------------------------------------------------------------------------------
def load_hosts(conn: sqlite3.Connection) -> list[HostRow]:
    return list(conn.execute(f"SELECT {HOST_COLUMNS} FROM hosts"))


def upsert_host(conn: sqlite3.Connection, row: HostRow) -> None:
    """A (re-)registration: everything but ``registered_ms`` and ``last_push_ms`` is replaced."""
    conn.execute(
        f"INSERT INTO hosts ({HOST_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)"
        " ON CONFLICT(host_id) DO UPDATE SET cert_not_after_ms=excluded.cert_not_after_ms,"
        " hostname=excluded.hostname, address=excluded.address, labels=excluded.labels,"
        " agent_version=excluded.agent_version, capabilities=excluded.capabilities,"
        " last_heartbeat_ms=excluded.last_heartbeat_ms",
        row,
    )


def save_heartbeats(conn: sqlite3.Connection, rows: Sequence[tuple[int, int, str]]) -> None:
    """(last_heartbeat_ms, last_push_ms, host_id) rows."""
    conn.executemany("UPDATE hosts SET last_heartbeat_ms=?, last_push_ms=? WHERE host_id=?", rows)


# samples and pushes --------------------------------------------------------------------
def insert_rows(conn: sqlite3.Connection, rows: Iterable[tuple[int, int, float]]) -> None:
    """(series id, ts, value) rows; a sample at the same (series, ts) is replaced."""
    conn.executemany("INSERT OR REPLACE INTO samples (series_id, ts, value) VALUES (?,?,?)", rows)


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
    return int(conn.execute("SELECT count(*) FROM samples").fetchone()[0])


# alert state -----------------------------------------------------------------------------
def load_alerts(conn: sqlite3.Connection) -> list[AlertRow]:
    return list(conn.execute("SELECT * FROM alerts"))


def replace_alerts(conn: sqlite3.Connection, rule_key: str, rows: Sequence[AlertRow]) -> None:
    """The alerts of one rule, all at once (written with the samples they produced)."""
    conn.execute("DELETE FROM alerts WHERE rule_key = ?", (rule_key,))
    conn.executemany("INSERT INTO alerts VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
