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
import sqlite3
from dataclasses import dataclass

from switchman.controller.store.writer import Writer


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
class Verdict:
    ok: bool
    entries: int
    first_bad_id: int = 0
    message: str = ""


def entry_hash(prev_hash: str, ts: int, actor: str, action: str, target: str, arguments: str, result: str) -> str:
    body = json.dumps([ts, actor, action, target, arguments, result], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


class AuditLog:
    def __init__(self, writer: Writer) -> None:
        self._writer = writer

    async def append(self, ts: int, actor: str, action: str, target: str, arguments: str, result: str) -> int:
        def job(conn: sqlite3.Connection) -> int:
            head = conn.execute("SELECT last_id, last_hash, entries FROM audit_head WHERE one = 1").fetchone()
            prev = head[1] if head else ""
            h = entry_hash(prev, ts, actor, action, target, arguments, result)
            cur = conn.execute(
                "INSERT INTO audit (ts, actor, action, target, arguments, result, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?)",
                (ts, actor, action, target, arguments, result, prev, h),
            )
            new_id = int(cur.lastrowid or 0)
            conn.execute(
                "INSERT INTO audit_head (one, last_id, last_hash, entries) VALUES (1, ?, ?, 1) ON CONFLICT(one) DO UPDATE"
                " SET last_id = excluded.last_id, last_hash = excluded.last_hash, entries = audit_head.entries + 1",
                (new_id, h),
            )
            return new_id

        return await self._writer.run(job)


def entries(conn: sqlite3.Connection, since_ms: int = 0, actor: str = "", limit: int = 1000) -> list[AuditEntry]:
    sql = "SELECT id, ts, actor, action, target, arguments, result, prev_hash, hash FROM audit WHERE ts >= ?"
    args: list[object] = [since_ms]
    if actor:
        sql += " AND actor = ?"
        args.append(actor)
    sql += " ORDER BY id DESC LIMIT ?"
    args.append(limit)
    return [AuditEntry(*row) for row in reversed(conn.execute(sql, args).fetchall())]


def verify(conn: sqlite3.Connection) -> Verdict:
    """Walk the chain; name the first entry that was edited or deleted."""
    prev_hash, prev_id, n = "", 0, 0
    for row in conn.execute(
        "SELECT id, ts, actor, action, target, arguments, result, prev_hash, hash FROM audit ORDER BY id"
    ):
        e = AuditEntry(*row)
        n += 1
        if e.id != prev_id + 1:
            return Verdict(False, n, prev_id + 1, f"entry {prev_id + 1} is missing (deleted)")
        if e.prev_hash != prev_hash:
            return Verdict(False, n, e.id, f"entry {e.id} does not follow entry {prev_id}: entry {prev_id} was changed")
        if entry_hash(e.prev_hash, e.ts, e.actor, e.action, e.target, e.arguments, e.result) != e.hash:
            return Verdict(False, n, e.id, f"entry {e.id} was edited (its hash does not match its content)")
        prev_hash, prev_id = e.hash, e.id
    head = conn.execute("SELECT last_id, last_hash, entries FROM audit_head WHERE one = 1").fetchone()
    last_id, last_hash, count = head if head else (0, "", 0)
    if count != n or last_id != prev_id or last_hash != prev_hash:
        return Verdict(False, n, prev_id + 1, f"entries after {prev_id} are missing (the log held {count} entries)")
    return Verdict(True, n)
