"""Service switches through the controller and a real agent on mTLS, an agent
killed mid-switch, and the CLI."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.helpers import (
    BIN,
    Daemon,
    body_of,
    db_rows,
    free_port,
    hello_service,
    start_tls_controller,
    tls_agent_argv,
    wait_until,
)
from tests.helpers import switchman as sm

pytestmark = pytest.mark.slow
APP = Path(__file__).resolve().parents[2] / "examples" / "hello" / "app.py"


def test_switch_kill9_mid_switch_reconciles_and_cli(tmp_path: Path, daemons: list[Daemon]) -> None:
    tls = start_tls_controller(tmp_path, daemons, ("web-1",))
    address = "127.0.0.31"
    agent_argv = tls_agent_argv(tls, tmp_path / "a", "web-1", address)
    agent = Daemon(agent_argv, tmp_path / "a.log")
    daemons.append(agent.start())
    cli = tls.cli_args(tmp_path / "c")
    wait_until(lambda: "web-1" in sm(*cli, "hosts").stdout, 20, what="agent registered")

    app = tmp_path / "app.py"  # a copy under tmp_path, so the test's clean-up finds every slot process
    shutil.copy(APP, app)
    front, blue, green = free_port(address), free_port(address), free_port(address)
    (tmp_path / "hello.toml").write_text(f"""
{hello_service(app, front, blue, green)}
drain_timeout = "2s"
healthy_deadline = "4s"
[probe]
kind = "http"
path = "/health"
interval = "300ms"
timeout = "300ms"
success_before_passing = 2
""")
    r = sm(*cli, "service", "apply", str(tmp_path / "hello.toml"))
    assert r.returncode == 0 and "revision 1" in r.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\ndriver = "lxc"\n')
    r = sm(*cli, "service", "apply", str(bad))
    assert r.returncode == 2 and "driver: 'lxc' is not one of process, docker, podman" in r.stderr

    assert sm(*cli, "service", "switch", "hello", "--host", "web-1", "--version", "1").returncode == 0
    assert "hello from 1 (blue)" in body_of(address, front)
    r = sm(*cli, "-o", "json", "service", "switch", "hello", "--host", "web-1", "--version", "2")
    doc = json.loads(r.stdout)
    assert (
        doc["changed"]
        and doc["active_version"] == "2"
        and doc["active_slot"] == "green"
        and doc["flip_latency_ms"] < 100
    )
    assert "hello from 2 (green)" in body_of(address, front)
    r = sm(*cli, "service", "switch", "hello", "--host", "web-1", "--version", "3-unhealthy")
    assert r.returncode == 1 and "did not become healthy" in r.stderr
    assert "hello from 2 (green)" in body_of(address, front)

    # kill -9 the agent while a switch to 4 is probing its new slot
    switching = subprocess.Popen(
        [str(BIN / "switchman"), *cli, "service", "switch", "hello", "--host", "web-1", "--version", "4"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    state = tmp_path / "a" / "services.db"
    wait_until(lambda: db_rows(state, "SELECT phase FROM services") == [("switching",)], 15, what="switch under way")
    agent.kill9()
    switching.wait(60)  # the front port's router died with the agent; the slots did not
    agent2 = Daemon(agent_argv, tmp_path / "a2.log")
    daemons.append(agent2.start())
    wait_until(lambda: "hello from 2 (green)" in body_of(address, front), 20, what="service served again after restart")
    wait_until(lambda: db_rows(state, "SELECT phase, active_version FROM services") == [("idle", "2")], 10)
    assert "undoing it" in agent2.log()

    def slots() -> dict[str, str]:
        r = sm(*cli, "-o", "json", "service", "show", "hello")
        if r.returncode:
            return {}
        [host] = json.loads(r.stdout)["hosts"]
        return {s["slot"]: f"{s['version']}:{s['state']}" for s in host["slots"] if s["version"]}

    # what the agent reports matches what runs: green v2 active and healthy, blue keeps v1 warm (v4 undone)
    wait_until(lambda: slots() == {"green": "2:healthy", "blue": "1:healthy"}, 20, what="reported slots")
    r = sm(*cli, "-o", "json", "service", "rollback", "hello", "--host", "web-1")
    doc = json.loads(r.stdout)
    assert doc["active_version"] == "1" and doc["flip_latency_ms"] < 1000
    assert "hello from 1 (blue)" in body_of(address, front)
    audit = json.loads(sm(*cli, "-o", "json", "audit", "list").stdout)
    assert [e["action"] for e in audit].count("SwitchHost") >= 4
    conn = sqlite3.connect(tmp_path / "c" / "controller.db")
    kinds = [k for (k,) in conn.execute("SELECT kind FROM events WHERE service='hello'")]
    conn.close()
    assert "switch" in kinds and "rollback" in kinds
    assert agent2.terminate() == 0  # slots outlive the agent on purpose; the fixture kills them
