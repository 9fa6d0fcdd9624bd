"""Incidents as Ops messages, notification documents, timelines merged with
the events around them, MTTA/MTTR, and the postmortem skeleton."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence

from switchman.controller.incidents.model import Entry, Incident
from switchman.controller.store.abc import EventLog
from switchman.controller.timefmt import utc as _t
from switchman.proto.v1 import ops_pb2

# what the timeline picks up from the events table on the incident's service or host
EVENT_KINDS = ("rollout.", "rollback.", "chaos.", "fault.", "switch.")  # kinds starting so
# changes this long before the incident opened are in its timeline too: the cause comes first
# (a fault or a rollout, then the alert's `for`, then the page)
LOOKBACK_MS = 15 * 60_000


def notification_doc(inc: Incident) -> dict[str, object]:
    return {
        "id": inc.id,
        "priority": inc.priority,
        "state": inc.state.value,
        "title": inc.title,
        "dedup_key": inc.dedup_key,
        "service": inc.service,
        "host_id": inc.host_id,
        "opened_at_ms": inc.opened_ms,
        "alerts": [a.labels for a in inc.alerts],
    }


def related_events(events: EventLog, inc: Incident, until_ms: int) -> list[Entry]:
    """Rollouts, rollbacks, switches and faults on the same service or host
    while the incident was open, and in the :data:`LOOKBACK_MS` before its
    first alert became active."""
    since = min([inc.opened_ms, *(a.since_ms for a in inc.alerts)]) - LOOKBACK_MS
    services = [inc.service] if inc.service else []
    hosts = [inc.host_id] if inc.host_id else []
    out = []
    for e in events.around(services, hosts, EVENT_KINDS, since, until_ms):
        attrs = {str(k): str(v) for k, v in e.attributes.items()}
        if e.host_id:
            attrs["host"] = e.host_id
        out.append(Entry(e.ts, e.kind, e.host_id or "switchman", e.message, attrs))
    return out


def timeline(events: EventLog, inc: Incident, now_ms: int) -> list[Entry]:
    merged = inc.timeline + related_events(events, inc, inc.resolved_ms or now_ms)
    return sorted(merged, key=lambda e: e.ts)


def incident_message(inc: Incident, entries: Sequence[Entry] | None = None) -> ops_pb2.Incident:
    return ops_pb2.Incident(
        id=inc.id,
        priority=inc.priority,
        state=inc.state.value,
        title=inc.title,
        dedup_key=inc.dedup_key,
        service=inc.service,
        host_id=inc.host_id,
        opened_at_ms=inc.opened_ms,
        acknowledged_at_ms=inc.acknowledged_ms,
        resolved_at_ms=inc.resolved_ms,
        closed_at_ms=inc.closed_ms,
        acknowledged_by=inc.acknowledged_by,
        timeline=[
            ops_pb2.TimelineEntry(
                timestamp_ms=e.ts, kind=e.kind, actor=e.actor, message=e.message, attributes=e.attributes
            )
            for e in (entries if entries is not None else inc.timeline)
        ],
        alerts=[
            ops_pb2.Alert(
                labels=a.labels,
                state="firing" if a.firing else "inactive",
                fingerprint=a.fingerprint,
                active_at_ms=a.since_ms,
            )
            for a in inc.alerts
        ],
        manual_resolve=inc.manual,
    )


def mtt(incidents: Sequence[Incident]) -> tuple[list[ops_pb2.MttStat], list[ops_pb2.MttStat]]:
    """Mean time to acknowledge (over acknowledged incidents) and to resolve (over resolved ones)."""

    def stats(key_of: str) -> list[ops_pb2.MttStat]:
        groups: dict[str, list[Incident]] = defaultdict(list)
        for i in incidents:
            groups[getattr(i, key_of) or "-"].append(i)
        out = []
        for key, items in sorted(groups.items()):
            acked = [i.acknowledged_ms - i.opened_ms for i in items if i.acknowledged_ms]
            resolved = [i.resolved_ms - i.opened_ms for i in items if i.resolved_ms]
            out.append(
                ops_pb2.MttStat(
                    key=key,
                    incidents=len(items),
                    mtta_seconds=sum(acked) / len(acked) / 1000 if acked else 0.0,
                    mttr_seconds=sum(resolved) / len(resolved) / 1000 if resolved else 0.0,
                    acknowledged=len(acked),
                    resolved=len(resolved),
                )
            )
        return out

    return stats("priority"), stats("service")


def _d(ms: int) -> str:
    s = ms // 1000
    return f"{s // 3600}h {s % 3600 // 60}m {s % 60}s" if s >= 3600 else f"{s // 60}m {s % 60}s"


def postmortem(inc: Incident, entries: Sequence[Entry], impact: Sequence[str]) -> str:
    end = inc.resolved_ms or inc.closed_ms
    lines = [
        f"# Postmortem: incident {inc.id} — {inc.title}",
        "",
        "| | |",
        "|---|---|",
        f"| Priority | {inc.priority} |",
        f"| Service / host | {inc.service or '-'} / {inc.host_id or '-'} |",
        f"| Opened | {_t(inc.opened_ms)} |",
        f"| Acknowledged | {_t(inc.acknowledged_ms)} by {inc.acknowledged_by or '-'}"
        + (f" (after {_d(inc.acknowledged_ms - inc.opened_ms)})" if inc.acknowledged_ms else "")
        + " |",
        f"| Resolved | {_t(end)}" + (f" (after {_d(end - inc.opened_ms)})" if end else "") + " |",
        f"| State | {inc.state.value} |",
        "",
        "## Summary",
        "",
        "_What happened, in two or three sentences._",
        "",
        "## Impact",
        "",
        *(impact or ["No SLO covers this service; describe the impact on users."]),
        "",
        "## Timeline",
        "",
        *[f"* {_t(e.ts)} — **{e.kind}** ({e.actor}): {e.message}" for e in entries],
        "",
        "## Alerts",
        "",
        *[f"* `{a.labels.get('alertname', '')}` {json.dumps(a.labels, sort_keys=True)}" for a in inc.alerts],
        "",
        "## Open questions",
        "",
        "* What was the root cause, and why did it happen now?",
        "* How was it detected, and could it have been detected sooner?",
        "* What would have shortened the time to acknowledge and to resolve?",
        "* Which rollout, rollback or fault in the timeline is related, if any?",
        "",
        "## Action items",
        "",
        "| action | owner | due |",
        "|---|---|---|",
        "| | | |",
        "",
    ]
    return "\n".join(lines)
