"""Silences (SPEC 4.3): matchers with a time window, stored before they
are acknowledged; expired by time or on request, kept five days after
they end (Alertmanager's retention), then deleted."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

from switchman.controller.errors import InvalidArgument, NotFound
from switchman.controller.notify.matchers import MatcherError, make
from switchman.controller.notify.silence import Silence, SilenceState
from switchman.controller.promql.ast import Matcher
from switchman.controller.store.abc import Store

__all__ = ["MAX_COMMENT", "RETENTION_MS", "Silence", "SilenceState", "SilenceStore", "validate"]

RETENTION_MS = 5 * 86_400_000
MAX_COMMENT = 1024


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
    """Every silence, in memory for the dispatcher's once-a-second checks;
    each change is stored before it is applied here."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._by_id: dict[str, Silence] = {}

    def load(self) -> None:
        """Blocking (run it in a thread): read every stored silence."""
        self._by_id = {s.id: s for s in self._store.silences.all()}

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
        await self._store.write(lambda tx: self._store.silences.insert(tx, s))
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
        await self._store.write(lambda tx: self._store.silences.save(tx, ended))
        self._by_id[s.id] = ended
        return ended

    async def collect_garbage(self, now_ms: int) -> int:
        """Delete the silences that ended more than :data:`RETENTION_MS` ago; returns how many."""
        before = now_ms - RETENTION_MS
        old = [s.id for s in self._by_id.values() if s.ends_ms < before]
        if old:
            await self._store.write(lambda tx: self._store.silences.delete_ended_before(tx, before))
            for i in old:
                self._by_id.pop(i, None)
        return len(old)

    def find(self, now_ms: int, include_expired: bool = False) -> list[Silence]:
        out = [s for s in self._by_id.values() if include_expired or s.state(now_ms) is not SilenceState.EXPIRED]
        return sorted(out, key=lambda s: (s.ends_ms, s.id))

    def muting(self, labels: Mapping[str, str], now_ms: int) -> list[str]:
        """Ids of the active silences that match these labels."""
        return [s.id for s in self._by_id.values() if s.mutes(labels, now_ms)]
