"""Once a second: the alerts from the rule manager, minus the silenced and
inhibited ones, through every notifier; the resulting messages and the
notifiers' new state committed together, then left to the outbox."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from switchman.controller.alerts.engine import Alert, AlertState
from switchman.controller.notify.base import Message, Notifier, NotifyAlert
from switchman.controller.notify.inhibit import InhibitRule, inhibited
from switchman.controller.notify.outbox import Limits, Outbox
from switchman.controller.notify.silences import SilenceStore
from switchman.controller.store.abc import Store, Tx


@dataclass(frozen=True)
class Muting:
    silenced_by: tuple[str, ...]
    inhibited: bool

    @property
    def muted(self) -> bool:
        return bool(self.silenced_by) or self.inhibited


class Dispatcher:
    def __init__(
        self,
        store: Store,
        silences: SilenceStore,
        outbox: Outbox,
        alerts: Callable[[], Sequence[Alert]],
        fingerprint: Callable[[dict[str, str]], str],
        clock_ms: Callable[[], int],
    ) -> None:
        self._store = store
        self.silences = silences
        self.outbox = outbox
        self._alerts = alerts
        self._fingerprint = fingerprint
        self._clock_ms = clock_ms
        self.notifiers: list[Notifier] = []
        self.inhibit_rules: list[InhibitRule] = []

    def configure(self, notifiers: Sequence[Notifier], inhibit_rules: Sequence[InhibitRule]) -> None:
        """Install (or replace, on reload) the notifiers, each with its persisted
        state (read from the store: blocking)."""
        for n in notifiers:
            n.load_state(self._store.notify_state.get(n.name))
        self.notifiers = list(notifiers)
        self.inhibit_rules = list(inhibit_rules)
        self.outbox.limits = {n.name: Limits(n.common.timeout_ms, n.common.max_age_ms) for n in notifiers}

    def incident_messages(self, event: str, doc: dict[str, object]) -> list[Message]:
        """For the notifiers configured with ``incidents = true``."""
        out = []
        for n in self.notifiers:
            if n.common.incidents:
                m = n.incident(event, doc)
                if m is not None:
                    out.append(m)
        return out

    def muted(self, alert: Alert, firing: Sequence[dict[str, str]], now_ms: int) -> bool:
        return self.muting(alert, firing, now_ms).muted

    def muting(self, alert: Alert, firing: Sequence[dict[str, str]], now_ms: int) -> Muting:
        return Muting(
            tuple(self.silences.muting(alert.labels, now_ms)), inhibited(self.inhibit_rules, alert.labels, firing)
        )

    def visible(self, now_ms: int) -> list[NotifyAlert]:
        """Firing alerts and resolved ones that had fired, neither silenced nor inhibited."""
        alerts = [a for a in self._alerts() if a.state is AlertState.FIRING or (a.fired_at_ms and a.resolved_at_ms)]
        firing = [a.labels for a in alerts if a.state is AlertState.FIRING]
        out = []
        for a in alerts:
            if self.muting(a, firing, now_ms).muted:
                continue
            is_firing = a.state is AlertState.FIRING
            out.append(
                NotifyAlert(
                    labels=a.labels,
                    annotations=a.annotations,
                    firing=is_firing,
                    starts_ms=a.fired_at_ms or a.active_at_ms,
                    ends_ms=0 if is_firing else a.resolved_at_ms,
                    fingerprint=self._fingerprint(a.labels),
                    value=a.value,
                )
            )
        return out

    async def tick(self) -> int:
        """Plan every notifier; commit messages and state together. Returns the messages queued."""
        if not self.notifiers:
            return 0
        now = self._clock_ms()
        alerts = self.visible(now)
        messages: list[Message] = []
        state: dict[str, dict[str, str | None]] = {}
        for n in self.notifiers:
            plan = n.plan(alerts, now)
            messages += plan.messages
            if plan.state:
                state[n.name] = plan.state
        if not messages and not state:
            return 0
        store = self._store

        def job(tx: Tx) -> None:
            store.outbox.enqueue(tx, messages, now)
            for name, changes in state.items():
                store.notify_state.update(tx, name, changes)

        await store.write(job)
        return len(messages)
