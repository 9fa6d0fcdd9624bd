"""The black-box check of a resumed rollout: three hosts under load, the
controller killed -9 while a host is switching, verifying and baking in
turn. Every run ends ``succeeded`` with every host on the new version (or
``rolled_back`` with every host on the old one), fails no request, and flips
each host at most once per direction. And a first rollout that fails on a
port clash undoes itself: no slot left running, no front port left open."""

from __future__ import annotations

import json
import socket
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_incidents import slot_pids
from tests.e2e.test_rollouts import HOSTS, Fleet, start_fleet
from tests.helpers import Daemon, wait_until

pytestmark = pytest.mark.slow


def read_rollout(db: Path, rid: int) -> dict[str, Any]:
    conn = sqlite3.connect(db)
    try:
        row = conn.execute("SELECT doc FROM rollouts WHERE id = ?", (rid,)).fetchone()
    finally:
        conn.close()
    return json.loads(row[0]) if row else {}


def flips_since(db: Path, since_id: int) -> list[tuple[str, str]]:
    """(host, version) of every flip the agents reported after event ``since_id``."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT host_id, json_extract(attributes, '$.version') FROM events"
            " WHERE id > ? AND service = 'hello' AND kind IN ('switch.flipped', 'rollback.flipped') ORDER BY id",
            (since_id,),
        ).fetchall()
    finally:
        conn.close()
    return [(h, v) for h, v in rows]


def last_event_id(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0])
    finally:
        conn.close()


PHASES: list[tuple[str, Callable[[dict[str, Any]], bool]]] = [
    ("web-2 switching", lambda d: [h["state"] for h in d.get("hosts", [])][1:2] == ["switching"]),
    ("web-2 verifying", lambda d: [h["state"] for h in d.get("hosts", [])][1:2] == ["verifying"]),
    ("batch 2 baking", lambda d: d.get("state") == "baking" and d.get("current_batch") == 1),
]


def test_a_rollout_resumed_after_kill9_in_every_phase_finishes_exactly_once(
    tmp_path: Path, daemons: list[Daemon]
) -> None:
    f: Fleet = start_fleet(tmp_path, daemons)
    first = f.run(
        "rollout", "start", "hello", "--version", "1", "--min-healthy", "1s", "--max-parallel", "3", "--watch"
    )
    assert first.returncode == 0, first.stdout + first.stderr
    for n, (phase, reached) in enumerate(PHASES, start=2):
        kill_during(f, tmp_path, daemons, n, phase, reached)


def kill_during(
    f: Fleet, tmp: Path, daemons: list[Daemon], n: int, phase: str, reached: Callable[[dict[str, Any]], bool]
) -> None:
    """Roll out version ``n`` over ``n - 1``, kill -9 the controller once ``reached``, restart it, check the end."""
    db = tmp / "c" / "controller.db"
    old, new = str(n - 1), str(n)
    mark = last_event_id(db)
    with f.load() as load:
        started = f.run(
            "rollout", "start", "hello", "--version", new, "--strategy", "canary", "--bake", "2s",
            "--min-healthy", "2s", "--max-parallel", "1",
        )  # fmt: skip
        assert started.returncode == 0, started.stderr
        rid = int(started.stdout.split()[1])
        wait_until(lambda: reached(read_rollout(db, rid)), 90, 0.02, what=phase)
        f.tls.daemon.kill9()
        f.tls.daemon = Daemon(f.tls.daemon.argv, tmp / f"c{n}.log")
        daemons.append(f.tls.daemon.start())
        done = wait_until(
            lambda: (d := read_rollout(db, rid))["state"] in ("succeeded", "rolled_back", "failed", "aborted") and d,
            120,
            what=f"rollout {rid} finishing after a kill -9 with {phase}",
        )
    assert "resuming rollout" in f.tls.daemon.log(), phase
    assert done["state"] in ("succeeded", "rolled_back"), (phase, done["state"], done["message"])
    want = new if done["state"] == "succeeded" else old
    assert f.serving() == {f"hello from {want}"}, (phase, done["message"])
    assert load.failed == 0, f"{load.failed} requests failed with a kill -9 at {phase}"
    if done["state"] == "succeeded":
        wait_until(
            lambda: len([x for x in flips_since(db, mark) if x[1] == new]) >= 3, 30, what="the agents' flip events"
        )
    flips = flips_since(db, mark)
    for host, _ in HOSTS:
        forward = [v for h, v in flips if h == host and v == new]
        backward = [v for h, v in flips if h == host and v == old]
        assert len(forward) <= 1 and len(backward) <= 1, (phase, host, flips)
    assert all(h["from_version"] == old for h in done["hosts"]), (phase, done["hosts"])


def test_a_first_rollout_failing_on_a_port_clash_leaves_nothing_running(tmp_path: Path, daemons: list[Daemon]) -> None:
    f: Fleet = start_fleet(tmp_path, daemons)
    spec = (tmp_path / "hello.toml").read_text()
    blue = int(spec.split("blue = ")[1].split(",")[0])
    address = dict(HOSTS)["web-2"]
    squatter = socket.socket()
    squatter.bind((address, blue))  # another program holds web-2's blue port
    squatter.listen()
    try:
        r = f.run("rollout", "start", "hello", "--version", "1", "--min-healthy", "1s", "--watch")
        assert r.returncode == 1, r.stdout + r.stderr
        rid = int(r.stdout.split()[1])
        doc = f.rollout(rid)
        assert doc["state"] == "rolled_back", doc
        assert f"{address}:{blue} is in use" in doc["message"], "the agent's reason reaches the operator"
        # web-1 is undone (its slots stopped); web-2 undid its own failed switch
        assert [h["state"] for h in doc["hosts"]] == ["rolled_back", "rolled_back", "pending"]
        for host, addr in HOSTS:
            wait_until(lambda h=host: slot_pids(tmp_path, h) == [], 10, what=f"no hello slot left on {host}")
            with socket.socket() as s:
                assert s.connect_ex((addr, f.front)) != 0, f"the front port of {host} is still open"
    finally:
        squatter.close()
