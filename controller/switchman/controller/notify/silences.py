"""Silences (SPEC 4.3): matchers with a time window, stored in SQLite before
they are acknowledged; expired by time or on request, kept five days after
they end (Alertmanager's retention), then deleted."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from switchman.controller.errors import InvalidArgument, NotFound
from switchman.controller.notify.matchers import MatcherError, make, matches_all
from switchman.controller.promql.ast import Matcher
from switchman.controller.store import Writer

RETENTION_MS = 5 * 86_400_000
MAX_COMMENT = 1024


class SilenceState(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Silence:
    id: str
    matchers: tuple[Matcher, ...]
    starts_ms: int
    ends_ms: int
    created_by: str
    comment: str
    created_ms: int

    def state(self, now_ms: int) -> SilenceState:
        if now_ms >= self.ends_ms:
            return SilenceState.EXPIRED
        return SilenceState.PENDING if now_ms < self.starts_ms else SilenceState.ACTIVE

    def mutes(self, labels: Mapping[str, str], now_ms: int) -> bool:
        return self.state(now_ms) is SilenceState.ACTIVE and matches_all(self.matchers, labels)

    def row(self) -> tuple[object, ...]:
        ms = json.dumps([[m.name, str(m.op), m.value] for m in self.matchers])
        return (self.id, ms, self.starts_ms, self.ends_ms, self.created_by, self.comment, self.created_ms)


def _from_row(row: Sequence[object]) -> Silence:
    sid, ms, starts, ends, by, comment, created = row
    matchers = tuple(make(n, o, v) for n, o, v in json.loads(str(ms)))
    return Silence(str(sid), matchers, int(str(starts)), int(str(ends)), str(by), str(comment), int(str(created)))


def validate(
    matchers: Sequence[tuple[str, str, str]], starts_ms: int, ends_ms: int, comment: str, now_ms: int
) -> tuple[Matcher, ...]:
    """:raises InvalidArgument: naming the field."""
    if not matchers:
        raise InvalidArgument("matchers: a silence needs at least one matcher")
    try:
        parsed = tuple(make(n, o, v) for n, o, v in matchers)
    except MatcherError as exc:
        raise InvalidArgument(f"matchers: {exc}") from None
    if all(m.matches("") for m in parsed):
        raise InvalidArgument(
            "matchers: at least one matcher must not match the empty string (it would silence everything)"
        )
    if ends_ms <= starts_ms:
        raise InvalidArgument("ends_at: must be after starts_at")
    if ends_ms <= now_ms:
        raise InvalidArgument("ends_at: is in the past")
    if not comment.strip():
        raise InvalidArgument("comment: a silence needs a comment (why, and a ticket if there is one)")
    if len(comment) > MAX_COMMENT:
        raise InvalidArgument(f"comment: longer than {MAX_COMMENT} characters")
    return parsed


class SilenceStore:
    def __init__(self, writer: Writer) -> None:
        self._writer = writer
        self._by_id: dict[str, Silence] = {}

    def load(self, conn: sqlite3.Connection) -> None:
        self._by_id = {s.id: s for s in map(_from_row, conn.execute("SELECT * FROM silences"))}

    async def add(
        self,
        matchers: Sequence[tuple[str, str, str]],
        starts_ms: int,
        ends_ms: int,
        author: str,
        comment: str,
        now_ms: int,
    ) -> Silence:
        parsed = validate(matchers, starts_ms or now_ms, ends_ms, comment, now_ms)
        s = Silence(uuid.uuid4().hex, parsed, starts_ms or now_ms, ends_ms, author or "unknown", comment, now_ms)
        await self._writer.run(lambda c: c.execute("INSERT INTO silences VALUES (?,?,?,?,?,?,?)", s.row()))
        self._by_id[s.id] = s
        return s

    async def expire(self, silence_id: str, now_ms: int) -> Silence:
        """Ends the silence now (a pending one ends before it starts). Idempotent."""
        s = self._by_id.get(silence_id)
        if s is None:
            raise NotFound(f"silence {silence_id!r} does not exist (see `switchman silence list --expired`)")
        if s.state(now_ms) is SilenceState.EXPIRED:
            return s
        ended = Silence(s.id, s.matchers, min(s.starts_ms, now_ms), now_ms, s.created_by, s.comment, s.created_ms)
        await self._writer.run(
            lambda c: c.execute(
                "UPDATE silences SET starts_ms = ?, ends_ms = ? WHERE id = ?", (ended.starts_ms, now_ms, s.id)
            )
        )
        self._by_id[s.id] = ended
        return ended

    async def collect_garbage(self, now_ms: int) -> int:
        old = [s.id for s in self._by_id.values() if s.ends_ms < now_ms - RETENTION_MS]
        if old:
            await self._writer.run(lambda c: c.executemany("DELETE FROM silences WHERE id = ?", [(i,) for i in old]))
            for i in old:
                self._by_id.pop(i, None)
        return len(old)

    def find(self, now_ms: int, include_expired: bool = False) -> list[Silence]:
        out = [s for s in self._by_id.values() if include_expired or s.state(now_ms) is not SilenceState.EXPIRED]
        return sorted(out, key=lambda s: (s.ends_ms, s.id))

    def muting(self, labels: Mapping[str, str], now_ms: int) -> list[str]:
        """Ids of the active silences that match these labels."""
        return [s.id for s in self._by_id.values() if s.mutes(labels, now_ms)]
