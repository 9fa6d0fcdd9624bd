"""The SQLite backend of :mod:`switchman.controller.store.abc`: one database
in WAL mode, one writer thread (group commit), per-thread readers."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from switchman.controller.store.writer import Writer


@dataclass(frozen=True)
class SqliteTx:
    """A job's view of the writer's open transaction (inside its SAVEPOINT)."""

    conn: sqlite3.Connection
    writer: Writer

    def on_commit(self, hook: Callable[[], None]) -> None:
        self.writer.on_commit(hook)

    def on_rollback(self, hook: Callable[[], None]) -> None:
        self.writer.on_rollback(hook)


def conn_of(tx: object) -> sqlite3.Connection:
    """The connection behind a transaction this backend made.

    :raises TypeError: a transaction of another backend (a wiring mistake)."""
    if not isinstance(tx, SqliteTx):
        raise TypeError(f"a SQLite repository was handed a {type(tx).__name__}, not its own transaction")
    return tx.conn
