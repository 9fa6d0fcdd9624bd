"""Stopping and removing a service across two real agents on mTLS: stop on one
host, stop everywhere, start again with a switch, remove refused during a
rollout, remove; and an agent killed -9 while its service is removed, whose
orphaned slots are reaped when it starts again."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import psutil
import pytest

from tests.helpers import Daemon, body_of, free_port, hello_service, start_tls_controller, tls_agent_argv, wait_until
from tests.helpers import switchman as sm

pytestmark = pytest.mark.slow
APP = Path(__file__).resolve().parents[2] / "examples" / "hello" / "app.py"
HOSTS = {"web-1": "127.0.0.71", "web-2": "127.0.0.72"}


def slot_pids(app: Path, address: str) -> set[int]:
    """The hello slot processes bound on ``address``."""
    found = set()
    for p in psutil.process_iter(["cmdline"]):
        cmd = p.info["cmdline"] or []
        if str(app) in cmd and address in cmd:
            found.add(p.pid)
    return found


def front_open(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=1):
            return True
    except OSError:
        return False


def test_stop_start_remove_and_reap_after_an_agent_restart(tmp_path: Path, daemons: list[Daemon]) -> None:
    tls = start_tls_controller(tmp_path, daemons, tuple(HOSTS))
    argv = {h: tls_agent_argv(tls, tmp_path / h, h, a, "--label", "role=web") for h, a in HOSTS.items()}
    agents = {h: Daemon(argv[h], tmp_path / f"{h}.log") for h in HOSTS}
    for a in agents.values():
        daemons.append(a.start())
    cli = tls.cli_args(tmp_path / "c")
    wait_until(lambda: sm(*cli, "hosts", "--state", "up").stdout.count(" up ") == 2, 30, what="two agents up")

    app = tmp_path / "app.py"  # under tmp_path: the clean-up finds every slot process
    shutil.copy(APP, app)
    front, blue, green = free_port(), free_port(), free_port()
    (tmp_path / "hello.toml").write_text(f"""
{hello_service(app, front, blue, green)}
drain_timeout = "1s"
keep_previous = false
selector = {{ role = "web" }}
[probe]
kind = "http"
path = "/health"
interval = "300ms"
timeout = "300ms"
success_before_passing = 1
""")
    assert sm(*cli, "service", "apply", str(tmp_path / "hello.toml")).returncode == 0

    def switch(host: str, version: str) -> None:
        r = sm(*cli, "service", "switch", "hello", "--host", host, "--version", version)
        assert r.returncode == 0, r.stderr

    for host in HOSTS:
        switch(host, "1")
    web1, web2 = HOSTS["web-1"], HOSTS["web-2"]
    assert "hello from 1" in body_of(web1, front) and "hello from 1" in body_of(web2, front)

    # stop on one host: its front port closes, its slots go; the other host keeps serving
    r = sm(*cli, "-o", "json", "service", "stop", "hello", "--host", "web-1")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == [{"host_id": "web-1", "outcome": "stopped", "message": "stopped"}]
    assert not front_open(web1, front) and slot_pids(app, web1) == set()
    assert "hello from 1" in body_of(web2, front) and slot_pids(app, web2)

    # stop everywhere: only the host that still ran it is reported; the spec stays
    r = sm(*cli, "-o", "json", "service", "stop", "hello")
    assert r.returncode == 0, r.stderr
    assert [(h["host_id"], h["outcome"]) for h in json.loads(r.stdout)] == [("web-2", "stopped")]
    assert not front_open(web2, front) and slot_pids(app, web2) == set()
    assert "not running on any host" in sm(*cli, "service", "show", "hello").stdout
    assert [s["name"] for s in json.loads(sm(*cli, "-o", "json", "service", "list").stdout)] == ["hello"]

    # a switch starts it again
    for host in HOSTS:
        switch(host, "2")
    assert "hello from 2" in body_of(web1, front) and "hello from 2" in body_of(web2, front)

    # remove is refused while a rollout of the service runs
    started = sm(*cli, "rollout", "start", "hello", "--version", "3", "--min-healthy", "60s")
    assert started.returncode == 0, started.stderr
    rid = int(started.stdout.split()[1])
    refused = sm(*cli, "service", "remove", "hello")
    assert refused.returncode == 1 and f"rollout {rid} is in progress" in refused.stderr
    assert sm(*cli, "rollout", "abort", str(rid), "--reason", "test").returncode == 0

    def rollout_state() -> str:
        return str(json.loads(sm(*cli, "-o", "json", "rollout", "status", str(rid)).stdout)["state"])

    wait_until(lambda: rollout_state() == "aborted", 30, what="rollout aborted")

    # an agent killed -9: its slots keep running while the service is removed
    agents["web-2"].kill9()
    orphans = slot_pids(app, web2)
    assert orphans
    r = sm(*cli, "-o", "json", "service", "remove", "hello")
    assert r.returncode == 0, r.stderr
    outcomes = {h["host_id"]: h["outcome"] for h in json.loads(r.stdout)}
    assert outcomes["web-1"] == "stopped" and outcomes["web-2"] in ("down", "unreachable")
    assert not front_open(web1, front) and slot_pids(app, web1) == set()
    assert json.loads(sm(*cli, "-o", "json", "service", "list").stdout) == []
    gone = sm(*cli, "service", "show", "hello")
    assert gone.returncode == 1 and "no service named 'hello'" in gone.stderr
    assert {p for p in orphans if psutil.pid_exists(p)} == orphans  # nothing stopped them yet

    # the agent starts again: it adopts the orphaned slots, then reaps them once the controller lists its services
    restarted = Daemon(argv["web-2"], tmp_path / "web-2-again.log")
    daemons.append(restarted.start())
    wait_until(lambda: slot_pids(app, web2) == set(), 30, what="orphaned slots reaped")
    wait_until(lambda: not front_open(web2, front), 10, what="front port closed")
    assert "the controller has no spec for it any more" in restarted.log()

    audit = [e["action"] for e in json.loads(sm(*cli, "-o", "json", "audit", "list").stdout)]
    assert audit.count("StopService") == 2 and audit.count("RemoveService") == 2  # the refused one too
