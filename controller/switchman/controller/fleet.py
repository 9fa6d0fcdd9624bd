"""The fleet registry: hosts, heartbeats, up/down state and the ``up`` series.

State lives in memory for fast reads (status and list calls at 2,000 hosts)
and is written through the writer before a registration is acknowledged;
heartbeat times are persisted in bulk every cycle.
"""

from __future__ import annotations

import functools
import json
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from switchman.controller.errors import NotFound
from switchman.controller.store.series import SeriesIndex
from switchman.controller.store.sqlite import timeseries as ts_sql
from switchman.controller.store.writer import Writer

log = logging.getLogger(__name__)

PERSIST_EVERY = 6  # ticks between writes of heartbeat times
# agents coming back to a restarted controller spread their first retries over at least
# MIN_COMEBACK_SPREAD_MS, and over longer with a larger fleet: about COMEBACK_AGENTS_PER_S a second
MIN_COMEBACK_SPREAD_MS = 4_000
COMEBACK_AGENTS_PER_S = 125
CHUNK = 250  # hosts per write transaction


@dataclass
class Host:
    host_id: str
    hostname: str
    address: str
    labels: dict[str, str]
    agent_version: str
    capabilities: list[str]
    registered_ms: int
    last_heartbeat_ms: int
    last_push_ms: int = 0
    cert_not_after_ms: int = 0
    metrics_address: str = ""  # the agent's /metrics HOST:PORT, empty when off
    job: str = "node"  # the job label of its collector's series
    was_up: bool = field(default=True, compare=False)


