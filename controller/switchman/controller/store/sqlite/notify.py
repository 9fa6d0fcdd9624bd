"""The notification tables in SQLite (migration 0006): the delivery
outbox, what each notifier remembers, and silences (their matchers kept as
JSON ``[[name, op, value], ...]``)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence

from switchman.controller.notify.base import Message
from switchman.controller.notify.matchers import make
from switchman.controller.notify.silence import Silence
from switchman.controller.store.abc import QueuedMessage, StoreError, Tx
from switchman.controller.store.sqlite import conn_of
from switchman.controller.store.sqlite.documents import Reader


class SqliteOutbox:
    def __init__(self, reader: Reader) -> None:
        self._reader = reader

    def enqueue(self, tx: Tx, messages: Sequence[Message], now_ms: int) -> None:
        conn_of(tx).executemany(
            "INSERT INTO outbox (notifier, url, body, content_type, created_ms, next_ms, attempts, last_error)"
            " VALUES (?,?,?,?,?,?,0,'')",
            [(m.notifier, m.url, m.body, m.content_type, now_ms, now_ms) for m in messages],
        )

    def pending(self) -> int:
        return int(self._reader().execute("SELECT count(*) FROM outbox").fetchone()[0])

    def due(self, now_ms: int, limit: int) -> list[QueuedMessage]:
        rows = self._reader().execute(
            "SELECT id, notifier, url, body, content_type, created_ms, next_ms, attempts, last_error FROM outbox"
            " WHERE next_ms <= ? AND NOT EXISTS (SELECT 1 FROM outbox AS earlier WHERE earlier.notifier = outbox.notifier"
            " AND earlier.url = outbox.url AND earlier.id < outbox.id AND earlier.next_ms > ?) ORDER BY id LIMIT ?",
            (now_ms, now_ms, limit),
        )
        return [
            QueuedMessage(int(i), Message(str(n), str(u), bytes(b), str(ct)), int(c), int(nxt), int(a), str(e))
            for i, n, u, b, ct, c, nxt, a, e in rows
        ]

    def remove(self, tx: Tx, message_ids: Sequence[int]) -> None:
        conn_of(tx).executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in message_ids])

    def reschedule(self, tx: Tx, message_id: int, next_ms: int, error: str) -> None:
        conn_of(tx).execute(
            "UPDATE outbox SET next_ms = ?, attempts = attempts + 1, last_error = ? WHERE id = ?",
            (next_ms, error, message_id),
        )


class SqliteNotifyState:
    def __init__(self, reader: Reader) -> None:
        self._reader = reader

    def get(self, notifier: str) -> dict[str, str]:
        rows = self._reader().execute("SELECT key, value FROM notify_state WHERE notifier = ?", (notifier,))
        return {str(k): str(v) for k, v in rows}

    def update(self, tx: Tx, notifier: str, changes: Mapping[str, str | None]) -> None:
        conn = conn_of(tx)
        conn.executemany(
            "DELETE FROM notify_state WHERE notifier = ? AND key = ?",
            [(notifier, k) for k, v in changes.items() if v is None],
        )
        conn.executemany(
            "INSERT OR REPLACE INTO notify_state (notifier, key, value) VALUES (?,?,?)",
            [(notifier, k, v) for k, v in changes.items() if v is not None],
        )


def _matchers_json(s: Silence) -> str:
    return json.dumps([[m.name, str(m.op), m.value] for m in s.matchers])


def _silence(row: Sequence[object]) -> Silence:
    sid, ms, starts, ends, by, comment, created = row
    matchers = tuple(make(n, o, v) for n, o, v in json.loads(str(ms)))
    return Silence(str(sid), matchers, int(str(starts)), int(str(ends)), str(by), str(comment), int(str(created)))


class SqliteSilences:
    def __init__(self, reader: Reader) -> None:
        self._reader = reader

    def insert(self, tx: Tx, silence: Silence) -> None:
        s = silence
        try:
            conn_of(tx).execute(
                "INSERT INTO silences (id, matchers, starts_ms, ends_ms, created_by, comment, created_ms)"
                " VALUES (?,?,?,?,?,?,?)",
                (s.id, _matchers_json(s), s.starts_ms, s.ends_ms, s.created_by, s.comment, s.created_ms),
            )
        except sqlite3.IntegrityError:
            raise StoreError(f"a silence with id {s.id!r} is stored already") from None

    def save(self, tx: Tx, silence: Silence) -> None:
        s = silence
        conn_of(tx).execute(
            "UPDATE silences SET matchers = ?, starts_ms = ?, ends_ms = ?, created_by = ?, comment = ?,"
            " created_ms = ? WHERE id = ?",
            (_matchers_json(s), s.starts_ms, s.ends_ms, s.created_by, s.comment, s.created_ms, s.id),
        )

    def delete_ended_before(self, tx: Tx, before_ms: int) -> int:
        return conn_of(tx).execute("DELETE FROM silences WHERE ends_ms < ?", (before_ms,)).rowcount

    def all(self) -> list[Silence]:
        rows = self._reader().execute(
            "SELECT id, matchers, starts_ms, ends_ms, created_by, comment, created_ms FROM silences ORDER BY id"
        )
        return [_silence(r) for r in rows]
