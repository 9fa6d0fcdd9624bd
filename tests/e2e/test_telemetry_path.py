"""Real controller and agent processes on loopback: crashes, outages, replays."""

from __future__ import annotations

import itertools
import sqlite3
from pathlib import Path

import pytest

from tests.helpers import Daemon, agent_argv, controller_argv, db_rows, free_port, series_values, wait_until

pytestmark = pytest.mark.slow

CYCLES = "switchman_agent_collect_cycles_total"


def start_controller(daemons: list[Daemon], tmp: Path, port: int, *extra: str) -> Daemon:
    d = Daemon(
        controller_argv(tmp / "controller", port, None, "--heartbeat-interval", "500ms", *extra), tmp / "controller.log"
    )
    daemons.append(d.start())
    wait_until(lambda: (tmp / "controller" / "admin.token").exists(), 15, what="controller start")
    return d


def start_agent(daemons: list[Daemon], tmp: Path, port: int, host: str, addr: str, *extra: str) -> Daemon:
    d = Daemon(
        agent_argv(tmp / host, port, addr, host, "--interval", "200ms", "--backoff-cap", "500ms", *extra),
        tmp / f"{host}.log",
    )
    daemons.append(d.start())
    return d


def contiguous(values: list[tuple[int, float]]) -> bool:
    vs = [v for _, v in values]
    return vs == [float(i) for i in range(int(vs[0]), int(vs[0]) + len(vs))] if vs else False


def test_controller_kill9_outage_loses_and_duplicates_nothing(tmp_path: Path, daemons: list[Daemon]) -> None:
    port = free_port()
    db = tmp_path / "controller" / "controller.db"
    ctl = start_controller(daemons, tmp_path, port)
    agent = start_agent(daemons, tmp_path, port, "h1", "127.0.0.2")
    wait_until(lambda: len(series_values(db, CYCLES, "h1")) >= 5, 20, what="first samples")

    ctl.kill9()
    before = series_values(db, CYCLES, "h1")
    spool = tmp_path / "h1" / "spool.db"
    # while the controller is down the agent keeps collecting into its spool
    wait_until(lambda: len(db_rows(spool, "SELECT seq FROM batches")) >= 15, 20, what="spooled batches")
    ctl = start_controller(daemons, tmp_path, port)
    assert agent.alive()

    def caught_up() -> list[tuple[int, float]] | None:
        values = series_values(db, CYCLES, "h1")
        pending = db_rows(spool, "SELECT count(*) FROM batches")
        return values if len(values) >= len(before) + 15 and pending and pending[0][0] <= 2 else None

    after = wait_until(caught_up, 30, what="replay after restart")
    assert contiguous(after), "a collection cycle is missing or stored twice"
    assert after[: len(before)] == before  # nothing already stored changed
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(after)]
    assert max(gaps) < 2000, f"original timestamps kept, one cycle apart: {max(gaps)}ms"
    acked = db_rows(db, "SELECT acked_seq FROM ingest_cursor WHERE host_id='h1'")[0][0]
    assert isinstance(acked, int) and acked >= len(after)


def test_agent_kill9_sends_its_spool_after_restart(tmp_path: Path, daemons: list[Daemon]) -> None:
    port = free_port()  # nothing listens yet: the controller is down
    agent = start_agent(daemons, tmp_path, port, "h2", "127.0.0.3")
    spool = tmp_path / "h2" / "spool.db"
    wait_until(lambda: len(db_rows(spool, "SELECT seq FROM batches")) >= 10, 20, what="spooled batches")
    agent.kill9()
    spooled = {int(r[0]) for r in db_rows(spool, "SELECT created_ms FROM batches")}  # type: ignore[call-overload]
    assert len(spooled) >= 10

    start_controller(daemons, tmp_path, port)
    start_agent(daemons, tmp_path, port, "h2", "127.0.0.3")
    db = tmp_path / "controller" / "controller.db"

    def arrived() -> bool:
        stored = {t for t, _ in series_values(db, "node_time_seconds", "h2")}
        return spooled <= stored

    wait_until(arrived, 30, what="spooled samples at the controller")
    stamps = [t for t, _ in series_values(db, "node_time_seconds", "h2")]
    assert len(stamps) == len(set(stamps))


def test_host_turns_down_after_ttl_and_up_when_it_returns(tmp_path: Path, daemons: list[Daemon]) -> None:
    port = free_port()
    start_controller(daemons, tmp_path, port, "--heartbeat-ttl", "2s")
    agent = start_agent(daemons, tmp_path, port, "h3", "127.0.0.4")
    db = tmp_path / "controller" / "controller.db"

    def up_value() -> float | None:
        v = series_values(db, "up", "h3")
        return v[-1][1] if v else None

    wait_until(lambda: up_value() == 1.0, 20, what="up{host=h3} == 1")
    agent.kill9()
    wait_until(lambda: up_value() == 0.0, 20, what="up{host=h3} == 0 after the TTL")
    start_agent(daemons, tmp_path, port, "h3", "127.0.0.4")
    wait_until(lambda: up_value() == 1.0, 20, what="up{host=h3} == 1 again")


def test_sigterm_flushes_the_spool_and_exits_zero(tmp_path: Path, daemons: list[Daemon]) -> None:
    port = free_port()
    ctl = start_controller(daemons, tmp_path, port)
    agent = start_agent(daemons, tmp_path, port, "h4", "127.0.0.5")
    db = tmp_path / "controller" / "controller.db"
    wait_until(lambda: len(series_values(db, CYCLES, "h4")) >= 3, 20, what="first samples")
    assert agent.terminate() == 0
    assert "stopped (spool flushed" in agent.log()
    assert db_rows(tmp_path / "h4" / "spool.db", "SELECT count(*) FROM batches") == [(0,)]
    assert ctl.terminate() == 0
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()
