"""Bearer tokens with roles (SPEC 4.8). Only a SHA-256 hash is stored; the
secret is shown once, at creation."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path

from switchman.controller.errors import Conflict, InvalidArgument, NotFound
from switchman.controller.security.model import Role, TokenRecord
from switchman.controller.store.abc import Store
from switchman.proto.validate import ValidationError, check_identifier

__all__ = ["PREFIX", "Role", "TokenRecord", "TokenStore", "digest", "new_secret"]

PREFIX = "smt_"


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class TokenStore:
    def __init__(self, store: Store, clock_ms: Callable[[], int] | None = None) -> None:
        self._store = store
        self._clock_ms = clock_ms or (lambda: int(time.time() * 1000))
        self._by_hash: dict[str, TokenRecord] = {}
        self._used: set[str] = set()  # names whose last use is newer than the stored one

    def load(self) -> None:
        """Blocking (run it in a thread): read every stored token."""
        for rec in self._store.tokens.all():
            self._by_hash[rec.hash] = rec

    def authenticate(self, secret: str) -> TokenRecord | None:
        rec = self._by_hash.get(digest(secret))
        if rec is None or rec.revoked:
            return None
        # constant-time compare of the full hash, though the dict lookup already matched
        if not hmac.compare_digest(rec.hash, digest(secret)):
            return None
        # in memory on every call; stored by save_last_used (a write per request would cost too much)
        rec.last_used_ms = self._clock_ms()
        self._used.add(rec.name)
        return rec

    async def save_last_used(self) -> None:
        """Store the last use of every token used since the previous save (the
        controller saves once a minute and when it stops). A failed write keeps
        them for the next save.

        :raises StoreError: the write failed."""
        if not self._used:
            return
        names, self._used = self._used, set()
        uses = [(r.name, r.last_used_ms) for r in self._by_hash.values() if r.name in names]
        try:
            await self._store.write(lambda tx: self._store.tokens.touch(tx, uses))
        except BaseException:
            self._used |= names
            raise

    def list(self) -> list[TokenRecord]:
        return sorted(self._by_hash.values(), key=lambda r: r.created_ms)

    async def create(self, name: str, role: str, now_ms: int, secret: str | None = None) -> tuple[TokenRecord, str]:
        try:
            check_identifier("name", name)
            r = Role(role)
        except ValidationError as exc:
            raise InvalidArgument(str(exc)) from None
        except ValueError:
            raise InvalidArgument(f"role: {role!r} is not one of viewer, operator, admin") from None
        if any(t.name == name for t in self._by_hash.values()):
            raise Conflict(f"a token named {name!r} exists already; revoke it first or pick another name")
        secret = secret or new_secret()
        rec = TokenRecord(name, r, digest(secret), now_ms)
        await self._store.write(lambda tx: self._store.tokens.insert(tx, rec))
        self._by_hash[rec.hash] = rec
        return rec, secret

    async def revoke(self, name: str) -> TokenRecord:
        rec = next((t for t in self._by_hash.values() if t.name == name), None)
        if rec is None:
            raise NotFound(f"no token named {name!r}")
        await self._store.write(lambda tx: self._store.tokens.revoke(tx, name))
        rec.revoked = True
        return rec

    async def ensure_admin_file(self, path: Path, now_ms: int) -> bool:
        """On first start, create the ``admin`` token and write it to ``path``
        (mode 0600). Returns True when it was created."""
        if any(t.name == "admin" for t in self._by_hash.values()):
            return False
        secret = new_secret()
        # the file first: a crash before the insert leaves a token that does not
        # work yet and is replaced at the next start; never the reverse
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secret + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.chmod(path, 0o600)
        await self.create("admin", Role.ADMIN.value, now_ms, secret)
        return True
