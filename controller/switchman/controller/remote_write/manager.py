"""Every configured endpoint's queue, and their lifecycle: :meth:`RemoteWrite.open`
(at build, before ingest starts) turns the log on or off and loads or makes
the cursors; :meth:`~RemoteWrite.start` (the daemon) opens the HTTP sessions
and starts one task per endpoint; :meth:`~RemoteWrite.close` cancels and
awaits them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import Callable, Sequence

from switchman.controller.remote_write.client import HttpClient
from switchman.controller.remote_write.config import Endpoint
from switchman.controller.remote_write.queue import EndpointQueue, Stats
from switchman.controller.store.sqlite import remote_write as sql
from switchman.controller.store.storage import Storage

log = logging.getLogger(__name__)


def _prepare(conn: sqlite3.Connection, endpoints: Sequence[Endpoint], now_ms: int) -> dict[str, sql.Cursor]:
    """Writer job: log on (endpoints) or off (none); each endpoint's cursor,
    a new one at the log's head (it gets what is ingested from now on)."""
    if not endpoints:
        sql.stop_log(conn)
        return {}
    sql.start_log(conn)
    sql.keep_cursors(conn, [e.name for e in endpoints])
    cursors = sql.load_cursors(conn)
    head = sql.head(conn)
    for e in endpoints:
        if e.name not in cursors:
            cursors[e.name] = sql.Cursor(e.name, e.url, head, head)
            sql.save_cursor(conn, cursors[e.name], now_ms)
    return cursors


class RemoteWrite:
    def __init__(self, storage: Storage, queues: list[EndpointQueue], raw_retention_ms: int) -> None:
        self._storage = storage
        self.queues = queues
        self._raw_retention_ms = raw_retention_ms
        self._tasks: list[asyncio.Task[None]] = []
        self._clients: list[HttpClient] = []

    @classmethod
    async def open(
        cls,
        endpoints: Sequence[Endpoint],
        storage: Storage,
        clock_ms: Callable[[], int],
        raw_retention_ms: int,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> RemoteWrite:
        now = clock_ms()
        cursors = await storage.run(lambda conn: _prepare(conn, endpoints, now))
        queues = [EndpointQueue(e, storage, cursors[e.name], clock_ms, raw_retention_ms, monotonic) for e in endpoints]
        for q in queues:
            c = cursors[q.endpoint.name]
            log.info("remote_write %s: %s from log row %d", q.endpoint.name, q.endpoint.url, c.sent_seq)
        return cls(storage, queues, raw_retention_ms)

    async def start(self) -> None:
        """One task per endpoint. :raises OSError: a TLS file that cannot be read (nothing is left started)."""
        for q in self.queues:
            try:
                client = await HttpClient.open(q.endpoint)
            except OSError:
                await self.close()
                raise
            self._clients.append(client)
            q.post = client.post
            self._tasks.append(asyncio.create_task(q.run(), name=f"remote_write:{q.endpoint.name}"))

    async def close(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        self._tasks.clear()
        for c in self._clients:
            await c.close()
        self._clients.clear()

    def stats(self) -> list[tuple[Endpoint, Stats]]:
        return [(q.endpoint, q.stats) for q in self.queues]

    async def prune(self, now_ms: int) -> None:
        """Drop the log rows every endpoint has answered, and those older than raw retention."""
        if not self.queues:
            return
        sent_by_all = min(q.sent_seq for q in self.queues)
        cutoff = now_ms - self._raw_retention_ms
        kept_from = await self._storage.run(lambda conn: sql.prune(conn, sent_by_all, cutoff))
        for q in self.queues:
            q.expired(kept_from)
