"""Tokens and the audit log in SQLite. ``audit_head`` is one row (``one =
1``) holding the last entry's id and hash and the count; the rows are read
back exactly as stored, so that an edit made to the file shows in
:func:`switchman.controller.security.audit.verify`."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from switchman.controller.security.model import AuditEntry, AuditHead, Role, TokenRecord
from switchman.controller.store.abc import StoreError, Tx
from switchman.controller.store.sqlite import conn_of
from switchman.controller.store.sqlite.documents import Reader

_ENTRY = "SELECT id, ts, actor, action, target, arguments, result, prev_hash, hash FROM audit"


def _head(conn: sqlite3.Connection) -> AuditHead:
    row = conn.execute("SELECT last_id, last_hash, entries FROM audit_head WHERE one = 1").fetchone()
    return AuditHead(int(row[0]), str(row[1]), int(row[2])) if row else AuditHead()


class SqliteAudit:
    def __init__(self, reader: Reader) -> None:
        self._reader = reader

    def append(self, tx: Tx, make: Callable[[int, str], AuditEntry]) -> AuditEntry:
        conn = conn_of(tx)
        next_id = int(conn.execute("SELECT coalesce(max(id), 0) + 1 FROM audit").fetchone()[0])
        e = make(next_id, _head(conn).last_hash)
        conn.execute(
            "INSERT INTO audit (id, ts, actor, action, target, arguments, result, prev_hash, hash)"
            " VALUES (?,?,?,?,?,?,?,?,?)",
            (e.id, e.ts, e.actor, e.action, e.target, e.arguments, e.result, e.prev_hash, e.hash),
        )
        conn.execute(
            "INSERT INTO audit_head (one, last_id, last_hash, entries) VALUES (1, ?, ?, 1) ON CONFLICT(one) DO UPDATE"
            " SET last_id = excluded.last_id, last_hash = excluded.last_hash, entries = audit_head.entries + 1",
            (e.id, e.hash),
        )
        return e

    def head(self) -> AuditHead:
        return _head(self._reader())

    def entries(self, since_ms: int = 0, actor: str = "", limit: int = 1000) -> list[AuditEntry]:
        sql = _ENTRY + " WHERE ts >= ?"
        args: list[object] = [since_ms]
        if actor:
            sql += " AND actor = ?"
            args.append(actor)
        sql += " ORDER BY id DESC LIMIT ?"
        args.append(limit)
        return [AuditEntry(*row) for row in reversed(self._reader().execute(sql, args).fetchall())]

    def in_order(self) -> Iterator[AuditEntry]:
        for row in self._reader().execute(_ENTRY + " ORDER BY id"):
            yield AuditEntry(*row)

    @contextmanager
    def chain(self) -> Iterator[tuple[Iterator[AuditEntry], AuditHead]]:
        conn = self._reader()  # this thread's own connection: its read transaction is the snapshot
        conn.execute("BEGIN")
        try:
            head = _head(conn)  # the first read starts the snapshot
            yield (AuditEntry(*row) for row in conn.execute(_ENTRY + " ORDER BY id")), head
        finally:
            conn.execute("COMMIT")


class SqliteTokens:
    def __init__(self, reader: Reader) -> None:
        self._reader = reader

    def insert(self, tx: Tx, record: TokenRecord) -> None:
        r = record
        try:
            conn_of(tx).execute(
                "INSERT INTO tokens (name, role, hash, created_ms, last_used_ms, revoked) VALUES (?,?,?,?,?,?)",
                (r.name, r.role.value, r.hash, r.created_ms, r.last_used_ms, int(r.revoked)),
            )
        except sqlite3.IntegrityError:
            raise StoreError(f"a token named {r.name!r} (or with its hash) is stored already") from None

    def revoke(self, tx: Tx, name: str) -> None:
        conn_of(tx).execute("UPDATE tokens SET revoked = 1 WHERE name = ?", (name,))

    def touch(self, tx: Tx, uses: Sequence[tuple[str, int]]) -> None:
        conn_of(tx).executemany(
            "UPDATE tokens SET last_used_ms = ? WHERE name = ? AND last_used_ms < ?", [(ms, n, ms) for n, ms in uses]
        )

    def all(self) -> list[TokenRecord]:
        rows = self._reader().execute(
            "SELECT name, role, hash, created_ms, last_used_ms, revoked FROM tokens ORDER BY name"
        )
        return [TokenRecord(str(n), Role(r), str(h), int(c), int(u), bool(rv)) for n, r, h, c, u, rv in rows]
