"""Opening the database, running migrations, and per-thread read connections."""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

from switchman.controller.store.migrations import MIGRATIONS

log = logging.getLogger(__name__)

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    # WAL + NORMAL: a commit survives a process kill; fsync at checkpoints
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=10000",
    "PRAGMA cache_size=-65536",  # 64 MiB page cache per connection
    "PRAGMA temp_store=MEMORY",
)


def connect(path: Path | str, *, readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False, isolation_level=None)
    else:
        conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    for p in PRAGMAS:
        if readonly and "journal_mode" in p:
            continue
        conn.execute(p)
    return conn


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Apply pending migrations in order, each in its own transaction.
    Returns the names applied."""
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    if current > len(MIGRATIONS):
        raise RuntimeError(
            f"database schema version {current} is newer than this controller knows ({len(MIGRATIONS)}); "
            "upgrade the controller"
        )
    applied = []
    for number, (name, sql) in enumerate(MIGRATIONS, start=1):
        if number <= current:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            for stmt in sql.split(";"):
                if stmt.strip():
                    conn.execute(stmt)
            conn.execute(f"PRAGMA user_version={number}")
            conn.execute("COMMIT")
        except Exception:
            conn.execute("ROLLBACK")
            raise
        log.info("applied migration %s", name)
        applied.append(name)
    return applied


class Database:
    """The controller's database file. Readers are per thread; the single
    writer connection belongs to :class:`~switchman.controller.store.writer.Writer`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def open_writer(self) -> sqlite3.Connection:
        conn = connect(self.path)
        migrate(conn)
        # checkpoints run from another connection (checkpoint()), so a commit
        # never waits for one
        conn.execute("PRAGMA wal_autocheckpoint=0")
        return conn

    def checkpoint(self) -> None:
        """Copy the WAL back into the database without blocking the writer
        (PASSIVE); called every few seconds off the event loop."""
        conn = getattr(self._local, "ckpt", None)
        if conn is None:
            conn = connect(self.path)
            self._local.ckpt = conn
            with self._lock:
                self._all.append(conn)
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path)
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def size_bytes(self) -> int:
        total = 0
        for suffix in ("", "-wal"):
            p = Path(str(self.path) + suffix)
            if p.exists():
                total += p.stat().st_size
        return total

    def close(self) -> None:
        with self._lock:
            for c in self._all:
                c.close()
            self._all.clear()
