"""Push to a real Alertmanager (``POST /api/v2/alerts``) the way Prometheus
does: every firing alert is re-sent every ``resend_delay`` with an ``endsAt``
four resend periods ahead (so Alertmanager resolves it if the controller goes
quiet), changes are sent at once, and a resolved alert is sent once with its
real ``endsAt``. Grouping, silencing and routing are Alertmanager's job.

An Alertmanager cluster is given as ``urls``: every message goes to each of
them (as Prometheus does: the cluster deduplicates by gossip), each URL its
own outbox destination, so one that is down delays none of the others."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from switchman.controller.notify.base import (
    COMMON_KEYS,
    BaseNotifier,
    Message,
    NotifierConfigError,
    NotifyAlert,
    Plan,
    Table,
    common,
    dumps,
    rfc3339,
)
from switchman.controller.notify.webhook import generator_url

KEYS = COMMON_KEYS | {"urls", "resend_delay", "external_url"}


@dataclass
class AlertmanagerNotifier(BaseNotifier):
    resend_delay_ms: int
    external_url: str = ""
    urls: tuple[str, ...] = ()  # every Alertmanager of the cluster; empty: common.url alone
    sent: dict[str, tuple[str, int]] = field(default_factory=dict)  # fingerprint -> (status, last sent)

    def load_state(self, state: Mapping[str, str]) -> None:
        self.sent = {k: (str(v[0]), int(v[1])) for k, v in ((k, json.loads(s)) for k, s in state.items())}

    def plan(self, alerts: Sequence[NotifyAlert], now_ms: int) -> Plan:
        plan = Plan()
        due = []
        seen = set()
        for a in alerts:
            if not self.common.routes(a):
                continue
            seen.add(a.fingerprint)
            last = self.sent.get(a.fingerprint)
            if a.firing:
                if last is not None and last[0] == "firing" and now_ms - last[1] < self.resend_delay_ms:
                    continue
            elif last is None or last[0] == "resolved" or not self.common.send_resolved:
                continue
            due.append(a)
            self.sent[a.fingerprint] = (a.status, now_ms)
            plan.state[a.fingerprint] = json.dumps([a.status, now_ms])
        for fp in [fp for fp in self.sent if fp not in seen]:
            del self.sent[fp]
            plan.state[fp] = None
        if due:
            valid_until = rfc3339(now_ms + 4 * max(self.resend_delay_ms, 60_000))
            body = [
                {
                    "labels": dict(a.labels),
                    "annotations": dict(a.annotations),
                    "startsAt": rfc3339(a.starts_ms),
                    "endsAt": rfc3339(a.ends_ms) if a.ends_ms else valid_until,
                    "generatorURL": generator_url(self.external_url, a) or "http://switchman/alerts",
                }
                for a in due
            ]
            payload = dumps(body)
            for url in self.urls or (self.common.url,):
                plan.messages.append(Message(self.name, f"{url}/api/v2/alerts", payload))
        return plan


def build(t: Table) -> AlertmanagerNotifier:
    urls = _urls(t)
    return AlertmanagerNotifier(
        common(t, "alertmanager", urls[0] if urls else None),
        t.duration_ms("resend_delay", "1m"),
        external_url=t.text("external_url", ""),
        urls=tuple(urls),
    )


def _urls(t: Table) -> list[str]:
    """``urls`` (one Alertmanager cluster), or none when ``url`` names the only one."""
    if "urls" not in t.raw:
        return []
    if "url" in t.raw:
        raise NotifierConfigError(f"{t.where}: key 'urls': give url or urls, not both")
    urls = [u.rstrip("/") for u in t.strlist("urls", [])]
    if not urls:
        raise NotifierConfigError(f"{t.where}: key 'urls': expected at least one URL")
    for u in urls:
        if not u.startswith(("http://", "https://")):
            raise NotifierConfigError(f"{t.where}: key 'urls': expected http:// or https:// URLs, got {u!r}")
    twice = sorted({u for u in urls if urls.count(u) > 1})
    if twice:
        raise NotifierConfigError(f"{t.where}: key 'urls': {twice[0]!r} is given twice")
    return urls
