"""Opening the database, running migrations, and per-thread read connections."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path

from switchman.controller.store.abc import StoreError
from switchman.controller.store.migrations import MIGRATIONS

log = logging.getLogger(__name__)

CHECK_SECONDS = 15.0  # how long the check at start may read a big file before it lets the rest be


class DatabaseDamaged(StoreError):
    """The database file fails SQLite's consistency check: the controller does
    not start on it (the message names the file and how to restore a backup)."""


WAL_KEEP_BYTES = 96 * 1024 * 1024

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


def damaged(path: Path, detail: str) -> DatabaseDamaged:
    detail = " ".join(detail.split())  # quick_check's report spans lines: the message is one
    return DatabaseDamaged(
        f"{path} is damaged ({detail}); the controller will not run on it. Restore the last backup "
        f"(made with `switchman backup FILE`): switchman-controller --data-dir {path.parent} restore FILE --force"
    )


def check_intact(conn: sqlite3.Connection, path: Path, budget_s: float) -> None:
    """``PRAGMA quick_check`` (every page and index entry readable and well formed),
    stopped after ``budget_s`` seconds on a big file: what was read is vouched for,
    the rest is logged as unchecked.

    :raises DatabaseDamaged:"""
    deadline = time.monotonic() + budget_s
    conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
    try:
        problems = [str(r[0]) for r in conn.execute("PRAGMA quick_check(5)")]
    except sqlite3.OperationalError as exc:
        if "interrupt" not in str(exc):
            raise
        log.warning("%s: the consistency check stopped after %.0fs; the rest of the file is unchecked", path, budget_s)
        return
    finally:
        conn.set_progress_handler(None, 0)
    if problems != ["ok"]:
        raise damaged(path, "; ".join(problems)[:500])


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

    def open_writer(self, check_seconds: float = CHECK_SECONDS) -> sqlite3.Connection:
        """The writer's connection, once the file passed :func:`check_intact` and the migrations ran.

        :raises DatabaseDamaged:"""
        try:
            conn = connect(self.path)
            check_intact(conn, self.path, check_seconds)
        except sqlite3.DatabaseError as exc:  # "file is not a database", or corruption met while checking
            raise damaged(self.path, str(exc)) from None
        migrate(conn)
        # checkpoints run from another connection (checkpoint()), so a commit
        # never waits for one
        conn.execute("PRAGMA wal_autocheckpoint=0")
        # when the WAL starts again from the top, its file is cut back to this
        conn.execute(f"PRAGMA journal_size_limit={WAL_KEEP_BYTES}")
        return conn

    def checkpoint(self) -> int:
        """Copy the WAL back into the database without blocking the writer
        (PASSIVE); called every few seconds off the event loop. Returns the
        WAL's size in bytes (the frames it holds)."""
        conn = getattr(self._local, "ckpt", None)
        if conn is None:
            conn = connect(self.path)
            self._local.ckpt = conn
            with self._lock:
                self._all.append(conn)
        _, frames, _ = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return max(0, int(frames)) * int(conn.execute("PRAGMA page_size").fetchone()[0])

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
