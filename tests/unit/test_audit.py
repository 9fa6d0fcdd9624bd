from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from switchman.controller.security.audit import AuditLog, entry_hash
from switchman.controller.store.storage import Storage


@pytest.fixture
def log(tmp_path: Path) -> Iterator[tuple[Storage, AuditLog]]:
    storage = Storage.open(tmp_path / "c.db")
    audit = AuditLog(storage)

    async def fill() -> None:
        for i in range(5):
            await audit.append(1000 + i, "admin", "CreateToken", f"t{i}", '{"role":"viewer"}', "ok")

    asyncio.run(fill())
    yield storage, audit
    storage.close()


def tamper(storage: Storage, sql: str) -> None:
    conn = sqlite3.connect(storage.db.path, isolation_level=None)
    conn.execute(sql)
    conn.close()


def test_intact_chain_verifies(log: tuple[Storage, AuditLog]) -> None:
    v = log[1].verify()
    assert v.ok and v.entries == 5


def test_edited_entry_is_named(log: tuple[Storage, AuditLog]) -> None:
    tamper(log[0], "UPDATE audit SET actor = 'mallory' WHERE id = 3")
    v = log[1].verify()
    assert not v.ok and v.first_bad_id == 3 and "entry 3 was edited" in v.message


def test_edited_entry_with_recomputed_hash_breaks_the_next_link(log: tuple[Storage, AuditLog]) -> None:
    conn = sqlite3.connect(log[0].db.path, isolation_level=None)
    prev = conn.execute("SELECT prev_hash FROM audit WHERE id = 3").fetchone()[0]
    forged = entry_hash(prev, 1002, "mallory", "CreateToken", "t2", '{"role":"viewer"}', "ok")
    conn.execute("UPDATE audit SET actor = 'mallory', hash = ? WHERE id = 3", (forged,))
    conn.close()
    v = log[1].verify()
    assert not v.ok and v.first_bad_id == 4 and "entry 3 was changed" in v.message


def test_deleted_entries_are_named(log: tuple[Storage, AuditLog]) -> None:
    tamper(log[0], "DELETE FROM audit WHERE id = 2")
    v = log[1].verify()
    assert not v.ok and v.first_bad_id == 2 and "missing" in v.message


def test_entries_deleted_from_the_end_are_detected(log: tuple[Storage, AuditLog]) -> None:
    tamper(log[0], "DELETE FROM audit WHERE id = 5")
    v = log[1].verify()
    assert not v.ok and v.first_bad_id == 5
