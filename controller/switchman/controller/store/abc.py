"""The store's interfaces: one repository per aggregate, and the write
transaction they share. Two backends implement them, obeying one contract
suite (``tests/contract/``): :mod:`~switchman.controller.store.sqlite` (the
controller's database) and :mod:`~switchman.controller.store.memory` (tests,
and the model for a future PostgreSQL store).

Reads are blocking and answer from committed data; call them off the event
loop (``asyncio.to_thread``). Writes take the :class:`Tx` handed to a job run
by :meth:`Store.write`: everything one job writes commits together or not at
all, and the job's awaiter resumes only after the commit (nothing is
acknowledged before it is durable).

Every method may raise :class:`StoreError` when the backend fails (a full
disk, a broken file); the data it held is unchanged then."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from switchman.controller.chaos.journal import Journal
from switchman.controller.incidents.model import Incident
from switchman.controller.notify.base import Message
from switchman.controller.notify.silence import Silence
from switchman.controller.promql.ast import Matcher
from switchman.controller.promql.values import Sample, Series
from switchman.controller.rollouts.model import Rollout
from switchman.controller.security.model import AuditEntry, AuditHead, TokenRecord

T = TypeVar("T")


class StoreError(Exception):
    """The backend could not read or write (its data is as it was)."""


class StoreFull(StoreError):
    """The disk under the store is full: the write was not committed (what
    was committed before stays). Writes succeed again once space returns."""


class Tx(Protocol):
    """One write transaction."""

    def on_commit(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` once the transaction has committed (e.g. update a cache)."""
        ...

    def on_rollback(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` if this job's writes are undone."""
        ...


@dataclass(frozen=True)
class Event:
    """Something that happened on a host or service: a switch, a fault, a
    rollout step. Incident timelines are built from them."""

    host_id: str
    ts: int
    kind: str
    severity: int
    service: str
    message: str
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SpecRevision:
    """One applied revision of a service spec, as its TOML text."""

    name: str
    revision: int
    source: str
    applied_ms: int
    applied_by: str


@dataclass(frozen=True)
class QueuedMessage:
    """A message in the outbox, with its delivery attempts so far."""

    id: int
    message: Message
    created_ms: int
    next_ms: int
    attempts: int = 0
    last_error: str = ""


class EventLog(Protocol):
    def add(self, tx: Tx, event: Event) -> None:
        """Append an event (message cut to 1,000 characters)."""
        ...

    def around(
        self, services: Sequence[str], hosts: Sequence[str], kinds: Sequence[str], since_ms: int, until_ms: int
    ) -> list[Event]:
        """Events on any of ``services`` or ``hosts`` whose kind starts with
        one of ``kinds`` (``"fault."``), in ``[since_ms, until_ms]``, oldest
        first, at most 500."""
        ...


class RolloutRepo(Protocol):
    def create(self, tx: Tx, make: Callable[[int], Rollout]) -> Rollout:
        """Allocate the next id (1, 2, ...), make the rollout with it, store it."""
        ...

    def save(self, tx: Tx, rollout: Rollout) -> None:
        """Replace the stored document of an existing rollout."""
        ...

    def load(self, rollout_id: int) -> Rollout | None: ...

    def recent(self, service: str = "", limit: int = 50) -> list[Rollout]:
        """Newest first; only ``service``'s when given."""
        ...

    def unfinished(self) -> list[Rollout]:
        """Rollouts not in a terminal state, oldest first (resumed at start)."""
        ...


class IncidentRepo(Protocol):
    def insert(self, tx: Tx, incident: Incident) -> int:
        """Store a new incident; returns its id (1, 2, ...) and sets ``incident.id``."""
        ...

    def save(self, tx: Tx, incident: Incident) -> None: ...

    def load(self, incident_id: int) -> Incident | None: ...

    def open(self) -> list[Incident]:
        """Triggered and acknowledged incidents."""
        ...

    def find(self, state: str, include_closed: bool, since_ms: int, limit: int = 1000) -> list[Incident]:
        """Newest first, opened at or after ``since_ms``; in ``state`` when
        given, else every state but ``closed`` unless ``include_closed``."""
        ...


class DrillRepo(Protocol):
    def insert(self, tx: Tx, journal: Journal) -> int:
        """Store a new drill; returns its id (1, 2, ...) and sets ``journal.id``."""
        ...

    def save(self, tx: Tx, journal: Journal) -> None: ...

    def load(self, drill_id: int) -> Journal | None: ...

    def recent(self, limit: int) -> list[Journal]:
        """Newest first."""
        ...

    def unfinished(self) -> list[Journal]:
        """Drills that never finished (a crash): their faults are cleared at start."""
        ...


class SpecRepo(Protocol):
    def add(self, tx: Tx, name: str, source: str, applied_ms: int, applied_by: str) -> tuple[int, bool]:
        """A new revision unless ``source`` equals the latest one's; returns
        (the revision, whether it is new)."""
        ...

    def history(self, name: str) -> list[SpecRevision]:
        """Every revision of ``name``, oldest first ([] when unknown)."""
        ...

    def all(self) -> list[SpecRevision]:
        """Every revision of every service, by name then revision."""
        ...

    def remove(self, tx: Tx, name: str) -> int:
        """Delete every revision of ``name``; returns how many there were."""
        ...


class OutboxRepo(Protocol):
    def enqueue(self, tx: Tx, messages: Sequence[Message], now_ms: int) -> None:
        """Queue notifications for delivery (in the transaction that decided them)."""
        ...

    def pending(self) -> int:
        """Messages queued and not yet delivered or given up."""
        ...

    def due(self, now_ms: int, limit: int) -> list[QueuedMessage]:
        """Queued messages whose next attempt is at or before ``now_ms``, in
        the order they were queued, at most ``limit``. A message queued after
        another one to the same destination (notifier and URL) that is still
        waiting for its retry is not due: each destination gets its messages
        in the order they were decided (a resolve never overtakes its trigger)."""
        ...

    def remove(self, tx: Tx, message_ids: Sequence[int]) -> None:
        """Take messages off the queue: delivered, or given up for good
        (unknown ids are ignored)."""
        ...

    def reschedule(self, tx: Tx, message_id: int, next_ms: int, error: str) -> None:
        """Count a failed attempt with its error; the message is due again at
        ``next_ms`` (an unknown id is ignored)."""
        ...


class NotifyStateRepo(Protocol):
    """What each notifier remembers between ticks (its groups, what it sent),
    as JSON values by key. Written with the messages it decided, in one
    transaction (ADR 0008)."""

    def get(self, notifier: str) -> dict[str, str]:
        """Every key ``notifier`` stored, with its value ({} when none)."""
        ...

    def update(self, tx: Tx, notifier: str, changes: Mapping[str, str | None]) -> None:
        """Store each key's value; a ``None`` value deletes the key."""
        ...


class SilenceRepo(Protocol):
    def insert(self, tx: Tx, silence: Silence) -> None:
        """Store a new silence.

        :raises StoreError: a silence with its id is stored already."""
        ...

    def save(self, tx: Tx, silence: Silence) -> None:
        """Replace the stored silence with this id (an expiry moves its
        window); an unknown id is ignored."""
        ...

    def delete_ended_before(self, tx: Tx, before_ms: int) -> int:
        """Delete the silences that ended before ``before_ms``; returns how many."""
        ...

    def all(self) -> list[Silence]:
        """Every stored silence, expired ones too, by id."""
        ...


class AuditRepo(Protocol):
    """The rows of the audit log and its head. The hash chain is the
    caller's (:mod:`~switchman.controller.security.audit`); the repository
    stores what it is given, and lets stored rows be read back as they are,
    so that an edited or deleted row shows."""

    def append(self, tx: Tx, make: Callable[[int, str], AuditEntry]) -> AuditEntry:
        """Store the entry ``make(id, prev_hash)`` returns, given the next id
        (one more than the highest stored) and the head's hash ("" before the
        first entry), both as ``tx`` sees them, so entries appended in one
        transaction chain too. The entry becomes the head (one more entry
        counted); returns it."""
        ...

    def head(self) -> AuditHead:
        """The last appended entry's id and hash and the count (zeros before the first)."""
        ...

    def entries(self, since_ms: int = 0, actor: str = "", limit: int = 1000) -> list[AuditEntry]:
        """The newest ``limit`` entries at or after ``since_ms`` (by ``actor``
        when given), oldest first."""
        ...

    def in_order(self) -> Iterator[AuditEntry]:
        """Every stored entry by id, read lazily (the log may be long)."""
        ...

    def chain(self) -> AbstractContextManager[tuple[Iterator[AuditEntry], AuditHead]]:
        """Every entry by id, read lazily, and the head, both from one snapshot
        held while the context is open: an entry appended meanwhile is in neither."""
        ...


class TokenRepo(Protocol):
    def insert(self, tx: Tx, record: TokenRecord) -> None:
        """Store a new token.

        :raises StoreError: a token with its name or hash is stored already."""
        ...

    def revoke(self, tx: Tx, name: str) -> None:
        """Mark the token named ``name`` revoked (an unknown name is ignored)."""
        ...

    def touch(self, tx: Tx, uses: Sequence[tuple[str, int]]) -> None:
        """Record each ``(name, last_used_ms)``; a time older than the stored one and unknown names are ignored."""
        ...

    def all(self) -> list[TokenRecord]:
        """Every token, revoked ones too, by name; records the caller may
        change without changing what is stored."""
        ...


@dataclass(frozen=True)
class AlertRecord:
    """One alert of an alerting rule as last written (restored after a restart)."""

    rule_key: str
    fingerprint: str
    labels: dict[str, str]
    annotations: dict[str, str]
    state: str
    active_at_ms: int
    fired_at_ms: int
    resolved_at_ms: int
    value: float
    keep_firing_since_ms: int


class AlertStateRepo(Protocol):
    def all(self) -> list[AlertRecord]:
        """Every rule's alerts as last written."""
        ...

    def replace(self, tx: Tx, rule_key: str, alerts: Sequence[AlertRecord]) -> None:
        """The alerts of one rule, all at once (an empty list forgets them)."""
        ...


class SampleRepo(Protocol):
    """The samples the controller computes itself (recording rules,
    ``ALERTS``, SLO series), and raw reads of every sample. Agents' pushes
    take the ingest path, which is the SQLite store's own (ADR 0012)."""

    def add(self, tx: Tx, samples: Sequence[Sample], ts: int) -> None:
        """Store ``samples`` at ``ts`` (their labels hold ``__name__``); a
        sample at the same series and time is replaced.

        :raises StoreError: a sample without a metric name."""
        ...

    def select(self, matchers: Sequence[Matcher], start_ms: int, end_ms: int) -> list[Series]:
        """Raw samples of every series matching all ``matchers`` in
        ``[start_ms, end_ms]``, in time order; series with none are left out."""
        ...

    def count(self) -> int:
        """Raw samples stored."""
        ...


class Store(Protocol):
    """Every repository, and the transaction they write in."""

    @property
    def events(self) -> EventLog: ...

    @property
    def rollouts(self) -> RolloutRepo: ...

    @property
    def incidents(self) -> IncidentRepo: ...

    @property
    def drills(self) -> DrillRepo: ...

    @property
    def specs(self) -> SpecRepo: ...

    @property
    def outbox(self) -> OutboxRepo: ...

    @property
    def notify_state(self) -> NotifyStateRepo: ...

    @property
    def silences(self) -> SilenceRepo: ...

    @property
    def audit(self) -> AuditRepo: ...

    @property
    def tokens(self) -> TokenRepo: ...

    @property
    def alerts(self) -> AlertStateRepo: ...

    @property
    def samples(self) -> SampleRepo: ...

    async def write(self, job: Callable[[Tx], T]) -> T:
        """Run ``job`` in one transaction; returns after it committed.
        If ``job`` raises, none of its writes remain and the error propagates."""
        ...

    def write_now(self, job: Callable[[Tx], T]) -> T:
        """:meth:`write` for a worker thread (blocking; never on the event loop)."""
        ...
