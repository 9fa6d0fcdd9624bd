"""One contract for every store backend (APScheduler's data-store tests are
the model): the same tests run over the SQLite store and the in-memory one,
through the interfaces of ``switchman.controller.store.abc`` only."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from switchman.controller.chaos.journal import Journal
from switchman.controller.incidents.model import Incident, IncidentState
from switchman.controller.notify.base import Message
from switchman.controller.notify.matchers import make
from switchman.controller.notify.silence import Silence
from switchman.controller.promql.ast import Matcher, MatchOp
from switchman.controller.promql.values import STALE_NAN, Sample, is_stale
from switchman.controller.rollouts.model import HostStep, Options, Rollout, RolloutState
from switchman.controller.security.model import AuditEntry, AuditHead, Role, TokenRecord
from switchman.controller.store.abc import AlertRecord, Event, Store, StoreError, Tx
from switchman.controller.store.memory import MemoryStore
from switchman.controller.store.storage import Storage

T = TypeVar("T")


@pytest.fixture(params=["sqlite", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "memory":
        yield MemoryStore()
        return
    storage = Storage.open(tmp_path / "controller.db")
    yield storage
    storage.close()


def write(store: Store, job: Callable[[Tx], T]) -> T:
    return asyncio.run(store.write(job))


def write_each(store: Store, put: Callable[[Tx, T], None], items: Iterable[T]) -> None:
    """``put`` every item, in one transaction."""

    def job(tx: Tx) -> None:
        for item in items:
            put(tx, item)

    write(store, job)


class Boom(Exception):
    pass


def fails_after(job: Callable[[Tx], object]) -> Callable[[Tx], None]:
    def run(tx: Tx) -> None:
        job(tx)
        raise Boom

    return run


# transactions ------------------------------------------------------------------
def test_a_job_that_raises_leaves_nothing_behind(store: Store) -> None:
    event = Event("h1", 1000, "fault.applied", 2, "web", "latency")
    incident = Incident(0, "k", "P2", "down", "web", "h1", 1000)
    rolled_back: list[str] = []

    def job(tx: Tx) -> None:
        tx.on_rollback(lambda: rolled_back.append("undone"))
        tx.on_commit(lambda: rolled_back.append("committed"))
        store.events.add(tx, event)
        store.incidents.insert(tx, incident)
        store.rollouts.create(tx, lambda rid: rollout(rid))

    with pytest.raises(Boom):
        write(store, fails_after(job))
    assert store.events.around(["web"], [], ["fault."], 0, 10_000) == []
    assert store.incidents.open() == [] and store.rollouts.recent() == []
    assert rolled_back == ["undone"]
    write(store, job)
    assert len(store.events.around(["web"], [], ["fault."], 0, 10_000)) == 1
    assert rolled_back == ["undone", "committed"]


def test_a_write_returns_the_jobs_result(store: Store) -> None:
    assert write(store, lambda tx: store.specs.add(tx, "web", "a", 1, "me")) == (1, True)


# events ----------------------------------------------------------------------------
def test_events_around_a_service_or_host_by_kind_and_time(store: Store) -> None:
    rows = [
        Event("h1", 100, "fault.applied", 2, "web", "slow", {"fault": "f1"}),
        Event("h2", 200, "rollout.host", 1, "api", "switched"),
        Event("h1", 300, "switch.flipped", 1, "", "flipped"),
        Event("h3", 400, "fault.applied", 2, "db", "other"),
        Event("h1", 900, "fault.reverted", 2, "web", "too late"),
        Event("h1", 250, "probe.failed", 2, "web", "not a kind asked for"),
    ]

    def add_all(tx: Tx) -> None:
        for e in rows:
            store.events.add(tx, e)

    write(store, add_all)
    found = store.events.around(["web"], ["h1"], ["fault.", "switch."], 50, 500)
    assert [(e.ts, e.kind) for e in found] == [(100, "fault.applied"), (300, "switch.flipped")]
    assert found[0].attributes == {"fault": "f1"} and found[0].message == "slow"
    assert [e.ts for e in store.events.around([], ["h2"], ["rollout."], 0, 1000)] == [200]
    assert store.events.around([], [], ["fault."], 0, 1000) == []


def test_event_messages_are_cut_to_1000_characters(store: Store) -> None:
    write(store, lambda tx: store.events.add(tx, Event("h1", 1, "fault.x", 1, "web", "x" * 5000)))
    [e] = store.events.around(["web"], [], ["fault."], 0, 10)
    assert len(e.message) == 1000


# rollouts ----------------------------------------------------------------------------
def rollout(rid: int, service: str = "web", state: RolloutState = RolloutState.RUNNING) -> Rollout:
    return Rollout(rid, service, "2", 1, Options(), [HostStep("h1", 0)], 1, 1000 + rid, state=state)


def test_rollouts_get_increasing_ids_and_are_found_newest_first(store: Store) -> None:
    first = write(store, lambda tx: store.rollouts.create(tx, lambda rid: rollout(rid)))
    second = write(store, lambda tx: store.rollouts.create(tx, lambda rid: rollout(rid, "api")))
    assert (first.id, second.id) == (1, 2)
    assert [r.id for r in store.rollouts.recent()] == [2, 1]
    assert [r.id for r in store.rollouts.recent("web")] == [1]
    assert [r.id for r in store.rollouts.recent(limit=1)] == [2]
    assert store.rollouts.load(3) is None


def test_a_saved_rollout_is_read_back_whole_and_unfinished_ones_are_listed(store: Store) -> None:
    r = write(store, lambda tx: store.rollouts.create(tx, lambda rid: rollout(rid)))
    done = write(store, lambda tx: store.rollouts.create(tx, lambda rid: rollout(rid, state=RolloutState.SUCCEEDED)))
    r.message, r.state = "baking batch 1/1", RolloutState.BAKING
    write(store, lambda tx: store.rollouts.save(tx, r))
    loaded = store.rollouts.load(r.id)
    assert loaded is not None and loaded.to_json() == r.to_json()
    assert [x.id for x in store.rollouts.unfinished()] == [r.id] and done.id != r.id
    r.message = "changed after the write"
    again = store.rollouts.load(r.id)
    assert again is not None and again.message == "baking batch 1/1"


# incidents ---------------------------------------------------------------------------
def incident(key: str, opened: int, state: IncidentState = IncidentState.TRIGGERED) -> Incident:
    return Incident(0, key, "P2", f"{key} down", "web", "h1", opened, state=state)


def test_incidents_get_ids_and_open_ones_are_listed(store: Store) -> None:
    a, b, c = incident("a", 100), incident("b", 200, IncidentState.ACKNOWLEDGED), incident("c", 300)
    ids = write(store, lambda tx: [store.incidents.insert(tx, i) for i in (a, b, c)])
    assert ids == [a.id, b.id, c.id] and len(set(ids)) == 3 and ids == sorted(ids)
    c.state = IncidentState.RESOLVED
    write(store, lambda tx: store.incidents.save(tx, c))
    assert [i.dedup_key for i in store.incidents.open()] == ["a", "b"]
    loaded = store.incidents.load(c.id)
    assert loaded is not None and loaded.to_json() == c.to_json()


def test_incidents_are_found_by_state_and_time_newest_first(store: Store) -> None:
    rows = [
        incident("a", 100, IncidentState.CLOSED),
        incident("b", 200, IncidentState.RESOLVED),
        incident("c", 300),
    ]
    write(store, lambda tx: [store.incidents.insert(tx, i) for i in rows])
    assert [i.dedup_key for i in store.incidents.find("", False, 0)] == ["c", "b"]
    assert [i.dedup_key for i in store.incidents.find("", True, 0)] == ["c", "b", "a"]
    assert [i.dedup_key for i in store.incidents.find("closed", False, 0)] == ["a"]
    assert [i.dedup_key for i in store.incidents.find("", True, 150)] == ["c", "b"]
    assert [i.dedup_key for i in store.incidents.find("", True, 0, limit=1)] == ["c"]


# drills --------------------------------------------------------------------------------
def journal(title: str) -> Journal:
    return Journal(0, title, "", "title: x\n", False, 1000)


def test_drills_get_ids_and_unfinished_ones_are_listed(store: Store) -> None:
    a, b = journal("a"), journal("b")
    write(store, lambda tx: [store.drills.insert(tx, j) for j in (a, b)])
    assert a.id < b.id
    a.state, a.finished_ms = "completed", 5000
    write(store, lambda tx: store.drills.save(tx, a))
    assert [j.title for j in store.drills.unfinished()] == ["b"]
    assert [j.title for j in store.drills.recent(10)] == ["b", "a"]
    assert [j.title for j in store.drills.recent(1)] == ["b"]
    loaded = store.drills.load(a.id)
    assert loaded is not None and loaded.to_json() == a.to_json()
    assert store.drills.load(999) is None


# service specs ---------------------------------------------------------------------
def test_a_spec_revision_is_new_only_when_the_text_changes(store: Store) -> None:
    assert write(store, lambda tx: store.specs.add(tx, "web", "v = 1", 10, "ann")) == (1, True)
    assert write(store, lambda tx: store.specs.add(tx, "web", "v = 1", 20, "bob")) == (1, False)
    assert write(store, lambda tx: store.specs.add(tx, "web", "v = 2", 30, "bob")) == (2, True)
    assert write(store, lambda tx: store.specs.add(tx, "api", "v = 9", 40, "cy")) == (1, True)
    assert [(r.revision, r.source, r.applied_by) for r in store.specs.history("web")] == [
        (1, "v = 1", "ann"),
        (2, "v = 2", "bob"),
    ]
    assert [(r.name, r.revision) for r in store.specs.all()] == [("api", 1), ("web", 1), ("web", 2)]
    assert store.specs.history("nope") == []


def test_removing_a_spec_deletes_every_revision_and_a_failed_remove_keeps_them(store: Store) -> None:
    write(store, lambda tx: store.specs.add(tx, "web", "v = 1", 10, "ann"))
    write(store, lambda tx: store.specs.add(tx, "web", "v = 2", 20, "ann"))
    write(store, lambda tx: store.specs.add(tx, "api", "v = 9", 30, "ann"))
    with pytest.raises(Boom):
        write(store, fails_after(lambda tx: store.specs.remove(tx, "web")))
    assert len(store.specs.history("web")) == 2
    assert write(store, lambda tx: store.specs.remove(tx, "web")) == 2
    assert store.specs.history("web") == [] and [r.name for r in store.specs.all()] == ["api"]
    assert write(store, lambda tx: store.specs.remove(tx, "web")) == 0
    assert write(store, lambda tx: store.specs.add(tx, "web", "v = 3", 40, "bob")) == (1, True)


# outbox --------------------------------------------------------------------------------
def test_messages_queued_in_a_failed_transaction_are_not_queued(store: Store) -> None:
    m = Message("hook", "http://127.0.0.1:9/", b"{}")
    with pytest.raises(Boom):
        write(store, fails_after(lambda tx: store.outbox.enqueue(tx, [m], 1)))
    assert store.outbox.pending() == 0
    write(store, lambda tx: store.outbox.enqueue(tx, [m, m], 2))
    assert store.outbox.pending() == 2


def queue(store: Store, *messages: Message, now_ms: int = 1) -> list[int]:
    write(store, lambda tx: store.outbox.enqueue(tx, list(messages), now_ms))
    return [q.id for q in store.outbox.due(now_ms, 1000)]


def test_queued_messages_come_back_whole_in_order_when_due(store: Store) -> None:
    a = Message("hook", "http://127.0.0.1:9/a", b'{"a":1}')
    b = Message("pd", "http://127.0.0.1:9/b", b"\x00binary", "text/plain")
    write(store, lambda tx: store.outbox.enqueue(tx, [a, b], 100))
    assert store.outbox.due(99, 10) == []
    due = store.outbox.due(100, 10)
    assert [q.message for q in due] == [a, b] and due[0].id < due[1].id
    assert [(q.created_ms, q.next_ms, q.attempts, q.last_error) for q in due] == [(100, 100, 0, "")] * 2
    assert [q.message for q in store.outbox.due(500, 1)] == [a]


def test_a_rescheduled_message_counts_its_attempt_and_waits(store: Store) -> None:
    m = Message("hook", "http://127.0.0.1:9/", b"{}")
    first, _second = queue(store, m, m)
    write(store, lambda tx: store.outbox.reschedule(tx, first, 5000, "HTTP 503"))
    assert store.outbox.due(4999, 10) == [], "the second waits behind the first: same destination"
    [again] = [q for q in store.outbox.due(5000, 10) if q.id == first]
    assert (again.next_ms, again.attempts, again.last_error) == (5000, 1, "HTTP 503")
    write(store, lambda tx: store.outbox.reschedule(tx, first, 9000, "timed out"))
    [again] = [q for q in store.outbox.due(9000, 10) if q.id == first]
    assert (again.attempts, again.last_error) == (2, "timed out")
    write(store, lambda tx: store.outbox.reschedule(tx, 999, 1, "unknown"))
    assert store.outbox.pending() == 2


def test_a_message_waiting_for_its_retry_holds_back_later_ones_to_its_destination_only(store: Store) -> None:
    hook, pd = Message("hook", "http://127.0.0.1:9/a", b"1"), Message("pd", "http://127.0.0.1:9/b", b"2")
    other_url = Message("hook", "http://127.0.0.1:9/c", b"3")
    first, to_pd, to_c, after = queue(store, hook, pd, other_url, hook)
    write(store, lambda tx: store.outbox.reschedule(tx, first, 5000, "HTTP 503"))
    assert [q.id for q in store.outbox.due(4999, 10)] == [to_pd, to_c]
    assert [q.id for q in store.outbox.due(5000, 10)] == [first, to_pd, to_c, after]
    write(store, lambda tx: store.outbox.remove(tx, [first]))
    assert [q.id for q in store.outbox.due(1, 10)] == [to_pd, to_c, after]


def test_removed_messages_are_gone_and_a_failed_update_changes_nothing(store: Store) -> None:
    m = Message("hook", "http://127.0.0.1:9/", b"{}")
    first, second, third = queue(store, m, m, m)

    def update(tx: Tx) -> None:
        store.outbox.remove(tx, [first, 999])
        store.outbox.reschedule(tx, second, 7000, "HTTP 500")

    with pytest.raises(Boom):
        write(store, fails_after(update))
    assert [(q.id, q.attempts) for q in store.outbox.due(1, 10)] == [(first, 0), (second, 0), (third, 0)]
    write(store, update)
    assert store.outbox.due(1, 10) == [] and store.outbox.pending() == 2, "the third waits behind the second"
    assert [(q.id, q.attempts) for q in store.outbox.due(7000, 10)] == [(second, 1), (third, 0)]


# notifier state ------------------------------------------------------------------------
def test_notifier_state_is_set_replaced_and_deleted_per_notifier(store: Store) -> None:
    write(store, lambda tx: store.notify_state.update(tx, "hook", {"g1": '{"sent":1}', "g2": "{}"}))
    write(store, lambda tx: store.notify_state.update(tx, "pd", {"g1": '"other"'}))
    assert store.notify_state.get("hook") == {"g1": '{"sent":1}', "g2": "{}"}
    write(store, lambda tx: store.notify_state.update(tx, "hook", {"g1": '{"sent":2}', "g2": None, "g3": None}))
    assert store.notify_state.get("hook") == {"g1": '{"sent":2}'}
    assert store.notify_state.get("pd") == {"g1": '"other"'} and store.notify_state.get("new") == {}


def test_notifier_state_and_messages_commit_together_or_not_at_all(store: Store) -> None:
    m = Message("hook", "http://127.0.0.1:9/", b"{}")
    write(store, lambda tx: store.notify_state.update(tx, "hook", {"g1": "1"}))

    def tick(tx: Tx) -> None:
        store.outbox.enqueue(tx, [m], 10)
        store.notify_state.update(tx, "hook", {"g1": None, "g2": "2"})

    with pytest.raises(Boom):
        write(store, fails_after(tick))
    assert store.notify_state.get("hook") == {"g1": "1"} and store.outbox.pending() == 0
    write(store, tick)
    assert store.notify_state.get("hook") == {"g2": "2"} and store.outbox.pending() == 1


# silences -------------------------------------------------------------------------------
def silence(sid: str, ends_ms: int, starts_ms: int = 100) -> Silence:
    matchers = (make("alertname", "=", "Down"), make("host", "=~", "web-.*"), make("env", "!=", "dev"))
    return Silence(sid, matchers, starts_ms, ends_ms, "ann", f"why {sid}", 50)


def test_silences_come_back_whole_and_an_expiry_replaces_the_window(store: Store) -> None:
    a, b = silence("b-id", 1000), silence("a-id", 2000)
    write_each(store, store.silences.insert, [a, b])
    assert store.silences.all() == [b, a]
    assert store.silences.all()[1].mutes({"alertname": "Down", "host": "web-1", "env": "prod"}, 500)
    ended = Silence(a.id, a.matchers, 100, 300, a.created_by, a.comment, a.created_ms)
    write(store, lambda tx: store.silences.save(tx, ended))
    write(store, lambda tx: store.silences.save(tx, silence("never-added", 1)))
    assert store.silences.all() == [b, ended]


def test_a_silence_id_is_stored_once(store: Store) -> None:
    write_each(store, store.silences.insert, [silence("s1", 1000)])
    with pytest.raises(StoreError, match="s1"):
        write_each(store, store.silences.insert, [silence("s1", 5000)])
    assert [s.ends_ms for s in store.silences.all()] == [1000]


def test_silences_that_ended_before_a_time_are_deleted(store: Store) -> None:
    rows = [silence("old", 1000), silence("edge", 2000), silence("new", 3000)]
    write_each(store, store.silences.insert, rows)
    with pytest.raises(Boom):
        write(store, fails_after(lambda tx: store.silences.delete_ended_before(tx, 5000)))
    assert len(store.silences.all()) == 3
    assert write(store, lambda tx: store.silences.delete_ended_before(tx, 2000)) == 1
    assert [s.id for s in store.silences.all()] == ["edge", "new"]


# audit log --------------------------------------------------------------------------------
def audit_entry(actor: str, ts: int) -> Callable[[int, str], AuditEntry]:
    def make_entry(new_id: int, prev: str) -> AuditEntry:
        return AuditEntry(new_id, ts, actor, "CreateToken", "t", "{}", "ok", prev, f"h{new_id}<{prev}")

    return make_entry


def test_audit_entries_chain_on_the_head_even_within_one_transaction(store: Store) -> None:
    assert store.audit.head() == AuditHead(0, "", 0)
    first = write(store, lambda tx: store.audit.append(tx, audit_entry("ann", 10)))
    assert (first.id, first.prev_hash) == (1, "")
    pair = write(store, lambda tx: [store.audit.append(tx, audit_entry(a, 20)) for a in ("bob", "cy")])
    assert [(e.id, e.prev_hash) for e in pair] == [(2, first.hash), (3, pair[0].hash)]
    assert store.audit.head() == AuditHead(3, pair[1].hash, 3)
    assert list(store.audit.in_order()) == [first, *pair]


def test_the_audit_chain_and_its_head_come_from_one_snapshot(store: Store) -> None:
    """`audit verify` walks this: an entry appended during the walk must not look like a deletion."""
    first = write(store, lambda tx: store.audit.append(tx, audit_entry("ann", 10)))
    with store.audit.chain() as (entries, head):
        write(store, lambda tx: store.audit.append(tx, audit_entry("bob", 20)))
        assert (list(entries), head) == ([first], AuditHead(1, first.hash, 1))
    assert store.audit.head().entries == 2
    with store.audit.chain() as (entries, head):
        assert ([e.id for e in entries], head.entries) == ([1, 2], 2)


def test_a_failed_audit_append_leaves_the_head_and_the_rows(store: Store) -> None:
    first = write(store, lambda tx: store.audit.append(tx, audit_entry("ann", 10)))
    with pytest.raises(Boom):
        write(store, fails_after(lambda tx: store.audit.append(tx, audit_entry("bob", 20))))
    assert store.audit.head() == AuditHead(1, first.hash, 1) and list(store.audit.in_order()) == [first]
    second = write(store, lambda tx: store.audit.append(tx, audit_entry("bob", 20)))
    assert (second.id, second.prev_hash) == (2, first.hash)


def test_audit_entries_are_the_newest_by_time_and_actor_oldest_first(store: Store) -> None:
    def fill(tx: Tx) -> None:
        for ts, actor in ((10, "ann"), (20, "bob"), (30, "ann"), (40, "ann"), (50, "bob")):
            store.audit.append(tx, audit_entry(actor, ts))

    write(store, fill)
    assert [e.ts for e in store.audit.entries()] == [10, 20, 30, 40, 50]
    assert [e.ts for e in store.audit.entries(since_ms=30)] == [30, 40, 50]
    assert [e.ts for e in store.audit.entries(actor="ann")] == [10, 30, 40]
    assert [e.ts for e in store.audit.entries(since_ms=20, actor="ann", limit=1)] == [40]
    assert [e.ts for e in store.audit.entries(limit=2)] == [40, 50]


# tokens -------------------------------------------------------------------------------------
def test_tokens_come_back_by_name_and_revoked_ones_stay(store: Store) -> None:
    ci, admin = TokenRecord("ci", Role.VIEWER, "a" * 64, 20), TokenRecord("admin", Role.ADMIN, "b" * 64, 10)
    write_each(store, store.tokens.insert, [ci, admin])
    assert store.tokens.all() == [admin, ci]
    write(store, lambda tx: store.tokens.revoke(tx, "ci"))
    write(store, lambda tx: store.tokens.revoke(tx, "nobody"))
    assert [(t.name, t.revoked) for t in store.tokens.all()] == [("admin", False), ("ci", True)]
    with pytest.raises(Boom):
        write(store, fails_after(lambda tx: store.tokens.revoke(tx, "admin")))
    assert not store.tokens.all()[0].revoked


def test_a_token_name_or_hash_is_stored_once_and_records_read_are_copies(store: Store) -> None:
    write_each(store, store.tokens.insert, [TokenRecord("ci", Role.VIEWER, "a" * 64, 1)])
    for dup in (TokenRecord("ci", Role.ADMIN, "c" * 64, 2), TokenRecord("other", Role.ADMIN, "a" * 64, 2)):
        with pytest.raises(StoreError, match="is stored already"):
            write_each(store, store.tokens.insert, [dup])
    [rec] = store.tokens.all()
    rec.revoked = True
    assert store.tokens.all() == [TokenRecord("ci", Role.VIEWER, "a" * 64, 1)]


# alert state -----------------------------------------------------------------------------
def alert(rule: str, fp: str, state: str = "firing") -> AlertRecord:
    return AlertRecord(rule, fp, {"alertname": rule, "host": fp}, {"summary": "s"}, state, 100, 200, 0, 1.5, 0)


def test_a_rules_alerts_are_replaced_together_and_read_back(store: Store) -> None:
    write(store, lambda tx: store.alerts.replace(tx, "r1", [alert("r1", "a"), alert("r1", "b", "pending")]))
    write(store, lambda tx: store.alerts.replace(tx, "r2", [alert("r2", "c")]))
    assert sorted((a.rule_key, a.fingerprint, a.state) for a in store.alerts.all()) == [
        ("r1", "a", "firing"),
        ("r1", "b", "pending"),
        ("r2", "c", "firing"),
    ]
    write(store, lambda tx: store.alerts.replace(tx, "r1", [alert("r1", "b")]))
    assert sorted((a.rule_key, a.fingerprint, a.state) for a in store.alerts.all()) == [
        ("r1", "b", "firing"),
        ("r2", "c", "firing"),
    ]
    [c] = [a for a in store.alerts.all() if a.rule_key == "r2"]
    assert c == alert("r2", "c")
    with pytest.raises(Boom):
        write(store, fails_after(lambda tx: store.alerts.replace(tx, "r2", [])))
    assert [a.fingerprint for a in store.alerts.all() if a.rule_key == "r2"] == ["c"]


# samples ----------------------------------------------------------------------------------
def sample(name: str, value: float, **labels: str) -> Sample:
    return Sample({"__name__": name, **labels}, 0, value)


def test_samples_are_read_back_by_matchers_and_time(store: Store) -> None:
    write(store, lambda tx: store.samples.add(tx, [sample("slo:ratio", 0.1, service="web")], 1000))
    write(store, lambda tx: store.samples.add(tx, [sample("slo:ratio", 0.2, service="web")], 2000))
    write(store, lambda tx: store.samples.add(tx, [sample("slo:ratio", 0.9, service="db")], 2000))
    write(store, lambda tx: store.samples.add(tx, [sample("slo:ratio", 0.3, service="web")], 2000))  # replaces 0.2
    name = Matcher.make("__name__", MatchOp.EQ, "slo:ratio")
    [web] = store.samples.select([name, Matcher.make("service", MatchOp.EQ, "web")], 0, 5000)
    assert web.labels == {"__name__": "slo:ratio", "service": "web"} and (web.ts, web.vs) == ([1000, 2000], [0.1, 0.3])
    assert sorted(s.labels["service"] for s in store.samples.select([name], 1500, 2500)) == ["db", "web"]
    assert store.samples.select([name, Matcher.make("service", MatchOp.RE, "d.*")], 0, 999) == []
    assert store.samples.count() == 3


def test_nan_samples_and_staleness_markers_are_kept_as_such(store: Store) -> None:
    write(store, lambda tx: store.samples.add(tx, [sample("r", 1.0)], 1000))
    write(store, lambda tx: store.samples.add(tx, [sample("r", math.nan)], 2000))  # 0/0: a value
    write(store, lambda tx: store.samples.add(tx, [sample("r", STALE_NAN)], 3000))  # the series went away
    write(store, lambda tx: store.samples.add(tx, [sample("r", 4.0)], 4000))
    [r] = store.samples.select([Matcher.make("__name__", MatchOp.EQ, "r")], 0, 5000)
    assert r.ts == [1000, 2000, 3000, 4000] and r.stale
    assert [math.isnan(v) for v in r.vs] == [False, True, True, False]
    assert [is_stale(v) for v in r.vs] == [False, False, True, False]
    [plain] = store.samples.select([Matcher.make("__name__", MatchOp.EQ, "r")], 0, 2500)
    assert not plain.stale
    assert store.samples.count() == 4


def test_a_sample_without_a_name_is_refused_and_nothing_of_its_batch_is_kept(store: Store) -> None:
    with pytest.raises(StoreError):
        write(store, lambda tx: store.samples.add(tx, [sample("ok", 1.0), Sample({"host": "h1"}, 0, 2.0)], 10))
    assert store.samples.count() == 0
    with pytest.raises(Boom):
        write(store, fails_after(lambda tx: store.samples.add(tx, [sample("ok", 1.0)], 10)))
    assert store.samples.count() == 0
