"""The open SQLite store: the database file, its single writer thread,
per-thread readers, the series index, and the repositories of
:mod:`~switchman.controller.store.abc` over them. Every part of the
controller that reads or writes the database is handed this."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from switchman.controller.store.abc import Tx
from switchman.controller.store.db import Database
from switchman.controller.store.series import SeriesIndex
from switchman.controller.store.sqlite import SqliteTx
from switchman.controller.store.sqlite.documents import (
    SqliteDrills,
    SqliteEventLog,
    SqliteIncidents,
    SqliteRollouts,
    SqliteSpecs,
)
from switchman.controller.store.sqlite.notify import SqliteNotifyState, SqliteOutbox, SqliteSilences
from switchman.controller.store.sqlite.security import SqliteAudit, SqliteTokens
from switchman.controller.store.sqlite.timeseries import SqliteAlertStates, SqliteSamples
from switchman.controller.store.writer import Writer

T = TypeVar("T")


@dataclass(frozen=True)
class Storage:
    """A :class:`~switchman.controller.store.abc.Store` in SQLite, plus the
    series index and the raw connection jobs of the time-series tables."""

    db: Database
    writer: Writer
    index: SeriesIndex

    def __post_init__(self) -> None:
        reader = self.db.reader
        object.__setattr__(self, "events", SqliteEventLog(reader))
        object.__setattr__(self, "rollouts", SqliteRollouts(reader))
        object.__setattr__(self, "incidents", SqliteIncidents(reader))
        object.__setattr__(self, "drills", SqliteDrills(reader))
        object.__setattr__(self, "specs", SqliteSpecs(reader))
        object.__setattr__(self, "outbox", SqliteOutbox(reader))
        object.__setattr__(self, "notify_state", SqliteNotifyState(reader))
        object.__setattr__(self, "silences", SqliteSilences(reader))
        object.__setattr__(self, "audit", SqliteAudit(reader))
        object.__setattr__(self, "tokens", SqliteTokens(reader))
        object.__setattr__(self, "alerts", SqliteAlertStates(reader))
        object.__setattr__(self, "samples", SqliteSamples(self.index, self.writer, reader))

    events: SqliteEventLog = field(init=False)
    rollouts: SqliteRollouts = field(init=False)
    incidents: SqliteIncidents = field(init=False)
    drills: SqliteDrills = field(init=False)
    specs: SqliteSpecs = field(init=False)
    outbox: SqliteOutbox = field(init=False)
    notify_state: SqliteNotifyState = field(init=False)
    silences: SqliteSilences = field(init=False)
    audit: SqliteAudit = field(init=False)
    tokens: SqliteTokens = field(init=False)
    alerts: SqliteAlertStates = field(init=False)
    samples: SqliteSamples = field(init=False)

    @classmethod
    def open(cls, path: Path) -> Storage:
        """Blocking (run it in a thread): migrate, start the writer, load the series index."""
        db = Database(path)
        writer = Writer(db.open_writer(), str(path))
        index = SeriesIndex()
        index.load(db.reader())
        return cls(db, writer, index)

    def reader(self) -> sqlite3.Connection:
        """This thread's read connection."""
        return self.db.reader()

    async def read(self, job: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``job`` on a reader connection in a worker thread (committed data only)."""
        return await asyncio.to_thread(lambda: job(self.db.reader()))

    async def write(self, job: Callable[[Tx], T]) -> T:
        """Run a repository job in the writer thread; returns after its commit."""
        writer = self.writer
        return await writer.run(lambda conn: job(SqliteTx(conn, writer)))

    def write_now(self, job: Callable[[Tx], T]) -> T:
        """:meth:`write` from a worker thread: blocks until the job committed."""
        writer = self.writer
        result: T = writer.submit(lambda conn: job(SqliteTx(conn, writer))).result()
        return result

    async def run(self, job: Callable[[sqlite3.Connection], T]) -> T:
        """Run a raw connection job (the time-series tables) in the writer thread; returns after its commit."""
        return await self.writer.run(job)

    def close(self) -> None:
        self.writer.close()
        self.db.close()
