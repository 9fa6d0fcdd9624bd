"""Domain objects -> Ops messages."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping

from switchman.controller.alerts.engine import Alert
from switchman.controller.alerts.fingerprints import fingerprint
from switchman.controller.fleet import Host
from switchman.controller.notify.dispatcher import Muting
from switchman.controller.notify.silences import Silence
from switchman.controller.security.certs import days_left
from switchman.controller.security.tokens import TokenRecord
from switchman.controller.store.sqlite import timeseries as ts_sql
from switchman.controller.wiring import Controller
from switchman.proto.v1 import ops_pb2

VITALS = (
    "node_load1",
    "node_memory_MemAvailable_bytes",
    "node_memory_MemTotal_bytes",
    "switchman_node_cpu_utilisation_ratio",
    "switchman_agent_spool_batches",
)


def select_hosts(core: Controller, selector: Mapping[str, str], state: str, now_ms: int) -> list[Host]:
    """The hosts ``hosts`` and the console list, by id: those with every
    ``selector`` label and, when given, in ``state`` (up or down)."""
    out = []
    for h in sorted(core.fleet.hosts.values(), key=lambda h: h.host_id):
        if any(h.labels.get(k) != v for k, v in selector.items()):
            continue
        if state and ("up" if core.fleet.is_up(h, now_ms) else "down") != state:
            continue
        out.append(h)
    return out


def select_alerts(core: Controller, state: str, matchers: Mapping[str, str]) -> list[Alert]:
    """Active alerts by name then labels, in ``state`` when given, with every ``matchers`` label."""
    out = []
    for a in sorted(core.rules.alerts(), key=lambda a: a.order):
        if state and a.state.value != state:
            continue
        if any(a.labels.get(k) != v for k, v in matchers.items()):
            continue
        out.append(a)
    return out


def alert_messages(core: Controller, alerts: Iterable[Alert], now_ms: int) -> list[ops_pb2.Alert]:
    """Alerts as messages, each marked silenced or inhibited as notifications see it."""
    firing = [a.labels for a in core.rules.alerts() if a.state.value == "firing"]
    return [alert_message(a, core.dispatcher.muting(a, firing, now_ms)) for a in alerts]


def host_summary(core: Controller, h: Host, now_ms: int) -> ops_pb2.HostSummary:
    return ops_pb2.HostSummary(
        host_id=h.host_id,
        hostname=h.hostname,
        address=h.address,
        state="up" if core.fleet.is_up(h, now_ms) else "down",
        labels=h.labels,
        last_heartbeat_ms=h.last_heartbeat_ms,
        registered_at_ms=h.registered_ms,
        agent_version=h.agent_version,
        capabilities=h.capabilities,
        cert_days_left=days_left(h.cert_not_after_ms, now_ms),
    )


async def host_detail(core: Controller, h: Host) -> ops_pb2.HostDetail:
    now = core.clock_ms()
    series = [s for s in core.storage.index.all() if ("host", h.host_id) in s.labels]
    wanted = {s.id: s.name for s in series if s.name in VITALS}

    def latest() -> dict[str, float]:
        values = ts_sql.latest_values(core.storage.reader(), wanted, now - 300_000)
        return {wanted[sid]: v for sid, v in values.items()}

    vitals = await asyncio.to_thread(latest)
    cursor = core.ingest.cursors.get(h.host_id)
    return ops_pb2.HostDetail(
        host=host_summary(core, h, now),
        series_count=len(series),
        last_push_ms=h.last_push_ms,
        acked_sequence=cursor.acked if cursor else 0,
        spool_epoch=cursor.epoch if cursor else "",
        vitals=vitals,
    )


def token_message(rec: TokenRecord) -> ops_pb2.Token:
    return ops_pb2.Token(
        name=rec.name,
        role=rec.role.value,
        created_at_ms=rec.created_ms,
        last_used_ms=rec.last_used_ms,
        revoked=rec.revoked,
    )


def alert_message(a: Alert, muting: Muting) -> ops_pb2.Alert:
    return ops_pb2.Alert(
        labels=a.labels,
        annotations=a.annotations,
        state=a.state.value,
        active_at_ms=a.active_at_ms,
        value=a.value,
        fingerprint=fingerprint(a.labels),
        fired_at_ms=a.fired_at_ms,
        resolved_at_ms=a.resolved_at_ms,
        silenced=bool(muting.silenced_by),
        inhibited=muting.inhibited,
    )


def silence_message(s: Silence, now_ms: int) -> ops_pb2.Silence:
    return ops_pb2.Silence(
        id=s.id,
        matchers=[ops_pb2.Matcher(name=m.name, op=str(m.op), value=m.value) for m in s.matchers],
        starts_at_ms=s.starts_ms,
        ends_at_ms=s.ends_ms,
        created_by=s.created_by,
        comment=s.comment,
        state=s.state(now_ms).value,
    )


def firing_by_severity(core: Controller) -> list[ops_pb2.CountByKey]:
    counts: dict[str, int] = {}
    for a in core.rules.alerts():
        if a.state.value == "firing":
            sev = a.labels.get("severity", "none")
            counts[sev] = counts.get(sev, 0) + 1
    return [ops_pb2.CountByKey(key=k, count=n) for k, n in sorted(counts.items())]


def open_by_priority(core: Controller) -> list[ops_pb2.CountByKey]:
    counts: dict[str, int] = {}
    for inc in core.incidents.open.values():
        counts[inc.priority] = counts.get(inc.priority, 0) + 1
    return [ops_pb2.CountByKey(key=k, count=n) for k, n in sorted(counts.items())]
