"""The controller's SQLite store: one database in WAL mode, numbered
migrations, one writer thread, per-thread readers."""

from switchman.controller.store.db import Database
from switchman.controller.store.writer import Writer

__all__ = ["Database", "Writer"]
