"""Fixtures the unit tests share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from switchman.controller.store import Database, Writer


@pytest.fixture
def db(tmp_path: Path) -> Iterator[tuple[Database, Writer]]:
    """A fresh controller database (migrated) and its writer thread."""
    d = Database(tmp_path / "c.db")
    w = Writer(d.open_writer())
    yield d, w
    w.close()
    d.close()
