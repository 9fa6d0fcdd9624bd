"""The values security stores: bearer tokens with their role, and the
entries of the hash-chained audit log with the chain's head. Plain values:
:mod:`~switchman.controller.security.tokens` and
:mod:`~switchman.controller.security.audit` hold the logic, the store
persists them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


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


@dataclass(frozen=True)
class AuditEntry:
    id: int
    ts: int
    actor: str
    action: str
    target: str
    arguments: str
    result: str
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class AuditHead:
    """The last entry's id and hash and how many entries were appended,
    kept apart from the entries so that removing some from the end is
    detected."""

    last_id: int = 0
    last_hash: str = ""
    entries: int = 0
