"""The audit log (SPEC 4.8): every change appended with time, actor, action,
target, arguments and result, hash-chained so that an edited or deleted
entry is detected by :func:`verify`.

``hash = sha256(prev_hash + canonical JSON of the entry's fields)``; the
first entry's ``prev_hash`` is empty. ``audit_head`` keeps the last id,
hash and count, so removing entries from the end is detected too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from switchman.controller.security.model import AuditEntry, AuditHead
from switchman.controller.store.abc import Store, Tx

__all__ = ["AuditEntry", "AuditLog", "Verdict", "entry_hash", "verify"]


@dataclass(frozen=True)
class Verdict:
    ok: bool
    entries: int
    first_bad_id: int = 0
    message: str = ""


def entry_hash(prev_hash: str, ts: int, actor: str, action: str, target: str, arguments: str, result: str) -> str:
    body = json.dumps([ts, actor, action, target, arguments, result], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


class AuditLog:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def append(self, ts: int, actor: str, action: str, target: str, arguments: str, result: str) -> int:
        def entry(new_id: int, prev: str) -> AuditEntry:
            h = entry_hash(prev, ts, actor, action, target, arguments, result)
            return AuditEntry(new_id, ts, actor, action, target, arguments, result, prev, h)

        def job(tx: Tx) -> int:
            return self._store.audit.append(tx, entry).id

        return await self._store.write(job)

    def entries(self, since_ms: int = 0, actor: str = "", limit: int = 1000) -> list[AuditEntry]:
        """Blocking: the newest ``limit`` entries at or after ``since_ms`` (by ``actor`` when given), oldest first."""
        return self._store.audit.entries(since_ms, actor, limit)

    def verify(self) -> Verdict:
        """Blocking: walk the stored chain (see :func:`verify`), entries and head
        from one snapshot, so an entry appended during the walk is not taken for a deletion."""
        with self._store.audit.chain() as (entries, head):
            return verify(entries, lambda: head)


def verify(entries: Iterable[AuditEntry], head: Callable[[], AuditHead]) -> Verdict:
    """Walk the chain, oldest entry first; name the first entry that was
    edited or deleted. ``head`` is read after the walk."""
    prev_hash, prev_id, n = "", 0, 0
    for e in entries:
        n += 1
        if e.id != prev_id + 1:
            return Verdict(False, n, prev_id + 1, f"entry {prev_id + 1} is missing (deleted)")
        if e.prev_hash != prev_hash:
            return Verdict(False, n, e.id, f"entry {e.id} does not follow entry {prev_id}: entry {prev_id} was changed")
        if entry_hash(e.prev_hash, e.ts, e.actor, e.action, e.target, e.arguments, e.result) != e.hash:
            return Verdict(False, n, e.id, f"entry {e.id} was edited (its hash does not match its content)")
        prev_hash, prev_id = e.hash, e.id
    last = head()
    if last.entries != n or last.last_id != prev_id or last.last_hash != prev_hash:
        return Verdict(
            False, n, prev_id + 1, f"entries after {prev_id} are missing (the log held {last.entries} entries)"
        )
    return Verdict(True, n)