class Fleet:
    def __init__(
        self,
        writer: Writer,
        index: SeriesIndex,
        clock_ms: Callable[[], int],
        ttl_ms: int,
        on_down: Callable[[sqlite3.Connection, str, int], None] | None = None,
    ) -> None:
        """``on_down(conn, host_id, now)`` runs in the writer when a host turns
        down (the ingest's staleness markers on what the host pushed)."""
        self._writer = writer
        self._on_down = on_down
        self._index = index
        self._now = clock_ms
        self.ttl_ms = ttl_ms
        self.hosts: dict[str, Host] = {}
        self._dirty: set[str] = set()
        self._ticks = 0
        # the hosts that were up when this controller started, and when their comeback ends
        self._returning: set[str] = set()
        self._comeback_ends_ms = 0

    def load(self, conn: sqlite3.Connection) -> None:
        for row in ts_sql.load_hosts(conn):
            h = Host(
                row[0],
                row[1],
                row[2],
                json.loads(row[3]),
                row[4],
                json.loads(row[5]),
                row[6],
                row[7],
                row[8],
                row[9],
                row[10],
                row[11],
            )
            h.was_up = self.is_up(h)
            self.hosts[h.host_id] = h
        # the agents spread their comeback over the window they were told: a host that was up
        # has that long, and then the heartbeat TTL, to push again before it counts as down
        self._returning = {h.host_id for h in self.hosts.values() if h.was_up}
        self._comeback_ends_ms = self._now() + self.comeback_spread_ms()

    def comeback_spread_ms(self) -> int:
        """How long the agents should spread their comeback over (the Register reply tells them)."""
        return max(MIN_COMEBACK_SPREAD_MS, len(self.hosts) * 1000 // COMEBACK_AGENTS_PER_S)

    def is_up(self, host: Host, now_ms: int | None = None) -> bool:
        now = self._now() if now_ms is None else now_ms
        last = host.last_heartbeat_ms
        if host.host_id in self._returning:
            last = max(last, self._comeback_ends_ms)
        return now - last <= self.ttl_ms

    def get(self, host_id: str) -> Host:
        h = self.hosts.get(host_id)
        if h is None:
            raise NotFound(f"host {host_id!r} is not registered")
        return h

    async def register(self, host: Host) -> None:
        """Persist, then publish. Re-registration keeps ``registered_ms``."""
        old = self.hosts.get(host.host_id)
        if old is not None:
            host.registered_ms = old.registered_ms
            host.last_push_ms = old.last_push_ms
            if replace(host, last_heartbeat_ms=old.last_heartbeat_ms) == old:
                # what is stored is what the agent says (an agent back after a controller restart):
                # the heartbeat time goes with the others' in bulk
                self._publish(host, old)
                self._dirty.add(host.host_id)
                return

        def job(conn: sqlite3.Connection) -> None:
            ts_sql.upsert_host(
                conn,
                (
                    host.host_id,
                    host.hostname,
                    host.address,
                    json.dumps(host.labels, sort_keys=True),
                    host.agent_version,
                    json.dumps(host.capabilities),
                    host.registered_ms,
                    host.last_heartbeat_ms,
                    host.last_push_ms,
                    host.cert_not_after_ms,
                    host.metrics_address,
                    host.job,
                ),
            )

        await self._writer.run(job)
        self._publish(host, old)

    def _publish(self, host: Host, old: Host | None) -> None:
        if old is None or not old.was_up:
            log.info("host %s is up (%s)", host.host_id, host.address)
        host.was_up = True
        self.hosts[host.host_id] = host

    def heartbeat(self, host_id: str) -> bool:
        """Record a heartbeat; False when the host is unknown."""
        h = self.hosts.get(host_id)
        if h is None:
            return False
        h.last_heartbeat_ms = self._now()
        self._dirty.add(host_id)
        return True

    def pushed(self, host_id: str) -> None:
        h = self.hosts.get(host_id)
        if h is not None:
            now = self._now()
            h.last_push_ms = now
            h.last_heartbeat_ms = now  # a push proves liveness as well as a heartbeat
            self._dirty.add(host_id)

    async def flush(self) -> None:
        """Persist every host's heartbeat and push times (at shutdown): a restarted
        controller then knows which hosts were there a moment ago, instead of
        marking the whole fleet down (and every series stale) at its first tick."""
        rows = [(h.last_heartbeat_ms, h.last_push_ms, h.host_id) for h in self.hosts.values()]
        self._dirty.clear()
        for start in range(0, len(rows), CHUNK):
            await self._writer.run(functools.partial(ts_sql.save_heartbeats, rows=rows[start : start + CHUNK]))

    def counts(self) -> tuple[int, int]:
        now = self._now()
        up = sum(1 for h in self.hosts.values() if self.is_up(h, now))
        return up, len(self.hosts) - up

    async def tick(self) -> None:
        """Every heartbeat interval: write ``up{host}`` (1 or 0) for every host
        and log up/down transitions; every ``PERSIST_EVERY`` ticks also
        persist heartbeat times (memory is authoritative while running; the
        database only needs them across a restart)."""
        now = self._now()
        rows: list[tuple[str, float]] = []
        went_down: list[str] = []
        for h in self.hosts.values():
            up = self.is_up(h, now)
            if up != h.was_up:
                if not up:
                    went_down.append(h.host_id)
                log.warning(
                    "host %s is %s (last heartbeat %.0fs ago)",
                    h.host_id,
                    "up" if up else "down",
                    (now - h.last_heartbeat_ms) / 1000,
                )
                h.was_up = up
            rows.append((h.host_id, 1.0 if up else 0.0))
        self._ticks += 1
        dirty: list[tuple[int, int, str]] = []
        if self._ticks % PERSIST_EVERY == 0:
            dirty = [
                (self.hosts[i].last_heartbeat_ms, self.hosts[i].last_push_ms, i) for i in self._dirty if i in self.hosts
            ]
            self._dirty.clear()
        if went_down and self._on_down is not None:
            on_down = self._on_down
            await self._writer.run(lambda conn: [on_down(conn, host_id, now) for host_id in went_down])
        # small transactions, so pushes queued behind them wait little
        for start in range(0, max(len(rows), len(dirty)), CHUNK):
            up_rows, hb_rows = rows[start : start + CHUNK], dirty[start : start + CHUNK]
            await self._writer.run(functools.partial(self._write, now=now, up_rows=up_rows, hb_rows=hb_rows))

    def _target(self, host_id: str) -> tuple[tuple[str, str], ...]:
        """``up``'s labels as Prometheus writes them for a target, and the host."""
        host = self.hosts.get(host_id)
        return (("host", host_id), ("instance", host_id), ("job", host.job if host else "node"))

    def _write(
        self, conn: sqlite3.Connection, now: int, up_rows: list[tuple[str, float]], hb_rows: list[tuple[int, int, str]]
    ) -> None:
        if hb_rows:
            ts_sql.save_heartbeats(conn, hb_rows)
        samples = [
            (self._index.intern(conn, self._writer, "up", self._target(host_id), host_id, now), now, value)
            for host_id, value in up_rows
        ]
        ts_sql.insert_rows(conn, samples)
