"""A silence mutes notifications; it never resolves an incident. The incident
manager runs over a real controller store and the real silence store."""

from __future__ import annotations

import asyncio
from pathlib import Path

from switchman.controller.alerts.engine import Alert, AlertState
from switchman.controller.incidents.manager import IncidentManager, Policy
from switchman.controller.incidents.model import Incident, IncidentState
from switchman.controller.notify.base import Message
from switchman.controller.wiring import Controller, build, settings

SECOND = 1000
LABELS = {"alertname": "MyAppProbeFailing", "service": "myapp", "severity": "page"}


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000_000

    def __call__(self) -> int:
        return self.now


def run_outage(tmp_path: Path, silence: bool = True) -> tuple[list[Incident], list[str], int, int]:
    """An outage that is silenced while it lasts, then ends. Returns the
    incidents as they were each second, the notifications sent, and when
    the silence was added and the cause resolved."""
    clock = Clock()
    alert = Alert(dict(LABELS), {}, AlertState.FIRING, clock.now, 0.0, fired_at_ms=clock.now)
    alerts: list[Alert] = [alert]
    sent: list[str] = []

    def notify(event: str, inc: Incident) -> list[Message]:
        sent.append(event)
        return []

    seen: list[Incident] = []

    async def scenario() -> tuple[int, int]:
        core = await build(settings(tmp_path), clock_ms=clock)
        try:
            return await outage(core)
        finally:
            await core.close()

    async def outage(core: Controller) -> tuple[int, int]:
        manager = IncidentManager(
            core.storage,
            clock,
            lambda: alerts,
            core.dispatcher.muted,
            notify,
            Policy(escalation_interval_ms=5 * SECOND, auto_resolve_after_ms=3 * SECOND),
        )
        silenced_at = resolved_at = 0
        for second in range(40):
            if second == 2 and silence:
                silenced_at = clock.now
                matchers = [("alertname", "=", "MyAppProbeFailing"), ("service", "=", "myapp")]
                await core.silences.add(matchers, 0, clock.now + 1_800 * SECOND, "op", "test", clock.now)
            if second == 20:
                resolved_at = clock.now
                alerts.clear()  # the cause is fixed: the rule stops returning the alert
            await manager.tick()
            seen.extend(Incident.from_json(i.to_json()) for i in await manager.find("", True))
            clock.now += SECOND
        return silenced_at, resolved_at

    silenced_at, resolved_at = asyncio.run(scenario())
    return seen, sent, silenced_at, resolved_at


def test_a_silence_during_an_open_incident_leaves_it_open_until_the_cause_resolves(tmp_path: Path) -> None:
    seen, _, silenced_at, resolved_at = run_outage(tmp_path)
    while_silenced = [i for i in seen if i.timeline and i.timeline[-1].ts < resolved_at]
    assert while_silenced and all(i.state is IncidentState.TRIGGERED for i in while_silenced)
    final = seen[-1]
    assert final.state is IncidentState.RESOLVED
    kinds = [(e.kind, e.ts) for e in final.timeline]
    assert [k for k, _ in kinds].count("alert.resolved") == 1
    [(_, alert_resolved_at)] = [k for k in kinds if k[0] == "alert.resolved"]
    assert alert_resolved_at == resolved_at > silenced_at
    # auto_resolve_after counts from the cause's resolution, so MTTR ends there plus the grace
    assert final.resolved_ms == resolved_at + 3 * SECOND


def test_a_silenced_incident_is_not_escalated(tmp_path: Path) -> None:
    _, sent, _, _ = run_outage(tmp_path)
    # opened (notified at once), muted for 18 s, then quiet until it resolves, with a 5 s escalation interval
    assert sent.count("escalated") == 0
    assert sent.count("resolved") == 1


def test_an_unsilenced_unacknowledged_incident_escalates(tmp_path: Path) -> None:
    _, sent, _, _ = run_outage(tmp_path, silence=False)
    assert sent.count("escalated") == 3  # at 5, 10 and 15 s; quiet from 20 s on
