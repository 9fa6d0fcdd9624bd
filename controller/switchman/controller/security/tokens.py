"""Bearer tokens with roles (SPEC 4.8). Only a SHA-256 hash is stored; the
secret is shown once, at creation."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sqlite3
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from switchman.controller.errors import Conflict, InvalidArgument, NotFound
from switchman.controller.store.writer import Writer
from switchman.proto.validate import ValidationError, check_identifier

PREFIX = "smt_"


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return {"viewer": 0, "operator": 1, "admin": 2}[self.value]

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


@dataclass
class TokenRecord:
    name: str
    role: Role
    hash: str
    created_ms: int
    last_used_ms: int = 0
    revoked: bool = False


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class TokenStore:
    def __init__(self, writer: Writer) -> None:
        self._writer = writer
        self._by_hash: dict[str, TokenRecord] = {}

    def load(self, conn: sqlite3.Connection) -> None:
        for name, role, h, created, used, revoked in conn.execute(
            "SELECT name, role, hash, created_ms, last_used_ms, revoked FROM tokens"
        ):
            self._by_hash[h] = TokenRecord(name, Role(role), h, created, used, bool(revoked))

    def authenticate(self, secret: str) -> TokenRecord | None:
        rec = self._by_hash.get(digest(secret))
        if rec is None or rec.revoked:
            return None
        # constant-time compare of the full hash, though the dict lookup already matched
        return rec if hmac.compare_digest(rec.hash, digest(secret)) else None

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

        def job(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO tokens (name, role, hash, created_ms) VALUES (?,?,?,?)", (name, r.value, rec.hash, now_ms)
            )

        await self._writer.run(job)
        self._by_hash[rec.hash] = rec
        return rec, secret

    async def revoke(self, name: str) -> TokenRecord:
        rec = next((t for t in self._by_hash.values() if t.name == name), None)
        if rec is None:
            raise NotFound(f"no token named {name!r}")
        await self._writer.run(lambda conn: conn.execute("UPDATE tokens SET revoked=1 WHERE name=?", (name,)))
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
