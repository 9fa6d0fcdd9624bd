"""Bad input, reload, systemd notify and the CLI against real processes."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.helpers import BIN, Daemon, agent_argv, controller_argv, free_port, wait_until

pytestmark = pytest.mark.slow


def run(argv: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, env={**os.environ, **env})


@pytest.mark.parametrize(
    ("toml", "flags", "expected"),
    [
        ('controller = "127.0.0.1:7000"\ninterval = \n', [], "invalid TOML"),
        ('controller = "127.0.0.1:7000"\nintervall = "10s"\n', [], "unknown key 'intervall'"),
        ('controller = "127.0.0.1:7000"\ninterval = "10 seconds"\n', [], "key 'interval': expected a duration"),
        ('controller = "no-such-host.invalid:7000"\n', [], "cannot resolve 'no-such-host.invalid'"),
        ('controller = "127.0.0.1:7000"\n', ["--data-dir", "/etc/hostname/sub"], "key 'data_dir': cannot create"),
        ('controller = "10.1.2.3:7000"\n', [], "--insecure is allowed only on loopback"),
    ],
)
def test_agent_bad_input_is_one_clear_line_and_exit_2(
    tmp_path: Path, toml: str, flags: list[str], expected: str
) -> None:
    cfg = tmp_path / "agent.toml"
    cfg.write_text(toml)
    r = run(
        [str(BIN / "switchman-agent"), "--config", str(cfg), "--insecure", "--data-dir", str(tmp_path / "d"), *flags]
    )
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0] and "Traceback" not in r.stderr, r.stderr


def test_controller_bad_input_is_one_clear_line_and_exit_2(tmp_path: Path) -> None:
    r = run(
        [str(BIN / "switchman-controller"), "--insecure", "--data-dir", str(tmp_path), "--raw-retention", "forever"]
    )
    assert r.returncode == 2 and "key 'raw_retention': expected a duration" in r.stderr
    r = run([str(BIN / "switchman-controller"), "--data-dir", str(tmp_path)])
    assert r.returncode == 2 and "give --tls-dir DIR" in r.stderr
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    taken = busy.getsockname()[1]
    try:
        r = run(controller_argv(tmp_path, taken))
        # the HTTP API's port in use: one line naming the key, no traceback from half-started servers
        http = run(controller_argv(tmp_path / "h", free_port(), None, "--http-listen", f"127.0.0.1:{taken}"))
    finally:
        busy.close()
    assert r.returncode == 2 and "cannot listen" in r.stderr and "Traceback" not in r.stderr
    assert http.returncode == 2 and "Traceback" not in http.stderr and "Exception" not in http.stderr, http.stderr
    assert f"http_listen 127.0.0.1:{taken}:" in http.stderr and "address already in use" in http.stderr


def test_notify_ready_watchdog_stopping_and_sighup_reload(tmp_path: Path, daemons: list[Daemon]) -> None:
    sock_path = tmp_path / "notify.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(sock_path))
    listener.settimeout(0.2)
    messages: list[str] = []
    done = threading.Event()

    def receive() -> None:  # read as systemd does, all the time
        while not done.is_set():
            with contextlib.suppress(TimeoutError):
                messages.append(listener.recv(4096).decode())

    reader = threading.Thread(target=receive, daemon=True)
    reader.start()

    def drain() -> list[str]:
        return list(messages)

    port = free_port()
    ctl = Daemon(controller_argv(tmp_path / "c", port, None, "--heartbeat-interval", "500ms"), tmp_path / "c.log")
    daemons.append(ctl.start())
    cfg = tmp_path / "agent.toml"
    cfg.write_text('labels = { role = "web" }\n')
    agent = Daemon(
        [*agent_argv(tmp_path / "a", port, "127.0.0.6", "n1", "--interval", "200ms"), "--config", str(cfg)],
        tmp_path / "a.log",
        env={"NOTIFY_SOCKET": str(sock_path), "WATCHDOG_USEC": "400000"},
    )
    daemons.append(agent.start())
    wait_until(lambda: any(m.startswith("READY=1") for m in drain()), 15, what="READY=1")
    wait_until(lambda: sum(m == "WATCHDOG=1" for m in drain()) >= 3, 10, what="watchdog pings")

    # the controller writes the token once its store is open, which may be after the agent is ready
    wait_until((tmp_path / "c" / "admin.token").exists, 15, what="the admin token")
    token = (tmp_path / "c" / "admin.token").read_text().strip()
    cli = [str(BIN / "switchman"), "--insecure", "--controller", f"127.0.0.1:{port}", "--token", token, "-o", "json"]

    def labels() -> dict[str, str]:
        r = run([*cli, "hosts"])
        hosts = json.loads(r.stdout) if r.returncode == 0 else []
        return hosts[0]["labels"] if hosts else {}

    wait_until(lambda: labels() == {"role": "web"}, 15, what="registered labels")
    cfg.write_text('labels = { role = "api" }\n')
    assert agent.proc is not None
    agent.proc.send_signal(1)  # SIGHUP
    wait_until(lambda: labels() == {"role": "api"}, 15, what="labels after reload")
    cfg.write_text("labels = [broken\n")
    agent.proc.send_signal(1)
    wait_until(lambda: "reload refused, keeping the running configuration" in agent.log(), 10, what="refused reload")
    assert agent.alive() and labels() == {"role": "api"}
    assert agent.terminate() == 0
    wait_until(lambda: "STOPPING=1" in drain(), 5, what="STOPPING=1")
    done.set()
    reader.join(5)
    listener.close()


def test_cli_outputs_and_exit_codes(tmp_path: Path, daemons: list[Daemon]) -> None:
    port = free_port()
    daemons.append(Daemon(controller_argv(tmp_path / "c", port, None), tmp_path / "c.log").start())
    daemons.append(
        Daemon(agent_argv(tmp_path / "a", port, "127.0.0.7", "q1", "--interval", "200ms"), tmp_path / "a.log").start()
    )
    wait_until(lambda: (tmp_path / "c" / "admin.token").exists(), 15)
    token_file = tmp_path / "c" / "admin.token"
    base = [str(BIN / "switchman"), "--insecure", "--controller", f"127.0.0.1:{port}"]
    cli = [*base, "--token-file", str(token_file)]

    def vector() -> list[dict[str, object]]:
        r = run([*cli, "-o", "json", "query", 'node_load1{host="q1"}'])
        return json.loads(r.stdout)["result"] if r.returncode == 0 else []

    [sample] = wait_until(vector, 20, what="node_load1 for q1")
    assert sample["metric"] == {"__name__": "node_load1", "host": "q1", "instance": "q1", "job": "node"}
    ts, value = sample["value"]
    assert abs(ts - time.time()) < 30 and float(value) >= 0
    r = run([*cli, "-o", "json", "query", "node_time_seconds", "--range", "30s", "--step", "1s"])
    doc = json.loads(r.stdout)
    assert doc["resultType"] == "matrix" and len(doc["result"][0]["values"]) >= 2
    r = run([*cli, "-o", "json", "status"])
    assert r.returncode == 0 and json.loads(r.stdout)["hosts"] == {"total": 1, "up": 1, "down": 0}
    r = run([*cli, "status"])
    assert r.returncode == 0 and "1/1 up" in r.stdout
    r = run([*cli, "hosts", "show", "q1"])
    assert r.returncode == 0 and "node_load1" in r.stdout

    assert run([*base, "status"]).returncode == 3  # no token
    r = run([*base, "--token", "smt_wrong", "status"])
    assert r.returncode == 3 and r.stderr.startswith("switchman: not authenticated")
    r = run(
        [str(BIN / "switchman"), "--insecure", "--controller", f"127.0.0.1:{free_port()}", "--token", "x", "status"]
    )
    assert r.returncode == 3 and "cannot reach the controller" in r.stderr
    r = run([*cli, "query", "up{"])
    assert r.returncode == 2 and "1:4:" in r.stderr and "Traceback" not in r.stderr
    r = run([*cli, "hosts", "show", "ghost"])
    assert r.returncode == 1 and "ghost" in r.stderr
    assert run([*cli, "frobnicate"]).returncode == 2
    assert "complete -F _switchman switchman" in run([str(BIN / "switchman"), "completion", "bash"]).stdout
