"""Opens, updates, escalates and resolves incidents from the alerts, once a
second. Every change is written (with the notifications it causes, into the
outbox) in one transaction before it counts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from switchman.controller.alerts.engine import Alert, AlertState
from switchman.controller.alerts.fingerprints import fingerprint
from switchman.controller.errors import Conflict, InvalidArgument, NotFound
from switchman.controller.incidents.model import OPEN, Incident, IncidentAlert, IncidentState
from switchman.controller.notify.base import Message
from switchman.controller.store.abc import Store, Tx

log = logging.getLogger(__name__)

DEFAULT_PRIORITIES = {"critical": "P1", "page": "P2", "warning": "P3", "ticket": "P3", "info": "P4"}


@dataclass
class Policy:
    page_severities: frozenset[str] = frozenset({"page", "critical"})
    priorities: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_PRIORITIES))
    escalation_interval_ms: int = 15 * 60_000
    auto_resolve_after_ms: int = 5 * 60_000

    def priority(self, severity: str) -> str:
        return self.priorities.get(severity, "P3")


def dedup_key(labels: dict[str, str]) -> str:
    name = labels.get("alertname", "")
    if labels.get("service"):
        return f"{name}/service={labels['service']}"
    return f"{name}/host={labels.get('host', '')}"


Notify = Callable[[str, Incident], list[Message]]


def _paging(inc: Incident, muted: set[str]) -> bool:
    """Some alert of the incident fires and is neither silenced nor
    inhibited: only then does an unacknowledged incident escalate."""
    return any(x.firing and x.fingerprint not in muted for x in inc.alerts)


class IncidentManager:
    def __init__(
        self,
        store: Store,
        clock_ms: Callable[[], int],
        alerts: Callable[[], Sequence[Alert]],
        muted: Callable[[Alert, list[dict[str, str]], int], bool],
        notify: Notify,
        policy: Policy | None = None,
    ) -> None:
        self.store = store
        self.clock_ms = clock_ms
        self._alerts = alerts
        self._muted = muted
        self._notify = notify
        self.policy = policy or Policy()
        self.open: dict[int, Incident] = {}
        self._lock = asyncio.Lock()

    async def load(self) -> int:
        self.open = {i.id: i for i in await asyncio.to_thread(self.store.incidents.open)}
        return len(self.open)

    # the tick ---------------------------------------------------------------
    async def tick(self) -> None:
        async with self._lock:
            now = self.clock_ms()
            alerts = list(self._alerts())
            firing = [a for a in alerts if a.state is AlertState.FIRING]
            labels = [a.labels for a in firing]
            # A silence or an inhibition mutes notifications (Alertmanager's
            # semantics): a muted alert opens no incident, but while it fires
            # it keeps its incident open; resolving it is the cause's job.
            firing_paging = [a for a in firing if a.labels.get("severity") in self.policy.page_severities]
            muted = {fingerprint(a.labels) for a in firing_paging if self._muted(a, labels, now)}
            paging = [a for a in firing_paging if fingerprint(a.labels) not in muted]
            changed: dict[int, Incident] = {}
            messages: list[Message] = []
            new: list[Incident] = []
            by_key = {i.dedup_key: i for i in self.open.values()}
            for a in paging:
                fp = fingerprint(a.labels)
                key = dedup_key(a.labels)
                inc = by_key.get(key)
                if inc is None:
                    inc = self._new(a, key, now)
                    by_key[key] = inc
                    new.append(inc)
                known = next((x for x in inc.alerts if x.fingerprint == fp), None)
                if known is None or not known.firing:
                    if known is None:
                        inc.alerts.append(IncidentAlert(fp, dict(a.labels), True, a.fired_at_ms or now))
                    else:
                        known.firing, known.since_ms = True, now
                    inc.note(now, "alert.firing", "switchman", f"{a.labels.get('alertname')} firing", fingerprint=fp)
                    inc.quiet_since_ms = 0
                    changed[inc.id] = inc
            firing_fps = {fingerprint(a.labels) for a in firing_paging}
            for inc in list(self.open.values()) + new:
                for x in inc.alerts:
                    if x.firing and x.fingerprint not in firing_fps:
                        x.firing = False
                        inc.note(
                            now,
                            "alert.resolved",
                            "switchman",
                            f"{x.labels.get('alertname')} resolved",
                            fingerprint=x.fingerprint,
                        )
                        changed[inc.id] = inc
                if inc.alerts and not any(x.firing for x in inc.alerts) and not inc.quiet_since_ms:
                    inc.quiet_since_ms = now
                    changed[inc.id] = inc
                if (
                    inc.quiet_since_ms
                    and not inc.manual
                    and now - inc.quiet_since_ms >= self.policy.auto_resolve_after_ms
                ):
                    self._resolve(inc, now, "switchman", "every alert resolved")
                    messages += self._notify("resolved", inc)
                    changed[inc.id] = inc
                elif (
                    inc.state is IncidentState.TRIGGERED
                    and inc.id
                    and now - inc.notified_ms >= self.policy.escalation_interval_ms
                    and _paging(inc, muted)
                ):
                    inc.notified_ms = now
                    inc.note(now, "escalation", "switchman", "not acknowledged: notifying again")
                    messages += self._notify("escalated", inc)
                    changed[inc.id] = inc
            for inc in new:
                inc.notified_ms = now
                inc.note(now, "notified", "switchman", "opened and notified")
            await self._store(new, list(changed.values()), messages, now)

    def _new(self, a: Alert, key: str, now: int) -> Incident:
        sev = a.labels.get("severity", "")
        where = a.labels.get("service") or a.labels.get("host") or "the fleet"
        title = a.annotations.get("summary") or f"{a.labels.get('alertname', 'alert')} on {where}"
        return Incident(
            0, key, self.policy.priority(sev), title[:300], a.labels.get("service", ""), a.labels.get("host", ""), now
        )

    def _resolve(self, inc: Incident, now: int, actor: str, why: str) -> None:
        inc.state, inc.resolved_ms = IncidentState.RESOLVED, now
        inc.note(now, "resolved", actor, f"resolved: {why}")
        self.open.pop(inc.id, None)

    async def _store(self, new: list[Incident], changed: list[Incident], messages: list[Message], now: int) -> None:
        if not new and not changed:
            return
        notify_new = {id(i): i for i in new}

        store = self.store

        def job(tx: Tx) -> None:  # the incidents and the notifications they cause, in one transaction
            for inc in new:
                store.incidents.insert(tx, inc)
            extra = [m for inc in notify_new.values() for m in self._notify("triggered", inc)]
            for inc in {i.id: i for i in changed if i.id not in {n.id for n in new}}.values():
                store.incidents.save(tx, inc)
            store.outbox.enqueue(tx, [*messages, *extra], now)

        await store.write(job)
        for inc in new:
            self.open[inc.id] = inc
            log.warning("incident %d opened (%s, %s): %s", inc.id, inc.priority, inc.dedup_key, inc.title)

    # commands ---------------------------------------------------------------
    async def get(self, incident_id: int) -> Incident:
        if incident_id in self.open:
            return self.open[incident_id]
        if not 0 < incident_id < 2**63:
            raise NotFound(f"incident {incident_id} does not exist")
        inc = await asyncio.to_thread(self.store.incidents.load, incident_id)
        if inc is None:
            raise NotFound(f"incident {incident_id} does not exist")
        return inc

    async def find(self, state: str, include_all: bool, since_ms: int = 0) -> list[Incident]:
        if state and state not in {s.value for s in IncidentState}:
            raise InvalidArgument(f"state: {state!r} is not triggered, acknowledged, resolved or closed")
        found = await asyncio.to_thread(self.store.incidents.find, state, include_all, since_ms)
        return [self.open.get(i.id, i) for i in found]

    async def act(self, incident_id: int, action: str, actor: str, note: str = "", manual: bool = False) -> Incident:
        async with self._lock:
            inc = await self.get(incident_id)
            now = self.clock_ms()
            messages: list[Message] = []
            if action == "ack":
                if inc.state is not IncidentState.TRIGGERED:
                    raise Conflict(
                        f"incident {inc.id} is {inc.state.value}: only a triggered incident can be acknowledged"
                    )
                inc.state, inc.acknowledged_ms, inc.acknowledged_by = IncidentState.ACKNOWLEDGED, now, actor
                inc.note(now, "ack", actor, "acknowledged" + (f": {note}" if note else ""))
                messages = self._notify("acknowledged", inc)
            elif action == "resolve":
                if inc.state not in OPEN:
                    raise Conflict(f"incident {inc.id} is {inc.state.value}: only an open incident can be resolved")
                self._resolve(inc, now, actor, note or "by hand")
                messages = self._notify("resolved", inc)
            elif action == "close":
                if inc.state is not IncidentState.RESOLVED:
                    raise Conflict(
                        f"incident {inc.id} is {inc.state.value}: resolve it first (close follows the postmortem)"
                    )
                inc.state, inc.closed_ms = IncidentState.CLOSED, now
                inc.note(now, "closed", actor, "closed" + (f": {note}" if note else ""))
            elif action == "note":
                if not note.strip() and not manual:
                    raise InvalidArgument("note: empty")
                if note.strip():
                    inc.note(now, "note", actor, note.strip()[:2000])
            else:
                raise InvalidArgument(f"action: {action!r}")
            if manual and not inc.manual:
                inc.manual = True
                inc.note(now, "manual", actor, "set to resolve by hand only")
            await self._store([], [inc], messages, now)
            return inc
