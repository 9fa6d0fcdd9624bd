"""The telemetry spool: a SQLite outbox of batches with sequence numbers (SPEC 3.2).

Every batch is committed here before it is sent, and deleted only after
the controller acknowledges its sequence. The spool is bounded: when it
grows past ``max_bytes`` the oldest raw samples are dropped first (events
are kept as long as possible) and counted.

All methods are blocking; the agent calls them through ``asyncio.to_thread``.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

from switchman.agent.errors import SpoolError
from switchman.proto.v1 import controller_pb2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS batches (
    seq INTEGER PRIMARY KEY,
    created_ms INTEGER NOT NULL,
    n_samples INTEGER NOT NULL,
    n_events INTEGER NOT NULL,
    payload BLOB NOT NULL
);
"""


ROW_OVERHEAD = 64  # bytes per row beyond its payload (record header, b-tree cell)


@dataclass(frozen=True)
class SpoolEntry:
    seq: int
    n_samples: int
    payload: bytes


@dataclass(frozen=True)
class SpoolStats:
    batches: int
    samples: int
    bytes: int
    dropped_samples: int


class Spool:
    """SQLite outbox. Thread-safe (one connection behind a lock)."""

    def __init__(self, path: Path, max_bytes: int) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            # the working set is the spool's tail and head: SQLite's default 2 MiB page cache would be
            # resident memory the agent's budget cannot spare
            self._db.execute("PRAGMA cache_size=-256")
            self._db.executescript(_SCHEMA)
            row = self._db.execute("SELECT value FROM meta WHERE key='epoch'").fetchone()
            if row is None:
                self._db.execute(
                    "INSERT INTO meta VALUES ('epoch', ?), ('next_seq', '1'), ('dropped', '0')", (uuid.uuid4().hex,)
                )
                row = self._db.execute("SELECT value FROM meta WHERE key='epoch'").fetchone()
        except sqlite3.Error as exc:
            raise SpoolError(f"spool {path}: {exc}") from exc
        self.epoch: str = row[0]
        self._pending_drop_report = 0
        self._bytes = self._logical_bytes()
        n, samples = self._db.execute("SELECT count(*), coalesce(sum(n_samples), 0) FROM batches").fetchone()
        self._batches, self._samples, self._dropped = int(n), int(samples), self._meta_int("dropped")

    def _meta_int(self, key: str) -> int:
        return int(self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()[0])

    def append(self, batch: controller_pb2.TelemetryBatch, now_ms: int) -> int:
        """Give ``batch`` the next sequence number and commit it. Returns the sequence."""
        n_samples = sum(len(s.values) for s in batch.series)
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                seq = self._meta_int("next_seq")
                batch.sequence = seq
                batch.dropped_samples = self._pending_drop_report
                payload = batch.SerializeToString()
                self._db.execute(
                    "INSERT INTO batches VALUES (?, ?, ?, ?, ?)", (seq, now_ms, n_samples, len(batch.events), payload)
                )
                self._db.execute("UPDATE meta SET value=? WHERE key='next_seq'", (str(seq + 1),))
                self._db.execute("COMMIT")
                self._bytes += ROW_OVERHEAD + len(payload)
                self._batches += 1
                self._samples += n_samples
            except sqlite3.Error as exc:
                self._db.execute("ROLLBACK")
                raise SpoolError(f"spool {self.path}: cannot append: {exc}") from exc
            self._pending_drop_report = 0
            self._enforce_bound()
        return seq

    def peek(self, max_bytes: int, max_batches: int = 1000) -> list[SpoolEntry]:
        """The oldest entries, in sequence order, up to ``max_bytes`` of payload."""
        out: list[SpoolEntry] = []
        total = 0
        with self._lock:
            for seq, n, payload in self._db.execute(
                "SELECT seq, n_samples, payload FROM batches ORDER BY seq LIMIT ?", (max_batches,)
            ):
                if out and total + len(payload) > max_bytes:
                    break
                out.append(SpoolEntry(seq, n, payload))
                total += len(payload)
        return out

    def ack(self, acked_seq: int) -> int:
        """Delete every entry with sequence <= ``acked_seq``; returns how many."""
        with self._lock:
            n, samples = self._db.execute(
                "SELECT count(*), coalesce(sum(n_samples), 0) FROM batches WHERE seq <= ?", (acked_seq,)
            ).fetchone()
            cur = self._db.execute("DELETE FROM batches WHERE seq <= ?", (acked_seq,))
            if cur.rowcount:
                self._bytes = self._logical_bytes()
                self._batches -= int(n)
                self._samples -= int(samples)
            return cur.rowcount

    def stats(self) -> SpoolStats:
        with self._lock:  # kept in memory: read on every collection cycle
            return SpoolStats(self._batches, self._samples, self._bytes, self._dropped)

    def _logical_bytes(self) -> int:
        """What the entries take: payloads plus a fixed per-row overhead. The
        file itself may be larger by its free pages, which SQLite reuses."""
        n, total = self._db.execute("SELECT count(*), coalesce(sum(length(payload)), 0) FROM batches").fetchone()
        return int(total) + ROW_OVERHEAD * int(n)

    def _enforce_bound(self) -> None:
        """Drop the oldest raw samples (then, if needed, the oldest whole
        entries) until the spool is under its bound. Caller holds the lock."""
        while self._bytes > self.max_bytes:
            rows = self._db.execute(
                "SELECT seq, n_samples, n_events, payload FROM batches WHERE n_samples > 0 ORDER BY seq LIMIT 64"
            ).fetchall()
            mode = "samples"
            if not rows:
                rows = self._db.execute(
                    "SELECT seq, 0, n_events, payload FROM batches ORDER BY seq LIMIT 64"
                ).fetchall()
                mode = "entries"
                if not rows:
                    return
            dropped = 0
            self._db.execute("BEGIN IMMEDIATE")
            for seq, n_samples, _n_events, payload in rows:
                if mode == "entries":
                    self._db.execute("DELETE FROM batches WHERE seq=?", (seq,))
                    continue
                b = controller_pb2.TelemetryBatch.FromString(payload)
                del b.series[:]
                self._db.execute("UPDATE batches SET n_samples=0, payload=? WHERE seq=?", (b.SerializeToString(), seq))
                dropped += n_samples
            self._db.execute("UPDATE meta SET value=CAST(value AS INTEGER)+? WHERE key='dropped'", (dropped,))
            self._db.execute("COMMIT")
            self._pending_drop_report += dropped
            self._dropped += dropped
            self._bytes = self._logical_bytes()
            n, samples = self._db.execute("SELECT count(*), coalesce(sum(n_samples), 0) FROM batches").fetchone()
            self._batches, self._samples = int(n), int(samples)

    def close(self) -> None:
        with self._lock:
            self._db.close()
