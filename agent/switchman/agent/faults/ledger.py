"""The fault ledger (``faults.db``): a fault is written here before it is
applied, its state after; an agent that starts reverts whatever is not
marked reverted."""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class FaultRecord:
    id: str
    kind: str
    duration_ms: int
    service: str
    params: dict[str, str]
    state: str  # pending | active | reverted | failed
    applied_ms: int
    expires_ms: int
    reverted_ms: int = 0
    error: str = ""
    info: dict[str, object] = field(default_factory=dict)  # what revert needs (pids, file, slot)


class Ledger:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")  # a fault must be on disk before it is applied
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS faults (id TEXT PRIMARY KEY, doc TEXT NOT NULL, state TEXT NOT NULL)"
        )
        self._lock = threading.Lock()

    def put(self, rec: FaultRecord) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO faults (id, doc, state) VALUES (?,?,?)",
                (rec.id, json.dumps(asdict(rec), sort_keys=True), rec.state),
            )

    def get(self, fault_id: str) -> FaultRecord | None:
        with self._lock:
            row = self._conn.execute("SELECT doc FROM faults WHERE id = ?", (fault_id,)).fetchone()
        return FaultRecord(**json.loads(row[0])) if row else None

    def all(self, include_done: bool = True) -> list[FaultRecord]:
        sql = "SELECT doc FROM faults" + ("" if include_done else " WHERE state IN ('pending', 'active')")
        with self._lock:
            rows = self._conn.execute(sql + " ORDER BY rowid").fetchall()
        return [FaultRecord(**json.loads(d)) for (d,) in rows]

    def prune(self, keep: int = 500) -> None:
        with self._lock:
            self._conn.execute(
                "DELETE FROM faults WHERE state IN ('reverted', 'failed') AND rowid NOT IN "
                "(SELECT rowid FROM faults ORDER BY rowid DESC LIMIT ?)",
                (keep,),
            )

    def close(self) -> None:
        with self._lock:
            self._conn.close()
