"""A controller that stops saves every host's heartbeat time, so the one that
starts on the same database sees a fleet that was there a moment ago as up
(it does not mark 2,000 hosts down, and their series stale, at its first tick)."""

from __future__ import annotations

import asyncio

from switchman.controller.fleet import COMEBACK_AGENTS_PER_S, MIN_COMEBACK_SPREAD_MS, Fleet, Host
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


def test_the_comeback_spread_grows_with_the_fleet(db: tuple[Database, Writer]) -> None:
    _, w = db
    clock = [1_000_000]
    fleet = Fleet(w, SeriesIndex(), lambda: clock[0], TTL_MS)
    assert fleet.comeback_spread_ms() == MIN_COMEBACK_SPREAD_MS

    async def run() -> None:
        for i in range(2000):
            await fleet.register(host(i, clock[0]))

    asyncio.run(run())
    assert fleet.comeback_spread_ms() == 2000 * 1000 // COMEBACK_AGENTS_PER_S > MIN_COMEBACK_SPREAD_MS


def test_hosts_up_at_the_restart_have_the_comeback_spread_then_the_ttl(db: tuple[Database, Writer]) -> None:
    d, w = db
    clock = [1_000_000]
    down: list[str] = []
    fleet = Fleet(w, SeriesIndex(), lambda: clock[0], TTL_MS)

    async def run() -> None:
        for i in range(2000):
            await fleet.register(host(i, clock[0]))
        clock[0] += 2 * TTL_MS
        await fleet.register(host(0, clock[0]))  # only h0 is still there when the controller stops
        await fleet.flush()

    asyncio.run(run())
    clock[0] += 3_000
    again = Fleet(w, SeriesIndex(), lambda: clock[0], TTL_MS, lambda conn, h, now: down.append(h))
    again.load(d.reader())
    spread = again.comeback_spread_ms()
    assert again.counts() == (1, 1999)
    clock[0] += spread + TTL_MS  # the whole comeback and the TTL after it: still up
    asyncio.run(again.tick())
    assert again.counts() == (1, 1999) and down == []
    clock[0] += 1  # then, never back: down
    asyncio.run(again.tick())
    assert again.counts() == (0, 2000) and down == ["h0"]


def test_registering_again_unchanged_writes_nothing_until_the_heartbeat_flush(db: tuple[Database, Writer]) -> None:
    d, w = db
    clock = [1_000_000]
    fleet = Fleet(w, SeriesIndex(), lambda: clock[0], TTL_MS)
    asyncio.run(fleet.register(host(1, clock[0])))

    def stored() -> tuple[int, int]:
        row = d.reader().execute("SELECT registered_ms, last_heartbeat_ms FROM hosts WHERE host_id = 'h1'").fetchone()
        return int(row[0]), int(row[1])

    clock[0] += 5_000
    asyncio.run(fleet.register(host(1, clock[0])))
    assert stored() == (1_000_000, 1_000_000)
    assert fleet.hosts["h1"].last_heartbeat_ms == 1_005_000 and fleet.hosts["h1"].registered_ms == 1_000_000
    asyncio.run(fleet.flush())
    assert stored() == (1_000_000, 1_005_000)
    changed = host(1, clock[0])
    changed.address = "127.0.0.1:2"
    asyncio.run(fleet.register(changed))  # a changed address is written before the reply
    assert d.reader().execute("SELECT address FROM hosts WHERE host_id = 'h1'").fetchone()[0] == "127.0.0.1:2"
