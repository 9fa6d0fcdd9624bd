"""Rollups and retention as small writer jobs that pushes interleave with."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from switchman.controller.store import Database, Writer
from switchman.controller.store.maintenance import Maintenance
from switchman.controller.store.rollups import HOUR, MINUTE, apply_retention, roll_up
from switchman.controller.wiring import Retention

SERIES = 1200
NOW = 3 * 3_600_000 + 5 * 60_000


def fill(conn: sqlite3.Connection) -> None:
    """SERIES series, a sample a minute over the last three hours."""
    conn.executemany(
        "INSERT INTO series (id, name, labels, host_id, created_ms) VALUES (?, 'm', ?, 'h', 0)",
        [(i, f'{{"i":"{i}"}}') for i in range(1, SERIES + 1)],
    )
    conn.executemany(
        "INSERT INTO samples VALUES (?,?,?)",
        [(i, t, float(t // 60_000 + i)) for i in range(1, SERIES + 1) for t in range(0, NOW, 60_000)],
    )


def table(d: Database, name: str) -> list[tuple[object, ...]]:
    return d.reader().execute(f"SELECT * FROM {name} ORDER BY series_id, ts").fetchall()


def reads(d: Database) -> Callable[[Callable[[sqlite3.Connection], Any]], Awaitable[Any]]:
    async def read(job: Callable[[sqlite3.Connection], Any]) -> Any:
        return await asyncio.to_thread(lambda: job(d.reader()))

    return read


def run_in_slices(d: Database, w: Writer, retention: Retention, jobs: list[int]) -> None:
    async def write(job: object) -> object:
        jobs.append(1)
        return await w.run(job)

    async def no_pause(_: float) -> None:
        await asyncio.sleep(0)

    async def go() -> None:
        for _ in range(8):  # the backlog takes a few runs (30 buckets each)
            await Maintenance(write, reads(d), retention, slice_series=500, delete_limit=300, pause=no_pause).run(NOW)

    asyncio.run(go())


def test_sliced_maintenance_gives_the_same_rollups_and_retention_as_one_transaction(
    db: tuple[Database, Writer], tmp_path: Path
) -> None:
    d, w = db
    w.submit(fill).result()
    retention = Retention(raw_ms=3_600_000, minute_ms=10**12, hour_ms=10**12)
    jobs: list[int] = []
    run_in_slices(d, w, retention, jobs)

    ref_db = Database(tmp_path / "ref.db")
    ref = Writer(ref_db.open_writer())
    try:
        ref.submit(fill).result()
        for _ in range(8):
            ref.submit(lambda c: roll_up(c, MINUTE, NOW)).result()
        ref.submit(lambda c: roll_up(c, HOUR, NOW)).result()
        ref.submit(lambda c: apply_retention(c, NOW, 3_600_000, 10**12, 10**12)).result()
        for name in ("rollup_1m", "rollup_1h", "samples"):
            assert table(d, name) == table(ref_db, name), name
    finally:
        ref.close()
        ref_db.close()
    # minutes up to 2 min before now, hours that are complete; raw samples of the last hour only
    assert d.reader().execute("SELECT count(DISTINCT ts) FROM rollup_1m").fetchone()[0] == 3 * 60 + 3
    assert d.reader().execute("SELECT count(DISTINCT ts) FROM rollup_1h").fetchone()[0] == 3
    assert d.reader().execute("SELECT min(ts) FROM samples").fetchone()[0] == NOW - 3_600_000
    assert len(jobs) > 3 * 183  # at least one job per slice (3 slices) and bucket: none holds every series


def test_a_push_commits_while_maintenance_is_still_running(db: tuple[Database, Writer]) -> None:
    d, w = db
    w.submit(fill).result()
    retention = Retention(raw_ms=3_600_000, minute_ms=10**12, hour_ms=10**12)

    async def go() -> None:
        maintenance = asyncio.create_task(Maintenance(w.run, reads(d), retention, slice_series=200).run(NOW))
        await asyncio.sleep(0.05)
        assert not maintenance.done()
        await asyncio.wait_for(
            w.run(lambda c: c.execute("INSERT INTO samples VALUES (1, ?, 1.0)", (NOW + 1,))), timeout=0.5
        )
        assert not maintenance.done(), "the push waited for the whole maintenance run"
        run = await asyncio.wait_for(maintenance, timeout=60)
        assert run.buckets == 30 and run.jobs > 30 * SERIES // 200

    asyncio.run(go())
    assert d.reader().execute("SELECT value FROM samples WHERE series_id = 1 AND ts = ?", (NOW + 1,)).fetchone() == (
        1.0,
    )


def test_the_wal_starts_again_from_the_top_after_the_writers_checkpoint(db: tuple[Database, Writer]) -> None:
    d, w = db
    wal = Path(f"{d.path}-wal")

    def commit(first: int, n: int) -> None:
        for i in range(first, first + n):  # one transaction each
            w.submit(lambda c, i=i: c.execute("INSERT INTO samples VALUES (1, ?, 1.0)", (i,))).result()

    commit(0, 400)
    d.checkpoint()  # the bulk, from a side connection
    busy, frames, copied = w.checkpoint().result(timeout=10)
    assert busy == 0 and frames == copied  # everything is in the database file now
    commit(400, 1)
    assert d.checkpoint() < 16 * 4096, "the next commit did not reuse the WAL from its start"
    assert wal.stat().st_size < 64 * 1024 * 1024
    assert d.reader().execute("SELECT count(*) FROM samples").fetchone()[0] == 401
