"""What an incident's timeline and report show: the change that caused it
(a fault applied shortly before it opened), and no MTTA for an incident
nobody acknowledged."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from switchman.controller.incidents.model import Incident, IncidentAlert
from switchman.controller.incidents.views import LOOKBACK_MS, mtt, timeline
from switchman.controller.store.db import Database
from switchman.controller.store.sqlite.documents import SqliteEventLog

OPENED = 1_800_000_000_000


def incident() -> Incident:
    inc = Incident(1, "HelloFrontSlow/service=hello", "P2", "hello is slow", "hello", "web-2", OPENED)
    inc.alerts.append(IncidentAlert("fp", {"alertname": "HelloFrontSlow"}, True, OPENED - 2_000))
    return inc


def event(conn: sqlite3.Connection, ts: int, kind: str, host: str, service: str) -> None:
    conn.execute(
        "INSERT INTO events (host_id, ts, kind, severity, service, message, attributes) VALUES (?,?,?,?,?,?,?)",
        (host, ts, kind, 1, service, f"{kind} at {ts}", "{}"),
    )


def test_the_timeline_shows_the_fault_applied_before_the_incident_opened(tmp_path: Path) -> None:
    db = Database(tmp_path / "c.db")
    conn = db.open_writer()
    event(conn, OPENED - 8_000, "fault.applied", "web-2", "hello")  # the cause
    event(conn, OPENED - 2 * LOOKBACK_MS, "rollout.succeeded", "", "hello")  # long before: not related
    event(conn, OPENED - 5_000, "fault.applied", "web-9", "other")  # another host and service
    event(conn, OPENED + 30_000, "fault.reverted", "web-2", "hello")
    conn.commit()
    entries = timeline(SqliteEventLog(db.reader), incident(), OPENED + 60_000)
    assert [(e.kind, e.ts - OPENED) for e in entries] == [("fault.applied", -8_000), ("fault.reverted", 30_000)]
    db.close()


def test_an_incident_nobody_acknowledged_has_no_mtta() -> None:
    never = incident()
    never.resolved_ms = OPENED + 90_000
    [by_priority], _ = mtt([never])
    assert by_priority.acknowledged == 0 and by_priority.resolved == 1 and by_priority.mttr_seconds == 90
    acked = incident()
    acked.acknowledged_ms = OPENED + 10_000
    [p], _ = mtt([never, acked])
    assert p.acknowledged == 1 and p.mtta_seconds == 10 and p.resolved == 1
