"""Events, rollouts, incidents, drills and service specs in SQLite. Documents (a rollout, an incident, a drill journal) are stored as
JSON with the columns the queries filter on."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence

from switchman.controller.chaos.journal import Journal
from switchman.controller.incidents.model import Incident
from switchman.controller.rollouts.model import TERMINAL, Rollout
from switchman.controller.store.abc import Event, SpecRevision, Tx
from switchman.controller.store.sqlite import conn_of

Reader = Callable[[], sqlite3.Connection]


class SqliteEventLog:
    def __init__(self, reader: Reader) -> None:
        self._reader = reader

    def add(self, tx: Tx, event: Event) -> None:
        conn_of(tx).execute(
            "INSERT INTO events (host_id, ts, kind, severity, service, message, attributes) VALUES (?,?,?,?,?,?,?)",
            (
                event.host_id,
                event.ts,
                event.kind,
                event.severity,
                event.service,
                event.message[:1000],
                json.dumps(event.attributes, sort_keys=True),
            ),
        )

    def around(
        self, services: Sequence[str], hosts: Sequence[str], kinds: Sequence[str], since_ms: int, until_ms: int
    ) -> list[Event]:
        where = [*(["service = ?"] * len(services)), *(["host_id = ?"] * len(hosts))]
        if not where or not kinds:
            return []
        like = " OR ".join("kind LIKE ?" for _ in kinds)
        rows = (
            self._reader()
            .execute(
                "SELECT host_id, ts, kind, severity, service, message, attributes FROM events"
                f" WHERE ({' OR '.join(where)}) AND ({like}) AND ts >= ? AND ts <= ? ORDER BY ts, id LIMIT 500",
                (*services, *hosts, *(k.replace("%", "") + "%" for k in kinds), since_ms, until_ms),
            )
            .fetchall()
        )
        return [
            Event(str(h), int(ts), str(k), int(sev), str(svc), str(msg), dict(json.loads(attrs or "{}")))
            for h, ts, k, sev, svc, msg, attrs in rows
        ]


class SqliteRollouts:
    def __init__(self, reader: Reader) -> None:
        self._reader = reader

    def create(self, tx: Tx, make: Callable[[int], Rollout]) -> Rollout:
        conn = conn_of(tx)
        rid = int(conn.execute("SELECT coalesce(max(id), 0) + 1 FROM rollouts").fetchone()[0])
        r = make(rid)
        conn.execute(
            "INSERT INTO rollouts (id, service, state, doc, created_ms, updated_ms) VALUES (?,?,?,?,?,?)",
            (r.id, r.service, r.state.value, r.to_json(), r.created_ms, r.updated_ms),
        )
        return r

    def save(self, tx: Tx, rollout: Rollout) -> None:
        conn_of(tx).execute(
            "UPDATE rollouts SET state = ?, doc = ?, updated_ms = ? WHERE id = ?",
            (rollout.state.value, rollout.to_json(), rollout.updated_ms, rollout.id),
        )

    def load(self, rollout_id: int) -> Rollout | None:
        row = self._reader().execute("SELECT doc FROM rollouts WHERE id = ?", (rollout_id,)).fetchone()
        return Rollout.from_json(row[0]) if row else None

    def recent(self, service: str = "", limit: int = 50) -> list[Rollout]:
        sql = "SELECT doc FROM rollouts" + (" WHERE service = ?" if service else "") + " ORDER BY id DESC LIMIT ?"
        args: tuple[object, ...] = (service, limit) if service else (limit,)
        return [Rollout.from_json(d) for (d,) in self._reader().execute(sql, args)]

    def unfinished(self) -> list[Rollout]:
        terminal = tuple(s.value for s in TERMINAL)
        rows = self._reader().execute(
            f"SELECT doc FROM rollouts WHERE state NOT IN ({','.join('?' * len(terminal))}) ORDER BY id", terminal
        )
        return [Rollout.from_json(d) for (d,) in rows]


class SqliteIncidents:
    def __init__(self, reader: Reader) -> None:
        self._reader = reader

    def insert(self, tx: Tx, incident: Incident) -> int:
        conn = conn_of(tx)
        cur = conn.execute(
            "INSERT INTO incidents (dedup_key, state, doc, opened_ms) VALUES (?,?,?,?)",
            (incident.dedup_key, incident.state.value, "{}", incident.opened_ms),
        )
        incident.id = int(cur.lastrowid or 0)
        self.save(tx, incident)
        return incident.id

    def save(self, tx: Tx, incident: Incident) -> None:
        conn_of(tx).execute(
            "UPDATE incidents SET state = ?, doc = ?, service = ?, priority = ? WHERE id = ?",
            (incident.state.value, incident.to_json(), incident.service, incident.priority, incident.id),
        )

    def load(self, incident_id: int) -> Incident | None:
        row = self._reader().execute("SELECT doc FROM incidents WHERE id = ?", (incident_id,)).fetchone()
        return Incident.from_json(row[0]) if row else None

    def open(self) -> list[Incident]:
        rows = self._reader().execute(
            "SELECT doc FROM incidents WHERE state IN ('triggered', 'acknowledged') ORDER BY id"
        )
        return [Incident.from_json(d) for (d,) in rows]

    def find(self, state: str, include_closed: bool, since_ms: int, limit: int = 1000) -> list[Incident]:
        sql = "SELECT doc FROM incidents WHERE opened_ms >= ?"
        args: list[object] = [since_ms]
        if state:
            sql += " AND state = ?"
            args.append(state)
        elif not include_closed:
            sql += " AND state != 'closed'"
        rows = self._reader().execute(sql + " ORDER BY id DESC LIMIT ?", (*args, limit))
        return [Incident.from_json(d) for (d,) in rows]


class SqliteDrills:
    def __init__(self, reader: Reader) -> None:
        self._reader = reader

    def insert(self, tx: Tx, journal: Journal) -> int:
        cur = conn_of(tx).execute(
            "INSERT INTO drills (title, state, doc, started_ms) VALUES (?,?,?,?)",
            (journal.title, journal.state, "{}", journal.started_ms),
        )
        journal.id = int(cur.lastrowid or 0)
        self.save(tx, journal)
        return journal.id

    def save(self, tx: Tx, journal: Journal) -> None:
        conn_of(tx).execute(
            "UPDATE drills SET state = ?, doc = ?, finished_ms = ? WHERE id = ?",
            (journal.state, journal.to_json(), journal.finished_ms, journal.id),
        )

    def load(self, drill_id: int) -> Journal | None:
        row = self._reader().execute("SELECT doc FROM drills WHERE id = ?", (drill_id,)).fetchone()
        return Journal.from_json(row[0]) if row else None

    def recent(self, limit: int) -> list[Journal]:
        rows = self._reader().execute("SELECT doc FROM drills ORDER BY id DESC LIMIT ?", (limit,))
        return [Journal.from_json(d) for (d,) in rows]

    def unfinished(self) -> list[Journal]:
        rows = self._reader().execute("SELECT doc FROM drills WHERE finished_ms = 0 ORDER BY id")
        return [Journal.from_json(d) for (d,) in rows]


class SqliteSpecs:
    def __init__(self, reader: Reader) -> None:
        self._reader = reader

    def add(self, tx: Tx, name: str, source: str, applied_ms: int, applied_by: str) -> tuple[int, bool]:
        conn = conn_of(tx)
        row = conn.execute(
            "SELECT revision, source_toml FROM service_specs WHERE name=? ORDER BY revision DESC LIMIT 1", (name,)
        ).fetchone()
        if row is not None and row[1] == source:
            return int(row[0]), False
        revision = (int(row[0]) if row else 0) + 1
        conn.execute("INSERT INTO service_specs VALUES (?,?,?,?,?)", (name, revision, source, applied_ms, applied_by))
        return revision, True

    def _rows(self, where: str, args: tuple[object, ...]) -> list[SpecRevision]:
        rows = self._reader().execute(
            "SELECT name, revision, source_toml, applied_ms, applied_by FROM service_specs"
            f"{where} ORDER BY name, revision",
            args,
        )
        return [SpecRevision(str(n), int(r), str(s), int(ms), str(by)) for n, r, s, ms, by in rows]

    def history(self, name: str) -> list[SpecRevision]:
        return self._rows(" WHERE name = ?", (name,))

    def all(self) -> list[SpecRevision]:
        return self._rows("", ())

    def remove(self, tx: Tx, name: str) -> int:
        return int(conn_of(tx).execute("DELETE FROM service_specs WHERE name = ?", (name,)).rowcount)
