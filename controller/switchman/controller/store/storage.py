"""The open store: the database file, its single writer thread, per-thread
readers and the series index. Every part of the controller that reads or
writes SQLite is handed this (and nothing else of the store)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from switchman.controller.store.db import Database
from switchman.controller.store.series import SeriesIndex
from switchman.controller.store.writer import Writer

T = TypeVar("T")


@dataclass(frozen=True)
class Storage:
    db: Database
    writer: Writer
    index: SeriesIndex

    @classmethod
    def open(cls, path: Path) -> Storage:
        """Blocking (run it in a thread): migrate, start the writer, load the series index."""
        db = Database(path)
        writer = Writer(db.open_writer())
        index = SeriesIndex()
        index.load(db.reader())
        return cls(db, writer, index)

    def reader(self) -> sqlite3.Connection:
        """This thread's read connection."""
        return self.db.reader()

    async def write(self, job: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``job`` in the writer thread; returns after its commit."""
        return await self.writer.run(job)

    def close(self) -> None:
        self.writer.close()
        self.db.close()
