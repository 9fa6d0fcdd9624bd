"""Rollups and retention without holding up ingest.

Each minute the controller rolls up the closed buckets and deletes what is
past retention. Done as one transaction over every series, that held the
single writer for seconds at 2,000 agents and every push queued behind it.
Here the work is cut into slices of ``slice_series`` series ids (and at most
``delete_limit`` rows per delete). Each slice is read on a reader connection
(the aggregates of a bucket, the keys past retention) and written as its own
small writer job by key; after each read and each write the job pauses
three times as long as the step took, so maintenance takes at most a
quarter of the writer's time (and of a core), and a push never waits behind
more than one slice's write.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol, TypeVar

from switchman.controller.store import rollups
from switchman.controller.store.rollups import HOUR, MINUTE, RETAINED, Resolution

log = logging.getLogger(__name__)

T = TypeVar("T")
RunJob = Callable[[Callable[[sqlite3.Connection], Any]], Awaitable[Any]]

SLICE_SERIES = 1000
DELETE_LIMIT = 5000
MIN_PAUSE_S = 0.002
PAUSE_FACTOR = 3.0  # after each step, a pause this many times as long as the step took


class Retains(Protocol):
    """How long raw samples, minute and hour rollups are kept (the controller's ``Retention``)."""

    @property
    def raw_ms(self) -> int: ...
    @property
    def minute_ms(self) -> int: ...
    @property
    def hour_ms(self) -> int: ...


def keep_ms(retention: Retains, table: str) -> int:
    if table in ("samples", "nan_samples"):
        return retention.raw_ms
    return retention.minute_ms if table == "rollup_1m" else retention.hour_ms


@dataclass(frozen=True)
class MaintenanceRun:
    buckets: int  # rollup buckets computed
    deleted: int  # rows past retention deleted
    jobs: int  # writer jobs it took
    seconds: float


class Maintenance:
    """``run(now)`` does one round of rollups and retention as small writer jobs.

    ``write`` runs a job in the writer thread (returns after its commit);
    ``read`` runs one on a reader connection in a worker thread (what to
    roll up and what to delete is read there, so the writer only writes by
    key); ``pause`` waits between writes (asyncio.sleep by default)."""

    def __init__(
        self,
        write: RunJob,
        read: RunJob,
        retention: Retains,
        *,
        slice_series: int = SLICE_SERIES,
        delete_limit: int = DELETE_LIMIT,
        pause: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._write = write
        self._read = read
        self._retention = retention
        self._slice = slice_series
        self._limit = delete_limit
        self._pause = pause
        self._jobs = 0

    async def _job(self, job: Callable[[sqlite3.Connection], T]) -> T:
        started = time.perf_counter()
        result: T = await self._write(job)
        self._jobs += 1
        await self._pause(max(MIN_PAUSE_S, PAUSE_FACTOR * (time.perf_counter() - started)))
        return result

    async def _scan(self, job: Callable[[sqlite3.Connection], T]) -> T:
        """A read of one slice: it takes no lock from the writer, but the CPU it takes is paced too."""
        started = time.perf_counter()
        result: T = await self._read(job)
        await self._pause(max(MIN_PAUSE_S, PAUSE_FACTOR * (time.perf_counter() - started)))
        return result

    def _slices(self, top: int) -> list[tuple[int, int]]:
        return [(lo, lo + self._slice - 1) for lo in range(1, top + 1, self._slice)]

    async def run(self, now_ms: int) -> MaintenanceRun:
        started = time.perf_counter()
        self._jobs = 0
        top = await self._read(rollups.max_series_id)
        buckets = await self._roll_up(MINUTE, now_ms, top, None)
        minutes_done = await self._read(partial(rollups.progress, table=MINUTE.table))
        if minutes_done is not None:
            buckets += await self._roll_up(HOUR, now_ms, top, minutes_done)
        hours_done = await self._read(partial(rollups.progress, table=HOUR.table))
        # nothing goes before the coarser resolution has rolled it up
        rolled = {"samples": minutes_done, "nan_samples": minutes_done, "rollup_1m": hours_done}
        deleted = 0
        for table in RETAINED:
            before = now_ms - keep_ms(self._retention, table)
            done = rolled.get(table)
            deleted += await self._retain(table, before if done is None else min(before, done), top)
        run = MaintenanceRun(buckets, deleted, self._jobs, time.perf_counter() - started)
        log.debug("maintenance: %d bucket(s), %d row(s) deleted, %d job(s) in %.1fs", *vars(run).values())
        return run

    async def _roll_up(self, res: Resolution, now_ms: int, top: int, ceiling: int | None) -> int:
        buckets = await self._read(partial(rollups.due_buckets, res=res, now_ms=now_ms, ceiling_ms=ceiling))
        for start in buckets:
            for lo, hi in self._slices(top):
                rows = await self._scan(partial(rollups.bucket_rows, res=res, start=start, lo=lo, hi=hi))
                if rows:
                    await self._job(partial(rollups.write_bucket, res=res, rows=rows))
            await self._job(partial(rollups.set_progress, table=res.table, done_until_ms=start + res.width_ms))
        return len(buckets)

    async def _retain(self, table: str, before_ms: int, top: int) -> int:
        deleted = 0
        for lo, hi in self._slices(top):
            while True:
                find = partial(rollups.old_keys, table=table, before_ms=before_ms, lo=lo, hi=hi, limit=self._limit)
                keys = await self._scan(find)
                if keys:
                    deleted += await self._job(partial(rollups.delete_keys, table=table, keys=keys))
                if len(keys) < self._limit:
                    break
        return deleted
