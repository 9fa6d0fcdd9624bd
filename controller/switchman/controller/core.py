"""The controller's parts, wired once (by the daemon or by tests)."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from switchman.controller.alerts.fingerprints import fingerprint
from switchman.controller.fleet import Fleet
from switchman.controller.ingest import Ingestor
from switchman.controller.notify.dispatcher import Dispatcher
from switchman.controller.notify.outbox import Outbox
from switchman.controller.notify.silences import SilenceStore
from switchman.controller.promql.evaluator import Evaluator
from switchman.controller.promql.source import StoreSource
from switchman.controller.security.audit import AuditLog
from switchman.controller.security.tokens import TokenStore
from switchman.controller.store import Database, Writer
from switchman.controller.store.rollups import HOUR, MINUTE, apply_retention, roll_up
from switchman.controller.store.series import SeriesIndex

if TYPE_CHECKING:
    from switchman.controller.alerts.manager import RuleManager
    from switchman.controller.chaos.drills import DrillRunner
    from switchman.controller.chaos.faults import FaultOps
    from switchman.controller.incidents.manager import IncidentManager
    from switchman.controller.rollouts.executor import RolloutManager
    from switchman.controller.slo.engine import SLOEngine


def wall_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Retention:
    raw_ms: int = 48 * 3_600_000
    minute_ms: int = 30 * 86_400_000
    hour_ms: int = 400 * 86_400_000


@dataclass
class IngestRate:
    """Samples per second over the last minute, from (time, total) marks."""

    marks: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=13))

    def mark(self, total: int) -> None:
        self.marks.append((time.monotonic(), total))

    def per_second(self) -> float:
        if len(self.marks) < 2:
            return 0.0
        (t0, n0), (t1, n1) = self.marks[0], self.marks[-1]
        return (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0


class Core:
    def __init__(
        self,
        data_dir: Path,
        *,
        heartbeat_ttl_ms: int = 30_000,
        heartbeat_interval_ms: int = 5_000,
        retention: Retention | None = None,
        clock_ms: Callable[[], int] = wall_ms,
        require_agent_certs: bool = False,
    ) -> None:
        self.data_dir = data_dir
        self.require_agent_certs = require_agent_certs
        self.clock_ms = clock_ms
        self.retention = retention or Retention()
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.db = Database(data_dir / "controller.db")
        self.writer: Writer | None = None
        self.index = SeriesIndex()
        self.ready = False
        self.rules: RuleManager | None = None  # set by the daemon once rule files are loaded
        self.rollouts: RolloutManager | None = None  # set by the daemon once the store is open
        self.drills: DrillRunner | None = None  # set by the daemon once the store is open
        self.faults: FaultOps | None = None  # set when the Ops service is assembled
        self.slo: SLOEngine | None = None  # set by the daemon once SLO files are loaded
        self.incidents: IncidentManager | None = None  # set by the daemon once the store is open
        self.rate = IngestRate()
        # set in open()
        self.fleet: Fleet
        self.ingest: Ingestor
        self.tokens: TokenStore
        self.audit: AuditLog
        self.evaluator: Evaluator
        self.silences: SilenceStore
        self.outbox: Outbox
        self.dispatcher: Dispatcher
        self._ttl_ms = heartbeat_ttl_ms

    def open(self) -> None:
        """Blocking: migrate and load. Run in a thread at start-up."""
        conn = self.db.open_writer()
        self.writer = Writer(conn)
        reader = self.db.reader()
        self.index.load(reader)
        self.fleet = Fleet(self.writer, self.index, self.clock_ms, self._ttl_ms)
        self.fleet.load(reader)
        self.ingest = Ingestor(self.writer, self.index, self.clock_ms)
        self.ingest.load(reader)
        self.audit = AuditLog(self.writer)
        self.tokens = TokenStore(self.writer)
        self.tokens.load(reader)
        source = StoreSource(
            self.index,
            self.db.reader,
            self.retention.raw_ms,
            (self.retention.minute_ms, self.retention.hour_ms),
            self.clock_ms,
        )
        self.evaluator = Evaluator(source)
        self.silences = SilenceStore(self.writer)
        self.silences.load(reader)
        self.outbox = Outbox(self.writer, self.clock_ms)
        self.dispatcher = Dispatcher(
            self.writer,
            self.silences,
            self.outbox,
            lambda: self.rules.all_alerts() if self.rules is not None else [],
            fingerprint,
            self.clock_ms,
        )
        self.dispatcher.configure([], [], reader)
        self.ready = True

    async def maintain(self) -> None:
        """Rollups and retention (scheduled every minute)."""
        assert self.writer is not None
        now = self.clock_ms()
        r = self.retention
        await self.writer.run(lambda c: roll_up(c, MINUTE, now))
        await self.writer.run(lambda c: roll_up(c, HOUR, now))
        await self.writer.run(lambda c: apply_retention(c, now, r.raw_ms, r.minute_ms, r.hour_ms))
        await self.silences.collect_garbage(now)

    async def checkpoint(self) -> None:
        await asyncio.to_thread(self.db.checkpoint)

    async def count_samples(self) -> int:
        def q() -> int:
            return int(self.db.reader().execute("SELECT count(*) FROM samples").fetchone()[0])

        return await asyncio.to_thread(q)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.db.close()
