"""The alertmanager notifier with an Alertmanager cluster (``urls``): each
alert goes to every URL, each URL is its own outbox destination (one that is
down holds back none of the others), and ``url`` alone still works."""

from __future__ import annotations

import asyncio
import json

import pytest
from switchman.controller.notify.alertmanager import AlertmanagerNotifier
from switchman.controller.notify.base import NotifierConfigError, NotifyAlert
from switchman.controller.notify.outbox import DeliveryError, Outbox
from switchman.controller.notify.registry import build_notifiers
from switchman.controller.store.memory import MemoryStore

A = "http://127.0.0.1:9093"
B = "http://127.0.0.1:9094"


def notifier(**keys: object) -> AlertmanagerNotifier:
    [n] = build_notifiers([{"name": "am", "kind": "alertmanager", "resend_delay": "1m", **keys}], "c.toml")
    assert isinstance(n, AlertmanagerNotifier)
    return n


def down(firing: bool = True) -> NotifyAlert:
    return NotifyAlert({"alertname": "Down"}, {}, firing, 1_000, 0 if firing else 9_000, "fp-down")


def test_every_alert_goes_to_every_url_of_the_cluster_with_the_same_body() -> None:
    n = notifier(urls=[A, B + "/"])
    fired = n.plan([down()], 0).messages
    assert [m.url for m in fired] == [f"{A}/api/v2/alerts", f"{B}/api/v2/alerts"]
    assert fired[0].body == fired[1].body and json.loads(fired[0].body)[0]["labels"] == {"alertname": "Down"}
    assert n.plan([down()], 30_000).messages == []  # resend_delay holds for the cluster as a whole
    resolved = n.plan([down(firing=False)], 31_000).messages
    assert [m.url for m in resolved] == [f"{A}/api/v2/alerts", f"{B}/api/v2/alerts"]
    assert json.loads(resolved[1].body)[0]["endsAt"] == "1970-01-01T00:00:09.000Z"


def test_url_alone_still_names_the_only_alertmanager() -> None:
    [m] = notifier(url=A + "/").plan([down()], 0).messages
    assert m.url == f"{A}/api/v2/alerts"


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"urls": [A], "url": A}, "key 'urls': give url or urls, not both"),
        ({"urls": []}, "key 'urls': expected at least one URL"),
        ({"urls": [A, "am:9093"]}, "key 'urls': expected http:// or https:// URLs, got 'am:9093'"),
        ({"urls": [A, A + "/"]}, f"key 'urls': {A!r} is given twice"),
        ({"urls": A}, "key 'urls': expected a list of strings"),
        ({}, "key 'url': expected a non-empty string"),
    ],
)
def test_bad_urls_are_refused_naming_the_key(keys: dict[str, object], message: str) -> None:
    with pytest.raises(NotifierConfigError, match=r"c\.toml: notifiers\[0\]") as err:
        notifier(**keys)
    assert message in str(err.value)


def test_a_member_that_is_down_holds_back_only_its_own_messages() -> None:
    store, now = MemoryStore(), [1_000]
    received: list[str] = []
    up = {A}

    def post(url: str, body: bytes, content_type: str, timeout_s: float) -> None:
        if not url.startswith(tuple(up)):
            raise DeliveryError("connection refused")
        received.append(url)

    outbox = Outbox(store, lambda: now[0], post)
    n = notifier(urls=[A, B])
    for plan in (n.plan([down()], 0), n.plan([down(firing=False)], 1_000)):
        asyncio.run(store.write(lambda tx, p=plan: store.outbox.enqueue(tx, p.messages, now[0])))
    assert asyncio.run(outbox.deliver_due()) == 2
    assert received == [f"{A}/api/v2/alerts"] * 2  # the trigger and the resolve, in order, to the member that is up
    up.add(B)
    now[0] += 120_000
    assert asyncio.run(outbox.deliver_due()) == 2
    assert received[2:] == [f"{B}/api/v2/alerts"] * 2 and store.outbox.pending() == 0
