from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from switchman.controller.errors import Conflict, InvalidArgument
from switchman.controller.ingest import Ingestor
from switchman.controller.store import Database, Writer
from switchman.controller.store.db import migrate
from switchman.controller.store.migrations import MIGRATIONS
from switchman.controller.store.rollups import HOUR, MINUTE, apply_retention, roll_up
from switchman.controller.store.series import SeriesIndex
from switchman.proto.v1 import common_pb2, controller_pb2


def test_migrations_run_once_and_record_the_version(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "m.db", isolation_level=None)
    assert migrate(conn) == [name for name, _ in MIGRATIONS]
    assert migrate(conn) == []
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


def test_writer_isolates_a_failing_job_and_commits_the_others(db: tuple[Database, Writer]) -> None:
    d, w = db

    def good(conn: sqlite3.Connection) -> int:
        conn.execute(
            "INSERT INTO events (host_id, ts, kind, severity, service, message, attributes) VALUES ('h',1,'k',0,'','','{}')"
        )
        return 1

    def bad(conn: sqlite3.Connection) -> None:
        conn.execute(
            "INSERT INTO events (host_id, ts, kind, severity, service, message, attributes) VALUES ('h',2,'k',0,'','','{}')"
        )
        raise ValueError("boom")

    futures = [w.submit(good), w.submit(bad), w.submit(good)]
    assert futures[0].result() == 1 and futures[2].result() == 1
    with pytest.raises(ValueError, match="boom"):
        futures[1].result()
    assert d.reader().execute("SELECT ts FROM events ORDER BY id").fetchall() == [(1,), (1,)]


def batch(
    seq: int, ts: int, first: int = 0, name: str = "node_load1", labels: dict[str, str] | None = None
) -> controller_pb2.TelemetryBatch:
    return controller_pb2.TelemetryBatch(
        sequence=seq,
        first_sequence=first,
        series=[common_pb2.Series(name=name, labels=labels or {"cpu": "0"}, timestamps_ms=[ts], values=[1.0])],
    )


def test_ingest_deduplicates_by_host_epoch_and_sequence(db: tuple[Database, Writer]) -> None:
    d, w = db
    ing = Ingestor(w, SeriesIndex(), lambda: 0)

    async def go() -> None:
        r = await ing.push("h1", "e1", [batch(1, 1000), batch(2, 2000)])
        assert (r.acked, r.stored, r.duplicates) == (2, 2, 0)
        r = await ing.push("h1", "e1", [batch(2, 2000), batch(3, 3000)])  # a replay overlapping what is stored
        assert (r.acked, r.stored, r.duplicates) == (3, 1, 1)
        with pytest.raises(Conflict, match="overlaps sequence 3"):
            await ing.push("h1", "e1", [batch(5, 5000, first=3)])
        r = await ing.push("h1", "e2", [batch(1, 9000)])  # new spool epoch starts again at 1
        assert r.acked == 1 and r.stored == 1
        with pytest.raises(InvalidArgument, match="increasing"):
            await ing.push("h1", "e2", [batch(3, 1), batch(2, 1)])
        with pytest.raises(InvalidArgument, match="not a valid Prometheus metric name"):
            await ing.push("h1", "e2", [batch(2, 1, name="bad-name")])

    asyncio.run(go())
    rows = d.reader().execute("SELECT ts FROM samples ORDER BY ts").fetchall()
    assert rows == [(1000,), (2000,), (3000,), (9000,)]
    labels = d.reader().execute("SELECT labels FROM series").fetchall()
    assert labels == [('{"cpu":"0","host":"h1"}',)]


def test_controller_host_label_overrides_what_an_agent_sends(db: tuple[Database, Writer]) -> None:
    d, w = db
    ing = Ingestor(w, SeriesIndex(), lambda: 0)
    asyncio.run(ing.push("h1", "e", [batch(1, 1, labels={"host": "forged"})]))
    assert d.reader().execute("SELECT labels FROM series").fetchall() == [('{"host":"h1"}',)]


def test_rollups_and_retention(db: tuple[Database, Writer]) -> None:
    d, w = db
    index = SeriesIndex()

    def load(conn: sqlite3.Connection) -> None:
        sid = index.intern(conn, w, "m", (("host", "a"),), "a", 0)
        conn.executemany("INSERT INTO samples VALUES (?,?,?)", [(sid, t * 15_000, float(t)) for t in range(8 * 60)])

    w.submit(load).result()
    now = 2 * 3_600_000 + 5 * 60_000
    while w.submit(lambda c: roll_up(c, MINUTE, now)).result():
        pass
    rows = d.reader().execute("SELECT ts, min, max, sum, count, last FROM rollup_1m ORDER BY ts LIMIT 2").fetchall()
    assert rows == [(0, 0.0, 3.0, 6.0, 4, 3.0), (60_000, 4.0, 7.0, 22.0, 4, 7.0)]
    assert d.reader().execute("SELECT count(*) FROM rollup_1m").fetchone()[0] == 120
    while w.submit(lambda c: roll_up(c, HOUR, now)).result():
        pass
    assert d.reader().execute("SELECT ts, min, max, count, last FROM rollup_1h ORDER BY ts").fetchall() == [
        (0, 0.0, 239.0, 240, 239.0),
        (3_600_000, 240.0, 479.0, 240, 479.0),
    ]
    deleted = w.submit(lambda c: apply_retention(c, now, 3_600_000, 10**12, 10**12)).result()
    assert deleted == 240 + 20  # samples older than 1h before `now`
