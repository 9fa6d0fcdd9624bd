from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import pytest
from switchman.controller.errors import Conflict, InvalidArgument
from switchman.controller.security.auth import required_role
from switchman.controller.security.tokens import Role, TokenStore
from switchman.controller.store.storage import Storage


def test_tokens_are_stored_hashed_and_roles_are_ordered(tmp_path: Path) -> None:
    storage = Storage.open(tmp_path / "c.db")
    store = TokenStore(storage)

    async def go() -> None:
        assert await store.ensure_admin_file(tmp_path / "admin.token", 1)
        assert not await store.ensure_admin_file(tmp_path / "admin.token", 2)
        rec, secret = await store.create("ci", "viewer", 3)
        assert store.authenticate(secret) is rec
        with pytest.raises(Conflict):
            await store.create("ci", "viewer", 4)
        with pytest.raises(InvalidArgument, match="role"):
            await store.create("x", "root", 4)
        with pytest.raises(InvalidArgument, match="name"):
            await store.create("../etc", "viewer", 4)
        await store.revoke("ci")
        assert store.authenticate(secret) is None

    asyncio.run(go())
    admin = (tmp_path / "admin.token").read_text().strip()
    assert stat.S_IMODE(os.stat(tmp_path / "admin.token").st_mode) == 0o600
    hashes = [r[0] for r in storage.reader().execute("SELECT hash FROM tokens")]
    assert admin not in hashes and all(len(h) == 64 for h in hashes)
    reloaded = TokenStore(storage)
    reloaded.load()
    rec = reloaded.authenticate(admin)
    assert rec is not None and rec.role is Role.ADMIN
    storage.close()


def test_method_roles() -> None:
    assert required_role("GetStatus") is Role.VIEWER
    assert required_role("StartRollout") is Role.OPERATOR
    assert required_role("CreateToken") is Role.ADMIN
    assert required_role("SomethingNew") is Role.ADMIN
    assert Role.ADMIN.allows(Role.OPERATOR) and not Role.VIEWER.allows(Role.OPERATOR)


def test_a_tokens_last_use_is_kept_in_memory_and_saved_once_per_save(tmp_path: Path) -> None:
    storage = Storage.open(tmp_path / "c.db")
    now = [1_000]
    store = TokenStore(storage, lambda: now[0])

    def stored() -> dict[str, int]:
        return {r.name: r.last_used_ms for r in storage.tokens.all()}

    async def go() -> None:
        _, ci = await store.create("ci", "viewer", 1)
        await store.create("idle", "viewer", 1)
        now[0] = 5_000
        assert store.authenticate(ci) is not None and store.authenticate("smt_wrong") is None
        assert stored() == {"ci": 0, "idle": 0}, "a request writes nothing"
        await store.save_last_used()
        assert stored() == {"ci": 5_000, "idle": 0}
        now[0] = 9_000
        store.authenticate(ci)
        await store.save_last_used()
        await store.save_last_used()  # nothing new: nothing written

    asyncio.run(go())
    assert stored() == {"ci": 9_000, "idle": 0}
    reloaded = TokenStore(storage)
    reloaded.load()
    assert {t.name: t.last_used_ms for t in reloaded.list()} == {"ci": 9_000, "idle": 0}
    storage.close()
