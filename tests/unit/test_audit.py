from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from switchman.controller.security.audit import AuditLog, entry_hash, verify
from switchman.controller.store import Database, Writer


@pytest.fixture
def log(tmp_path: Path) -> Iterator[tuple[Database, Writer]]:
    d = Database(tmp_path / "c.db")
    w = Writer(d.open_writer())
    audit = AuditLog(w)

    async def fill() -> None:
        for i in range(5):
            await audit.append(1000 + i, "admin", "CreateToken", f"t{i}", '{"role":"viewer"}', "ok")

    asyncio.run(fill())
    yield d, w
    w.close()
    d.close()


def tamper(db: Database, sql: str) -> None:
    conn = sqlite3.connect(db.path, isolation_level=None)
    conn.execute(sql)
    conn.close()


def test_intact_chain_verifies(log: tuple[Database, Writer]) -> None:
    v = verify(log[0].reader())
    assert v.ok and v.entries == 5


def test_edited_entry_is_named(log: tuple[Database, Writer]) -> None:
    tamper(log[0], "UPDATE audit SET actor = 'mallory' WHERE id = 3")
    v = verify(log[0].reader())
    assert not v.ok and v.first_bad_id == 3 and "entry 3 was edited" in v.message


def test_edited_entry_with_recomputed_hash_breaks_the_next_link(log: tuple[Database, Writer]) -> None:
    conn = sqlite3.connect(log[0].path, isolation_level=None)
    prev = conn.execute("SELECT prev_hash FROM audit WHERE id = 3").fetchone()[0]
    forged = entry_hash(prev, 1002, "mallory", "CreateToken", "t2", '{"role":"viewer"}', "ok")
    conn.execute("UPDATE audit SET actor = 'mallory', hash = ? WHERE id = 3", (forged,))
    conn.close()
    v = verify(log[0].reader())
    assert not v.ok and v.first_bad_id == 4 and "entry 3 was changed" in v.message


def test_deleted_entries_are_named(log: tuple[Database, Writer]) -> None:
    tamper(log[0], "DELETE FROM audit WHERE id = 2")
    v = verify(log[0].reader())
    assert not v.ok and v.first_bad_id == 2 and "missing" in v.message


def test_entries_deleted_from_the_end_are_detected(log: tuple[Database, Writer]) -> None:
    tamper(log[0], "DELETE FROM audit WHERE id = 5")
    v = verify(log[0].reader())
    assert not v.ok and v.first_bad_id == 5
