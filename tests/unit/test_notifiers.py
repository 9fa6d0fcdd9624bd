"""Notifier planning (grouping timers, resend, trigger/resolve), silences,
inhibition and matchers: pure logic over an explicit clock. Then the
dispatcher, the outbox and the silence store over the in-memory store."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

import pytest
from switchman.controller.alerts.engine import Alert, AlertState
from switchman.controller.alerts.fingerprints import fingerprint
from switchman.controller.notify.alertmanager import AlertmanagerNotifier
from switchman.controller.notify.base import Message, NotifierConfigError, NotifyAlert, Plan
from switchman.controller.notify.dispatcher import Dispatcher
from switchman.controller.notify.inhibit import parse_inhibit_rules
from switchman.controller.notify.matchers import MatcherError, parse_matcher
from switchman.controller.notify.outbox import DeliveryError, Limits, Outbox
from switchman.controller.notify.pagerduty import PagerDutyNotifier
from switchman.controller.notify.registry import build_notifiers
from switchman.controller.notify.silences import RETENTION_MS, Silence, SilenceState, SilenceStore
from switchman.controller.notify.webhook import WebhookNotifier
from switchman.controller.store.abc import StoreError, Tx
from switchman.controller.store.memory import MemoryStore

S = 1000


def alert(name: str, firing: bool = True, **labels: str) -> NotifyAlert:
    lbl = {"alertname": name, **labels}
    fp = "fp-" + "-".join(f"{k}={v}" for k, v in sorted(lbl.items()))
    return NotifyAlert(lbl, {"summary": f"{name} happened"}, firing, 1_000, 0 if firing else 9_000, fp)


def webhook(**extra: object) -> WebhookNotifier:
    table = {
        "name": "hook",
        "kind": "webhook",
        "url": "http://127.0.0.1:1/x",
        "group_wait": "10s",
        "group_interval": "1m",
        "repeat_interval": "1h",
        **extra,
    }
    [n] = build_notifiers([table], "c.toml")
    assert isinstance(n, WebhookNotifier)
    return n


def bodies(plan: Plan) -> list[dict[str, Any]]:
    return [json.loads(m.body) for m in plan.messages]


def test_webhook_waits_group_wait_then_sends_one_v4_payload_per_group() -> None:
    n = webhook()
    a1, a2, b = alert("Down", host="h1"), alert("Down", host="h2"), alert("Slow", host="h1")
    assert bodies(n.plan([a1], 0)) == []  # new group: group_wait starts
    assert bodies(n.plan([a1, a2, b], 9 * S)) == []
    sent = bodies(n.plan([a1, a2, b], 10 * S))
    assert [p["groupLabels"] for p in sent] == [{"alertname": "Down"}]  # Slow's group waits its own group_wait
    p = sent[0]
    assert p["version"] == "4" and p["status"] == "firing" and p["receiver"] == "hook"
    assert p["groupKey"] == '{}:{alertname="Down"}'
    assert p["commonLabels"] == {"alertname": "Down"} and p["commonAnnotations"] == {"summary": "Down happened"}
    assert [a["labels"]["host"] for a in p["alerts"]] == ["h1", "h2"]
    assert p["alerts"][0]["endsAt"] == "0001-01-01T00:00:00Z"
    assert p["alerts"][0]["startsAt"] == "1970-01-01T00:00:01.000Z"
    assert bodies(n.plan([a1, a2, b], 18 * S)) == []  # Slow's group was born at 9 s
    assert [x["groupLabels"] for x in bodies(n.plan([a1, a2, b], 19 * S))] == [{"alertname": "Slow"}]


def test_webhook_group_interval_repeat_interval_and_send_resolved() -> None:
    n = webhook()
    a1, a2 = alert("Down", host="h1"), alert("Down", host="h2")
    n.plan([a1], 0)
    assert len(bodies(n.plan([a1], 10 * S))) == 1
    assert bodies(n.plan([a1, a2], 30 * S)) == []  # a new alert waits for the group interval
    [p] = bodies(n.plan([a1, a2], 70 * S))
    assert len(p["alerts"]) == 2
    assert bodies(n.plan([a1, a2], 130 * S)) == []  # nothing new, repeat_interval not reached
    resolved = alert("Down", firing=False, host="h1")
    [p] = bodies(n.plan([resolved, a2], 190 * S))
    assert p["status"] == "firing" and [a["status"] for a in p["alerts"]] == ["firing", "resolved"]
    assert bodies(n.plan([resolved, a2], 250 * S)) == []
    assert len(bodies(n.plan([a2], 3_800 * S))) == 1  # repeat_interval (1h) after the last notification
    [p] = bodies(n.plan([alert("Down", firing=False, host="h2")], 3_860 * S))
    assert p["status"] == "resolved"
    assert n.groups == {}  # an all-resolved group is notified once and forgotten


def test_webhook_without_send_resolved_and_an_alert_resolved_before_it_was_sent() -> None:
    n = webhook(send_resolved=False, group_by=["alertname", "host"])
    a = alert("Down", host="h1")
    n.plan([a], 0)
    n.plan([a], 10 * S)
    assert bodies(n.plan([alert("Down", firing=False, host="h1")], 70 * S)) == []
    quick = webhook()
    quick.plan([a], 0)
    assert bodies(quick.plan([alert("Down", firing=False, host="h1")], 10 * S)) == []  # never told it fired


def test_webhook_state_round_trips_through_its_persisted_form() -> None:
    n = webhook()
    a = alert("Down", host="h1")
    state = {}
    for now in (0, 10 * S):
        plan = n.plan([a], now)
        state.update({k: v for k, v in plan.state.items() if v is not None})
    fresh = webhook()
    fresh.load_state(state)
    assert bodies(fresh.plan([a], 70 * S)) == []  # already notified before the "restart"
    assert len(bodies(fresh.plan([a, alert("Down", host="h9")], 130 * S))) == 1


def test_alertmanager_resends_firing_alerts_and_sends_resolved_once() -> None:
    [n] = build_notifiers(
        [{"name": "am", "kind": "alertmanager", "url": "http://127.0.0.1:9093/", "resend_delay": "1m"}], "c"
    )
    assert isinstance(n, AlertmanagerNotifier)
    a = alert("Down", host="h1")
    [m] = n.plan([a], 0).messages
    assert m.url == "http://127.0.0.1:9093/api/v2/alerts"
    [body] = [json.loads(m.body)]
    assert body[0]["labels"]["alertname"] == "Down" and body[0]["endsAt"] == "1970-01-01T00:04:00.000Z"
    assert n.plan([a], 30 * S).messages == []
    assert len(n.plan([a], 60 * S).messages) == 1
    [m] = n.plan([alert("Down", firing=False, host="h1")], 61 * S).messages
    assert json.loads(m.body)[0]["endsAt"] == "1970-01-01T00:00:09.000Z"
    assert n.plan([alert("Down", firing=False, host="h1")], 200 * S).messages == []


def test_pagerduty_triggers_and_resolves_with_the_fingerprint_as_dedup_key() -> None:
    [n] = build_notifiers(
        [{"name": "pd", "kind": "pagerduty", "url": "http://127.0.0.1:1/v2/enqueue", "routing_key": "R" * 32}], "c"
    )
    assert isinstance(n, PagerDutyNotifier)
    a = alert("Down", host="h1", severity="page")
    [m] = n.plan([a], 0).messages
    ev = json.loads(m.body)
    assert ev["event_action"] == "trigger" and ev["dedup_key"] == a.fingerprint and ev["routing_key"] == "R" * 32
    assert ev["payload"]["severity"] == "critical" and ev["payload"]["source"] == "h1"
    assert ev["payload"]["summary"] == "Down happened"
    assert n.plan([a], 10 * S).messages == []
    [m] = n.plan([alert("Down", firing=False, host="h1", severity="page")], 20 * S).messages
    assert json.loads(m.body) == {"routing_key": "R" * 32, "event_action": "resolve", "dedup_key": a.fingerprint}


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"name": "x", "kind": "sms", "url": "http://a"}, "notifiers[0]: key 'kind': expected one of webhook"),
        ({"name": "x", "kind": "webhook", "url": "ftp://a"}, "key 'url': expected an http:// or https:// URL"),
        ({"name": "x", "kind": "webhook", "url": "http://a", "group_wait": "soon"}, "key 'group_wait'"),
        ({"name": "x", "kind": "webhook", "url": "http://a", "colour": "red"}, "unknown key 'colour'"),
        ({"name": "x", "kind": "pagerduty"}, "key 'routing_key': expected a non-empty string"),
        ({"name": "x", "kind": "webhook", "url": "http://a", "matchers": ["a=~("]}, "key 'matchers'"),
    ],
)
def test_bad_notifier_tables_name_the_key(table: dict[str, object], message: str) -> None:
    with pytest.raises(NotifierConfigError, match=r"c.toml: notifiers\[0\]") as exc:
        build_notifiers([table], "c.toml")
    assert message in str(exc.value)


def test_matchers_parse_like_amtool() -> None:
    assert str(parse_matcher("alertname=Down")) == 'alertname="Down"'
    assert str(parse_matcher('host=~"web-.*"')) == 'host=~"web-.*"'
    assert parse_matcher("severity!=info").matches("page")
    for bad in ("=x", "a", "9a=b", "a=~(", "a<>b", "alertname==Foo", "a=!b", "a!=~b"):
        with pytest.raises(MatcherError):
            parse_matcher(bad)
    with pytest.raises(MatcherError, match='quote a value that really starts with it: alertname="=Foo"'):
        parse_matcher("alertname==Foo")
    assert parse_matcher('alertname="=Foo"').matches("=Foo")  # quoted, it is the value


def test_silence_mutes_only_while_active_and_only_matching_alerts() -> None:
    s = Silence("id", (parse_matcher("alertname=Down"), parse_matcher("host=~h[12]")), 100, 200, "me", "why", 0)
    assert s.state(50) is SilenceState.PENDING and not s.mutes({"alertname": "Down", "host": "h1"}, 50)
    assert s.mutes({"alertname": "Down", "host": "h1"}, 150)
    assert not s.mutes({"alertname": "Down", "host": "h3"}, 150)
    assert not s.mutes({"alertname": "Up", "host": "h1"}, 150)
    assert s.state(200) is SilenceState.EXPIRED and not s.mutes({"alertname": "Down", "host": "h1"}, 200)


def test_inhibition_needs_a_firing_source_with_equal_labels_and_never_inhibits_itself() -> None:
    [rule] = parse_inhibit_rules(
        [{"source_matchers": ["severity=page"], "target_matchers": ["severity=ticket"], "equal": ["host"]}], "c.toml"
    )
    page_h1 = {"alertname": "HostDown", "severity": "page", "host": "h1"}
    ticket_h1 = {"alertname": "DiskSlow", "severity": "ticket", "host": "h1"}
    ticket_h2 = {"alertname": "DiskSlow", "severity": "ticket", "host": "h2"}
    assert rule.inhibits(ticket_h1, [page_h1, ticket_h1])
    assert not rule.inhibits(ticket_h2, [page_h1, ticket_h2])
    assert not rule.inhibits(page_h1, [page_h1])
    both = {"alertname": "X", "severity": "page", "host": "h1"}
    [self_rule] = parse_inhibit_rules([{"source_matchers": ["alertname=X"], "target_matchers": ["alertname=X"]}], "c")
    assert not self_rule.inhibits(both, [both])
    with pytest.raises(ValueError, match=r"c.toml: inhibit_rules\[0\]: source_matchers and target_matchers"):
        parse_inhibit_rules([{"equal": ["host"]}], "c.toml")


# over the in-memory store --------------------------------------------------------------
class Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


class Boom(Exception):
    pass


def test_the_dispatcher_commits_messages_with_notifier_state_and_a_restart_resumes_from_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store, clock = MemoryStore(), Clock(1_000)
    labels = {"alertname": "Down", "host": "h1", "severity": "page"}
    alerts = [Alert(labels, {"summary": "Down happened"}, AlertState.FIRING, 1_000, 1.0, fired_at_ms=1_000)]
    table = {"name": "pd", "kind": "pagerduty", "url": "http://127.0.0.1:1/v2/enqueue", "routing_key": "R" * 32}

    def dispatcher() -> Dispatcher:
        d = Dispatcher(store, SilenceStore(store), Outbox(store, clock), lambda: alerts, fingerprint, clock)
        d.configure(build_notifiers([table], "c.toml"), [])
        return d

    def broken(tx: Tx, notifier: str, changes: object) -> None:
        raise Boom

    with monkeypatch.context() as m:
        m.setattr(store.notify_state, "update", broken)
        with pytest.raises(Boom):
            asyncio.run(dispatcher().tick())
    assert store.outbox.pending() == 0, "the messages went with the state that failed"
    assert asyncio.run(dispatcher().tick()) == 1
    [queued] = store.outbox.due(clock.now, 10)
    assert json.loads(queued.message.body)["event_action"] == "trigger"
    assert store.notify_state.get("pd") != {}
    clock.now += 10 * S
    assert asyncio.run(dispatcher().tick()) == 0, "a restart does not decide the trigger again"


def test_the_outbox_removes_delivered_and_dropped_messages_and_reschedules_failed_ones() -> None:
    store, clock = MemoryStore(), Clock(1_000)

    def post(url: str, body: bytes, content_type: str, timeout_s: float) -> None:
        if url.endswith("/down"):
            raise DeliveryError("HTTP 503")
        if url.endswith("/gone"):
            raise DeliveryError("HTTP 404", permanent=True)

    outbox = Outbox(store, clock, post)
    outbox.limits = {"down": Limits(max_age_ms=60 * S)}
    messages = [Message(n, f"http://127.0.0.1:9/{n}", b"{}") for n in ("ok", "down", "gone")]
    asyncio.run(store.write(lambda tx: store.outbox.enqueue(tx, messages, clock.now)))
    assert asyncio.run(outbox.deliver_due()) == 1
    assert outbox.outcomes == Counter({("ok", "delivered"): 1, ("down", "failed"): 1, ("gone", "dropped"): 1})
    assert store.outbox.due(clock.now, 10) == [] and outbox.pending == 1
    [left] = store.outbox.due(clock.now + 2 * S, 10)
    assert (left.message.notifier, left.attempts, left.last_error) == ("down", 1, "HTTP 503")
    clock.now += 60 * S
    assert asyncio.run(outbox.deliver_due()) == 0
    assert store.outbox.pending() == 0 and outbox.outcomes[("down", "dropped")] == 1


def test_the_outbox_delivers_each_destination_in_order_and_a_failure_holds_back_what_follows() -> None:
    store, clock = MemoryStore(), Clock(1_000)
    received: list[bytes] = []
    failing = {b"trigger"}

    def post(url: str, body: bytes, content_type: str, timeout_s: float) -> None:
        if body in failing:
            raise DeliveryError("connection reset")
        received.append(body)

    outbox = Outbox(store, clock, post)
    messages = [Message("pd", "http://127.0.0.1:9/pd", body) for body in (b"trigger", b"resolve")]
    asyncio.run(store.write(lambda tx: store.outbox.enqueue(tx, messages, clock.now)))
    assert asyncio.run(outbox.deliver_due()) == 0 and received == [], "the resolve waits behind its failed trigger"
    clock.now += 2 * S
    assert asyncio.run(outbox.deliver_due()) == 0 and received == []
    failing.clear()
    clock.now += 60 * S
    assert asyncio.run(outbox.deliver_due()) == 2 and received == [b"trigger", b"resolve"]


def test_the_silence_store_stores_each_change_before_it_counts_and_reloads_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store, now = MemoryStore(), 1_000_000
    silences = SilenceStore(store)

    def refused(tx: Tx, s: Silence) -> None:
        raise StoreError("disk full")

    with monkeypatch.context() as m:
        m.setattr(store.silences, "insert", refused)
        with pytest.raises(StoreError):
            asyncio.run(silences.add([("alertname", "=", "Down")], 0, now + 60 * S, "ann", "why", now))
    assert silences.find(now, include_expired=True) == []

    async def add_two_expire_one() -> tuple[Silence, Silence]:
        down = await silences.add([("alertname", "=", "Down")], 0, now + 3_600 * S, "ann", "maintenance", now)
        quiet = await silences.add([("alertname", "=", "Quiet")], 0, now + 60 * S, "", "known, OPS-1", now)
        return await silences.expire(down.id, now + S), quiet

    ended, quiet = asyncio.run(add_two_expire_one())
    assert silences.muting({"alertname": "Quiet"}, now + S) == [quiet.id] and quiet.created_by == "unknown"
    assert ended.state(now + S) is SilenceState.EXPIRED
    reloaded = SilenceStore(store)
    reloaded.load()
    assert reloaded.find(now, include_expired=True) == silences.find(now, include_expired=True) == [ended, quiet]
    assert asyncio.run(silences.collect_garbage(now + 2 * S + RETENTION_MS)) == 1
    assert store.silences.all() == [quiet]
    assert asyncio.run(silences.collect_garbage(now + 61 * S + RETENTION_MS)) == 1
    assert store.silences.all() == [] and silences.find(now, include_expired=True) == []
