"""Desired and actual state of every service, in the agent's SQLite
(``services.db``). Written before the agent acts on it, so a crash at any
point leaves enough to finish or undo what was under way."""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS services (
    name TEXT PRIMARY KEY,
    spec_toml TEXT NOT NULL,
    revision INTEGER NOT NULL,
    active_slot TEXT NOT NULL,
    active_version TEXT NOT NULL,
    previous_slot TEXT NOT NULL,
    previous_version TEXT NOT NULL,
    phase TEXT NOT NULL,
    target_slot TEXT NOT NULL,
    target_version TEXT NOT NULL,
    updated_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS slots (
    service TEXT NOT NULL,
    slot TEXT NOT NULL,
    version TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started_at REAL NOT NULL,
    PRIMARY KEY (service, slot)
);
"""


class Phase(StrEnum):
    IDLE = "idle"
    SWITCHING = "switching"  # new slot starting / probing; traffic still on the active slot
    DRAINING = "draining"  # flipped; the old slot drains, then stops or is kept warm
    WEIGHTED = "weighted"  # at rest: the target slot's candidate gets ``weight`` % of the requests


@dataclass(frozen=True)
class ServiceRecord:
    name: str
    spec_toml: str
    revision: int = 0
    active_slot: str = ""
    active_version: str = ""
    previous_slot: str = ""
    previous_version: str = ""
    phase: Phase = Phase.IDLE
    target_slot: str = ""
    target_version: str = ""
    weight: int = 0  # the candidate's share while WEIGHTED

    def evolve(self, **changes: object) -> ServiceRecord:
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class SlotRecord:
    service: str
    slot: str
    version: str
    pid: int
    started_at: float


class StateStore:
    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(services)")}
        if "weight" not in columns:  # a state file from before weighted steps
            self._db.execute("ALTER TABLE services ADD COLUMN weight INTEGER NOT NULL DEFAULT 0")
        self._lock = threading.Lock()
        # reads are served from memory (every collection cycle reads them); writes go to disk first
        self._services = {r.name: r for r in self._load_services()}
        self._slots: dict[str, dict[str, SlotRecord]] = {}
        for row in self._db.execute("SELECT service, slot, version, pid, started_at FROM slots"):
            self._slots.setdefault(row[0], {})[row[1]] = SlotRecord(*row)

    def services(self) -> list[ServiceRecord]:
        with self._lock:
            return sorted(self._services.values(), key=lambda r: r.name)

    def _load_services(self) -> list[ServiceRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT name, spec_toml, revision, active_slot, active_version, previous_slot, previous_version, phase,"
                " target_slot, target_version, weight FROM services ORDER BY name"
            ).fetchall()
        return [
            ServiceRecord(
                name=r[0],
                spec_toml=r[1],
                revision=r[2],
                active_slot=r[3],
                active_version=r[4],
                previous_slot=r[5],
                previous_version=r[6],
                phase=Phase(r[7]),
                target_slot=r[8],
                target_version=r[9],
                weight=r[10],
            )
            for r in rows
        ]

    def get(self, name: str) -> ServiceRecord | None:
        with self._lock:
            return self._services.get(name)

    def put(self, r: ServiceRecord) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO services (name, spec_toml, revision, active_slot, active_version,"
                " previous_slot, previous_version, phase, target_slot, target_version, updated_ms, weight)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    r.name,
                    r.spec_toml,
                    r.revision,
                    r.active_slot,
                    r.active_version,
                    r.previous_slot,
                    r.previous_version,
                    r.phase.value,
                    r.target_slot,
                    r.target_version,
                    int(time.time() * 1000),
                    r.weight,
                ),
            )
            self._services[r.name] = r

    def slots(self, service: str) -> dict[str, SlotRecord]:
        with self._lock:
            return dict(self._slots.get(service, {}))

    def put_slot(self, s: SlotRecord) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO slots VALUES (?,?,?,?,?)", (s.service, s.slot, s.version, s.pid, s.started_at)
            )
            self._slots.setdefault(s.service, {})[s.slot] = s

    def drop_slot(self, service: str, slot: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM slots WHERE service=? AND slot=?", (service, slot))
            self._slots.get(service, {}).pop(slot, None)

    def delete(self, name: str) -> None:
        """Forget a service and its slots (after they are stopped)."""
        with self._lock:
            self._db.execute("DELETE FROM slots WHERE service=?", (name,))
            self._db.execute("DELETE FROM services WHERE name=?", (name,))
            self._slots.pop(name, None)
            self._services.pop(name, None)

    def close(self) -> None:
        with self._lock:
            self._db.close()
