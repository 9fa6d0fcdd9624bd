"""The in-memory backend of :mod:`switchman.controller.store.abc`: plain
dicts and lists behind one lock. A transaction keeps an undo log, so a job
that raises leaves nothing behind, as in SQLite. Documents are kept as JSON
text, so what a caller changes after a write is not seen by later reads
(the same isolation the database gives)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Generic, Protocol, TypeVar

from switchman.controller.chaos.journal import Journal
from switchman.controller.incidents.model import Incident
from switchman.controller.notify.base import Message
from switchman.controller.notify.silence import Silence
from switchman.controller.promql.ast import Matcher
from switchman.controller.promql.values import Sample, Series, is_stale
from switchman.controller.rollouts.model import TERMINAL, Rollout
from switchman.controller.security.model import AuditEntry, AuditHead, TokenRecord
from switchman.controller.store.abc import AlertRecord, Event, QueuedMessage, SpecRevision, StoreError, Tx

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")


@dataclass
class MemoryTx:
    undo: list[Callable[[], None]] = field(default_factory=list)
    committed: list[Callable[[], None]] = field(default_factory=list)
    rolled_back: list[Callable[[], None]] = field(default_factory=list)

    def on_commit(self, hook: Callable[[], None]) -> None:
        self.committed.append(hook)

    def on_rollback(self, hook: Callable[[], None]) -> None:
        self.rolled_back.append(hook)


def _tx(tx: Tx) -> MemoryTx:
    if not isinstance(tx, MemoryTx):
        raise TypeError(f"an in-memory repository was handed a {type(tx).__name__}, not its own transaction")
    return tx


def _put(tx: Tx, table: dict[K, V], key: K, doc: V) -> None:
    """``table[key] = doc``, undone if the transaction is."""
    t = _tx(tx)
    had, old = key in table, table.get(key)
    table[key] = doc

    def undo() -> None:
        if had and old is not None:
            table[key] = old
        else:
            table.pop(key, None)

    t.undo.append(undo)


def _pop(tx: Tx, table: dict[K, V], key: K) -> None:
    """``del table[key]`` when it is there, undone if the transaction is."""
    t = _tx(tx)
    if key not in table:
        return
    old = table.pop(key)

    def undo() -> None:
        table[key] = old

    t.undo.append(undo)


def _append(tx: Tx, rows: list[T], row: T) -> None:
    rows.append(row)

    def undo() -> None:
        rows.pop()  # undone in reverse order, under the write lock: the last row is this one

    _tx(tx).undo.append(undo)


class MemoryEventLog:
    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self.rows: list[Event] = []

    def _copy_rows(self) -> list[Event]:
        with self._lock:
            return list(self.rows)

    def add(self, tx: Tx, event: Event) -> None:
        _append(tx, self.rows, Event(**{**event.__dict__, "message": event.message[:1000]}))

    def around(
        self, services: Sequence[str], hosts: Sequence[str], kinds: Sequence[str], since_ms: int, until_ms: int
    ) -> list[Event]:
        prefixes = tuple(k.replace("%", "") for k in kinds)
        found = [
            e
            for e in self._copy_rows()
            if (e.service in services or e.host_id in hosts)
            and e.kind.startswith(prefixes)
            and since_ms <= e.ts <= until_ms
            and prefixes
        ]
        return sorted(found, key=lambda e: e.ts)[:500]


class _Document(Protocol):
    id: int

    def to_json(self) -> str: ...


D = TypeVar("D", bound=_Document)


class _Documents(Generic[D]):
    """JSON documents by id, decoded on every read (so a caller's later
    changes are not seen); reads work on a copy taken under the lock."""

    def __init__(self, lock: threading.RLock, decode: Callable[[str], D]) -> None:
        self._lock = lock
        self._decode = decode
        self.docs: dict[int, str] = {}
        self._next = 1

    def _in_order(self, newest_first: bool = False) -> list[D]:
        with self._lock:
            docs = dict(self.docs)
        return [self._decode(docs[i]) for i in sorted(docs, reverse=newest_first)]

    def insert(self, tx: Tx, doc: D) -> int:
        """A new id, never reused (as with SQLite, a rolled-back insert may leave a gap)."""
        doc.id, self._next = self._next, self._next + 1
        _put(tx, self.docs, doc.id, doc.to_json())
        return doc.id

    def save(self, tx: Tx, doc: D) -> None:
        if doc.id in self.docs:
            _put(tx, self.docs, doc.id, doc.to_json())

    def load(self, doc_id: int) -> D | None:
        with self._lock:
            text = self.docs.get(doc_id)
        return self._decode(text) if text else None


class MemoryRollouts(_Documents[Rollout]):
    def __init__(self, lock: threading.RLock) -> None:
        super().__init__(lock, Rollout.from_json)

    def create(self, tx: Tx, make: Callable[[int], Rollout]) -> Rollout:
        r = make(max(self.docs, default=0) + 1)  # as SQLite: max(id) + 1
        _put(tx, self.docs, r.id, r.to_json())
        return r

    def recent(self, service: str = "", limit: int = 50) -> list[Rollout]:
        return [r for r in self._in_order(newest_first=True) if not service or r.service == service][:limit]

    def unfinished(self) -> list[Rollout]:
        return [r for r in self._in_order() if r.state not in TERMINAL]


class MemoryIncidents(_Documents[Incident]):
    def __init__(self, lock: threading.RLock) -> None:
        super().__init__(lock, Incident.from_json)

    def open(self) -> list[Incident]:
        return [i for i in self._in_order() if i.state.value in ("triggered", "acknowledged")]

    def find(self, state: str, include_closed: bool, since_ms: int, limit: int = 1000) -> list[Incident]:
        def wanted(i: Incident) -> bool:
            if state:
                return i.state.value == state
            return include_closed or i.state.value != "closed"

        return [i for i in self._in_order(newest_first=True) if i.opened_ms >= since_ms and wanted(i)][:limit]


class MemoryDrills(_Documents[Journal]):
    def __init__(self, lock: threading.RLock) -> None:
        super().__init__(lock, Journal.from_json)

    def recent(self, limit: int) -> list[Journal]:
        return self._in_order(newest_first=True)[:limit]

    def unfinished(self) -> list[Journal]:
        return [j for j in self._in_order() if not j.finished_ms]


class MemorySpecs:
    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self.rows: list[SpecRevision] = []

    def _copy_rows(self) -> list[SpecRevision]:
        with self._lock:
            return list(self.rows)

    def add(self, tx: Tx, name: str, source: str, applied_ms: int, applied_by: str) -> tuple[int, bool]:
        mine = self.history(name)
        if mine and mine[-1].source == source:
            return mine[-1].revision, False
        revision = (mine[-1].revision if mine else 0) + 1
        _append(tx, self.rows, SpecRevision(name, revision, source, applied_ms, applied_by))
        return revision, True

    def history(self, name: str) -> list[SpecRevision]:
        return sorted((r for r in self._copy_rows() if r.name == name), key=lambda r: r.revision)

    def all(self) -> list[SpecRevision]:
        return sorted(self._copy_rows(), key=lambda r: (r.name, r.revision))

    def remove(self, tx: Tx, name: str) -> int:
        with self._lock:
            before = list(self.rows)
            self.rows[:] = [r for r in before if r.name != name]

        def undo() -> None:
            self.rows[:] = before

        _tx(tx).undo.append(undo)
        return len(before) - len(self.rows)


class MemoryOutbox:
    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self.queued: dict[int, QueuedMessage] = {}
        self._next = 1

    def enqueue(self, tx: Tx, messages: Sequence[Message], now_ms: int) -> None:
        for m in messages:
            q, self._next = QueuedMessage(self._next, m, now_ms, now_ms), self._next + 1
            _put(tx, self.queued, q.id, q)

    def pending(self) -> int:
        with self._lock:
            return len(self.queued)

    def due(self, now_ms: int, limit: int) -> list[QueuedMessage]:
        with self._lock:
            queued = list(self.queued.values())
        waiting: dict[tuple[str, str], int] = {}  # destination -> its first message still waiting for a retry
        for q in queued:
            if q.next_ms > now_ms:
                lane = (q.message.notifier, q.message.url)
                waiting[lane] = min(waiting.get(lane, q.id), q.id)
        due = (
            q
            for q in queued
            if q.next_ms <= now_ms and q.id < waiting.get((q.message.notifier, q.message.url), q.id + 1)
        )
        return sorted(due, key=lambda q: q.id)[:limit]

    def remove(self, tx: Tx, message_ids: Sequence[int]) -> None:
        for i in message_ids:
            _pop(tx, self.queued, i)

    def reschedule(self, tx: Tx, message_id: int, next_ms: int, error: str) -> None:
        q = self.queued.get(message_id)
        if q is not None:
            _put(tx, self.queued, q.id, replace(q, next_ms=next_ms, attempts=q.attempts + 1, last_error=error))


class MemoryNotifyState:
    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self.values: dict[tuple[str, str], str] = {}

    def get(self, notifier: str) -> dict[str, str]:
        with self._lock:
            return {k: v for (n, k), v in self.values.items() if n == notifier}

    def update(self, tx: Tx, notifier: str, changes: Mapping[str, str | None]) -> None:
        for key, value in changes.items():
            if value is None:
                _pop(tx, self.values, (notifier, key))
            else:
                _put(tx, self.values, (notifier, key), value)


class MemorySilences:
    """Silences are frozen values: stored and handed out as they are."""

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self.by_id: dict[str, Silence] = {}

    def insert(self, tx: Tx, silence: Silence) -> None:
        if silence.id in self.by_id:
            raise StoreError(f"a silence with id {silence.id!r} is stored already")
        _put(tx, self.by_id, silence.id, silence)

    def save(self, tx: Tx, silence: Silence) -> None:
        if silence.id in self.by_id:
            _put(tx, self.by_id, silence.id, silence)

    def delete_ended_before(self, tx: Tx, before_ms: int) -> int:
        ended = [i for i, s in self.by_id.items() if s.ends_ms < before_ms]
        for i in ended:
            _pop(tx, self.by_id, i)
        return len(ended)

    def all(self) -> list[Silence]:
        with self._lock:
            return [self.by_id[i] for i in sorted(self.by_id)]


class MemoryAudit:
    """Entries in id order and the head; entries are frozen values."""

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self.rows: list[AuditEntry] = []
        self.heads: dict[int, AuditHead] = {}  # the one head, at key 1 (put and undone like a row)

    def append(self, tx: Tx, make: Callable[[int, str], AuditEntry]) -> AuditEntry:
        head = self.heads.get(1, AuditHead())
        e = make((self.rows[-1].id if self.rows else 0) + 1, head.last_hash)
        _append(tx, self.rows, e)
        _put(tx, self.heads, 1, AuditHead(e.id, e.hash, head.entries + 1))
        return e

    def head(self) -> AuditHead:
        with self._lock:
            return self.heads.get(1, AuditHead())

    def _copy_rows(self) -> list[AuditEntry]:
        with self._lock:
            return list(self.rows)

    def entries(self, since_ms: int = 0, actor: str = "", limit: int = 1000) -> list[AuditEntry]:
        found = [e for e in self._copy_rows() if e.ts >= since_ms and (not actor or e.actor == actor)]
        return found[-limit:] if limit > 0 else []

    def in_order(self) -> Iterator[AuditEntry]:
        return iter(self._copy_rows())

    @contextmanager
    def chain(self) -> Iterator[tuple[Iterator[AuditEntry], AuditHead]]:
        with self._lock:
            rows, head = list(self.rows), self.heads.get(1, AuditHead())
        yield iter(rows), head


class MemoryTokens:
    """Token records are mutable: copies go in and come out."""

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self.by_name: dict[str, TokenRecord] = {}

    def insert(self, tx: Tx, record: TokenRecord) -> None:
        if record.name in self.by_name or any(t.hash == record.hash for t in self.by_name.values()):
            raise StoreError(f"a token named {record.name!r} (or with its hash) is stored already")
        _put(tx, self.by_name, record.name, replace(record))

    def revoke(self, tx: Tx, name: str) -> None:
        rec = self.by_name.get(name)
        if rec is not None:
            _put(tx, self.by_name, name, replace(rec, revoked=True))

    def touch(self, tx: Tx, uses: Sequence[tuple[str, int]]) -> None:
        for name, ms in uses:
            rec = self.by_name.get(name)
            if rec is not None and rec.last_used_ms < ms:
                _put(tx, self.by_name, name, replace(rec, last_used_ms=ms))

    def all(self) -> list[TokenRecord]:
        with self._lock:
            return [replace(self.by_name[n]) for n in sorted(self.by_name)]


class MemoryAlertStates:
    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self.by_rule: dict[str, list[AlertRecord]] = {}

    def all(self) -> list[AlertRecord]:
        with self._lock:
            return [a for rows in self.by_rule.values() for a in rows]

    def replace(self, tx: Tx, rule_key: str, alerts: Sequence[AlertRecord]) -> None:
        t, table = _tx(tx), self.by_rule
        had, old = rule_key in table, table.get(rule_key, [])
        table[rule_key] = [replace(a, rule_key=rule_key) for a in alerts]

        def undo() -> None:
            if had:
                table[rule_key] = old
            else:
                table.pop(rule_key, None)

        t.undo.append(undo)


class MemorySamples:
    """Series by their labels (``__name__`` included), each a time -> value map."""

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self.series: dict[tuple[tuple[str, str], ...], dict[int, float]] = {}

    def add(self, tx: Tx, samples: Sequence[Sample], ts: int) -> None:
        if any(not s.labels.get("__name__") for s in samples):
            raise StoreError("a sample without a metric name (__name__) cannot be stored")
        t = _tx(tx)
        for s in samples:
            key = tuple(sorted(s.labels.items()))
            points = self.series.setdefault(key, {})
            had, old = ts in points, points.get(ts)
            points[ts] = s.v

            def undo(points: dict[int, float] = points, had: bool = had, old: float | None = old) -> None:
                if had and old is not None:
                    points[ts] = old
                else:
                    points.pop(ts, None)

            t.undo.append(undo)

    def select(self, matchers: Sequence[Matcher], start_ms: int, end_ms: int) -> list[Series]:
        with self._lock:
            found = {key: dict(points) for key, points in self.series.items()}
        out = []
        for key, points in sorted(found.items()):
            labels = dict(key)
            if not all(m.matches(labels.get(m.name, "")) for m in matchers):
                continue
            s = Series(labels)
            for ts in sorted(t for t in points if start_ms <= t <= end_ms):
                s.ts.append(ts)
                s.vs.append(points[ts])
                s.stale = s.stale or is_stale(points[ts])
            if s.ts:
                out.append(s)
        return out

    def count(self) -> int:
        with self._lock:
            return sum(len(p) for p in self.series.values())


class MemoryStore:
    """Every repository in memory (see the module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.events = MemoryEventLog(self._lock)
        self.rollouts = MemoryRollouts(self._lock)
        self.incidents = MemoryIncidents(self._lock)
        self.drills = MemoryDrills(self._lock)
        self.specs = MemorySpecs(self._lock)
        self.outbox = MemoryOutbox(self._lock)
        self.notify_state = MemoryNotifyState(self._lock)
        self.silences = MemorySilences(self._lock)
        self.audit = MemoryAudit(self._lock)
        self.tokens = MemoryTokens(self._lock)
        self.alerts = MemoryAlertStates(self._lock)
        self.samples = MemorySamples(self._lock)

    async def write(self, job: Callable[[Tx], T]) -> T:
        return self.write_now(job)

    def write_now(self, job: Callable[[Tx], T]) -> T:
        with self._lock:
            tx = MemoryTx()
            try:
                result = job(tx)
            except BaseException:
                for undo in reversed(tx.undo):
                    undo()
                for hook in tx.rolled_back:
                    hook()
                raise
        for hook in tx.committed:
            hook()
        return result
