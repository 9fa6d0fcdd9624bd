"""Rollouts across three real agents on mTLS with the hello service under
steady load: blue-green from nothing, canary with bake, a version that fails
its probe, an analysis that fails, an inconclusive one aborted, a service
rollback, bad input; then kill -9 of the controller mid-rollout and an agent
that hangs mid-rollout."""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from examples.load import Load
from tests.helpers import (
    Daemon,
    TlsController,
    body_of,
    free_port,
    start_tls_controller,
    tls_agent_argv,
    wait_until,
)
from tests.helpers import switchman as sm

pytestmark = pytest.mark.slow
APP = Path(__file__).resolve().parents[2] / "examples" / "hello" / "app.py"
HOSTS = (("web-1", "127.0.0.61"), ("web-2", "127.0.0.62"), ("web-3", "127.0.0.63"))


@dataclass
class Fleet:
    tmp: Path
    tls: TlsController
    agents: dict[str, Daemon]
    front: int
    cli: list[str]

    def run(self, *argv: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return sm(*self.cli, *argv, timeout=timeout)

    def rollout(self, rid: int) -> dict[str, Any]:
        return json.loads(self.run("-o", "json", "rollout", "status", str(rid)).stdout)

    def serving(self) -> set[str]:
        return {body_of(address, self.front).split(" (")[0] for _, address in HOSTS}

    def load(self) -> Load:
        return Load([(address, self.front) for _, address in HOSTS])


def start_fleet(tmp: Path, daemons: list[Daemon], *controller_flags: str) -> Fleet:
    tls = start_tls_controller(tmp, daemons, tuple(h for h, _ in HOSTS), *controller_flags)
    agents = {}
    for host, address in HOSTS:
        agents[host] = Daemon(
            tls_agent_argv(tls, tmp / host, host, address, "--label", "role=web"), tmp / f"{host}.log"
        )
        daemons.append(agents[host].start())
    cli = tls.cli_args(tmp / "c")
    wait_until(lambda: sm(*cli, "hosts", "--state", "up").stdout.count(" up ") == 3, 30, what="three agents up")
    app = tmp / "app.py"  # under tmp: the clean-up finds every slot process
    shutil.copy(APP, app)
    front = free_port()
    blue, green = free_port(), free_port()
    (tmp / "hello.toml").write_text(f"""
name = "hello"
command = ["{sys.executable}", "{app}", "--version", "{{version}}", "--host", "{{address}}", "--port", "{{port}}", "--slot", "{{slot}}", "--grace", "2"]
front_port = {front}
back_ports = {{ blue = {blue}, green = {green} }}
drain_timeout = "2s"
selector = {{ role = "web" }}
[probe]
kind = "http"
path = "/health"
interval = "300ms"
timeout = "300ms"
success_before_passing = 2
failures_before_critical = 2
""")
    assert sm(*cli, "service", "apply", str(tmp / "hello.toml")).returncode == 0
    return Fleet(tmp, tls, agents, front, cli)


def flips(db: Path, version: str) -> dict[str, int]:
    conn = sqlite3.connect(db)
    rows = conn.execute(
        "SELECT host_id, count(*) FROM events WHERE kind IN ('switch.flipped', 'rollback.flipped')"
        " AND service = 'hello' AND json_extract(attributes, '$.version') = ? GROUP BY host_id",
        (version,),
    ).fetchall()
    conn.close()
    return dict(rows)


def test_rollouts_canary_failures_rollback_and_bad_input(tmp_path: Path, daemons: list[Daemon]) -> None:
    f = start_fleet(tmp_path, daemons)
    first = f.run(
        "rollout", "start", "hello", "--version", "1", "--min-healthy", "1s", "--max-parallel", "3", "--watch"
    )
    assert first.returncode == 0, first.stdout + first.stderr
    assert "succeeded" in first.stdout and f.serving() == {"hello from 1"}

    with f.load() as load:
        canary = f.run(
            "rollout",
            "start",
            "hello",
            "--version",
            "2",
            "--strategy",
            "canary",
            "--bake",
            "3s",
            "--min-healthy",
            "1s",
            "--max-parallel",
            "2",
            "--watch",
        )
        assert canary.returncode == 0, canary.stdout + canary.stderr
    assert load.failed == 0 and load.ok > 200, f"{load.ok} ok, {load.failed} failed"
    assert f.serving() == {"hello from 2"}
    assert "baking batch 1/2" in canary.stdout and "analysis probe_success: pass" in canary.stdout
    rid = int(canary.stdout.split()[1])
    assert f.rollout(rid)["from_version"] == "1"

    broken = f.run(
        "rollout",
        "start",
        "hello",
        "--version",
        "3-unhealthy",
        "--strategy",
        "canary",
        "--healthy-deadline",
        "5s",
        "--min-healthy",
        "1s",
        "--watch",
    )
    assert broken.returncode == 1 and "rolled_back" in broken.stdout
    assert f.serving() == {"hello from 2"}

    with f.load() as load:
        analysed = f.run(
            "rollout",
            "start",
            "hello",
            "--version",
            "4",
            "--strategy",
            "canary",
            "--bake",
            "5s",
            "--min-healthy",
            "1s",
            "--analysis",
            "vector(7) > 1",
            "--watch",
        )
    assert analysed.returncode == 1 and "analysis failed: vector(7) > 1 = 7" in analysed.stdout
    assert load.failed == 0, f"{load.failed} failed during the canary and its rollback"
    rid = int(analysed.stdout.split()[1])
    doc = f.rollout(rid)
    assert doc["state"] == "rolled_back"
    assert [h["state"] for h in doc["hosts"]] == ["rolled_back", "pending", "pending"]
    assert f.serving() == {"hello from 2"}

    started = f.run(
        "rollout",
        "start",
        "hello",
        "--version",
        "5",
        "--strategy",
        "canary",
        "--bake",
        "2s",
        "--min-healthy",
        "1s",
        "--analysis",
        "no_such_metric > 0",
        "--manual",
    )
    assert started.returncode == 0, started.stderr
    rid = int(started.stdout.split()[1])
    wait_until(lambda: f.rollout(rid)["state"] == "paused:inconclusive", 60, what="inconclusive pause")
    again = f.run("rollout", "start", "hello", "--version", "6")
    assert again.returncode == 1 and f"rollout {rid} of hello is paused" in again.stderr
    assert f.run("rollout", "abort", str(rid), "--reason", "no data").returncode == 0
    wait_until(lambda: f.rollout(rid)["state"] == "aborted", 60, what="aborted and rolled back")
    assert f.serving() == {"hello from 2"}
    late = f.run("rollout", "promote", str(rid))
    assert late.returncode == 1 and "it has finished" in late.stderr

    back = f.run("rollout", "rollback", "hello", "--watch")
    assert back.returncode == 0, back.stdout + back.stderr
    assert f.serving() == {"hello from 1"}, "back to the version before the last successful rollout"
    history = json.loads(f.run("-o", "json", "rollout", "history", "hello").stdout)
    assert [r["state"] for r in history] == [
        "succeeded",
        "aborted",
        "rolled_back",
        "rolled_back",
        "succeeded",
        "succeeded",
    ]

    for argv, code, message in (
        (("rollout", "start", "nope", "--version", "1"), 1, "no service named 'nope'"),
        (("rollout", "start", "hello", "--version", "a/b"), 2, "version 'a/b'"),
        (("rollout", "start", "hello", "--version", "7", "--canary", "2"), 2, "--canary needs --strategy canary"),
        (("rollout", "start", "hello", "--version", "7", "--analysis", "rate(x[5m]"), 2, "analysis:"),
        (
            ("rollout", "start", "hello", "--version", "7", "--min-healthy", "5m", "--healthy-deadline", "1m"),
            2,
            "healthy_deadline",
        ),
        (("rollout", "start", "hello", "--version", "7", "--selector", "role=db"), 2, "no registered host matches"),
        (("rollout", "status", "999"), 1, "rollout 999 does not exist"),
    ):
        r = f.run(*argv)
        assert r.returncode == code and message in r.stderr, (argv, r.returncode, r.stderr)
    assert json.loads(f.run("-o", "json", "rollout", "list", "--active").stdout) == []


def test_rollout_survives_controller_kill9_and_rolls_back_when_an_agent_hangs(
    tmp_path: Path, daemons: list[Daemon]
) -> None:
    f = start_fleet(tmp_path, daemons)
    assert (
        f.run(
            "rollout", "start", "hello", "--version", "1", "--min-healthy", "1s", "--max-parallel", "3", "--watch"
        ).returncode
        == 0
    )
    db = tmp_path / "c" / "controller.db"

    def state_of(rid: int) -> Callable[[], dict[str, Any]]:
        def read() -> dict[str, Any]:
            conn = sqlite3.connect(db)
            row = conn.execute("SELECT doc FROM rollouts WHERE id = ?", (rid,)).fetchone()
            conn.close()
            return json.loads(row[0]) if row else {}

        return read

    with f.load() as load:
        r = f.run("rollout", "start", "hello", "--version", "2", "--min-healthy", "3s")
        rid = int(r.stdout.split()[1])
        read = state_of(rid)
        wait_until(
            lambda: [h["state"] for h in read().get("hosts", [])][:2] == ["healthy", "switching"],
            60,
            what="web-2 switching",
        )
        f.tls.daemon.kill9()
        controller = Daemon(f.tls.daemon.argv, tmp_path / "c2.log")
        daemons.append(controller.start())
        wait_until(lambda: read().get("state") == "succeeded", 90, what="the rollout finishing after the restart")
    assert load.failed == 0, f"{load.failed} requests failed across the controller restart"
    assert "resuming rollout" in controller.log()
    assert f.serving() == {"hello from 2"}
    wait_until(lambda: flips(db, "2") == {"web-1": 1, "web-2": 1, "web-3": 1}, 30, what="flip events")

    hung = f.agents["web-2"]
    assert hung.proc is not None
    started = time.monotonic()
    r = f.run("rollout", "start", "hello", "--version", "3", "--min-healthy", "2s", "--healthy-deadline", "8s")
    rid = int(r.stdout.split()[1])
    read = state_of(rid)
    wait_until(lambda: read()["hosts"][0]["state"] == "verifying", 60, what="web-1 switched")
    hung.proc.send_signal(signal.SIGSTOP)  # the agent disappears without closing anything
    try:
        wait_until(lambda: read().get("state") == "rolled_back", 60, what="rolled back despite the hung agent")
    finally:
        hung.proc.send_signal(signal.SIGCONT)
    assert time.monotonic() - started < 60
    doc = read()
    assert [h["state"] for h in doc["hosts"]] == ["rolled_back", "failed", "pending"]
    assert "web-2" in doc["hosts"][1]["message"] or "web-2" in doc["message"]
    assert {body_of(a, f.front).split(" (")[0] for h, a in HOSTS if h != "web-2"} == {"hello from 2"}
