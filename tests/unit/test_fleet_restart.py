"""A controller that stops saves every host's heartbeat time, so the one that
starts on the same database sees a fleet that was there a moment ago as up
(it does not mark 2,000 hosts down, and their series stale, at its first tick)."""

from __future__ import annotations

import asyncio

from switchman.controller.fleet import Fleet, Host
from switchman.controller.store import Database, Writer
from switchman.controller.store.series import SeriesIndex

TTL_MS = 15_000


def host(i: int, now: int) -> Host:
    return Host(f"h{i}", f"h{i}", "127.0.0.1:1", {}, "t", [], now, now)


def test_heartbeats_saved_at_shutdown_keep_the_fleet_up_across_a_restart(db: tuple[Database, Writer]) -> None:
    d, w = db
    clock = [1_000_000]
    down: list[str] = []
    fleet = Fleet(w, SeriesIndex(), lambda: clock[0], TTL_MS, lambda conn, h, now: down.append(h))

    async def run() -> None:
        for i in range(600):
            await fleet.register(host(i, clock[0]))
        clock[0] += 60_000  # a minute of heartbeats held in memory only (persisted every few ticks)
        for i in range(600):
            fleet.heartbeat(f"h{i}")
        await fleet.flush()  # what Controller.close does

    asyncio.run(run())
    clock[0] += 3_000  # the restart
    again = Fleet(w, SeriesIndex(), lambda: clock[0], TTL_MS, lambda conn, h, now: down.append(h))
    again.load(d.reader())
    assert again.counts() == (600, 0)
    asyncio.run(again.tick())
    assert down == []
