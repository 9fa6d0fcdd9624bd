"""An Alertmanager cluster: two of Debian's Alertmanagers gossiping on
loopback, one alertmanager notifier with both as ``urls``. Each receives the
alert; with one stopped, a new alert still arrives at the other, once."""

from __future__ import annotations

import json
import os
import shutil
import signal
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Daemon, controller_argv, db_rows, free_port, wait_until

pytestmark = pytest.mark.slow

ALERTMANAGER = shutil.which("prometheus-alertmanager")

RULES = """groups:
  - name: cluster
    interval: 250ms
    rules:
      - alert: {name}
        expr: vector(1)
        labels: {{severity: page}}
"""


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


def start_alertmanager(tmp_path: Path, daemons: list[Daemon], name: str, gossip: int, peer: int) -> str:
    cfg = tmp_path / "am.yml"
    cfg.write_text("route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n")
    port = free_port()
    argv = [
        str(ALERTMANAGER),
        f"--config.file={cfg}",
        f"--storage.path={tmp_path / name}",
        f"--web.listen-address=127.0.0.1:{port}",
        f"--cluster.listen-address=127.0.0.1:{gossip}",
        f"--cluster.advertise-address=127.0.0.1:{gossip}",
        f"--cluster.peer=127.0.0.1:{peer}",
        "--cluster.pushpull-interval=2s",
        "--cluster.settle-timeout=2s",
    ]
    daemons.append(Daemon(argv, tmp_path / f"{name}.log").start())
    return f"http://127.0.0.1:{port}"


def peers(url: str) -> int:
    try:
        return len(get(f"{url}/api/v2/status")["cluster"].get("peers") or [])
    except OSError:
        return 0


def alerts(url: str, name: str) -> list[dict[str, Any]]:
    return [a for a in get(f"{url}/api/v2/alerts?active=true") if a["labels"].get("alertname") == name]


def test_each_member_of_the_cluster_gets_the_alert_and_one_down_holds_back_nothing(
    tmp_path: Path, daemons: list[Daemon]
) -> None:
    if ALERTMANAGER is None:
        pytest.fail("prometheus-alertmanager is not installed: run `make system-deps` (make test does)")
    g1, g2 = free_port(), free_port()
    am1 = start_alertmanager(tmp_path, daemons, "am1", g1, g2)
    am2 = start_alertmanager(tmp_path, daemons, "am2", g2, g1)
    wait_until(lambda: peers(am1) == 2 and peers(am2) == 2, 30, 0.2, what="a cluster of two Alertmanagers")

    rules = tmp_path / "rules.yml"
    rules.write_text(RULES.format(name="First"))
    (tmp_path / "c.toml").write_text(
        f'[[notifiers]]\nname = "am"\nkind = "alertmanager"\nurls = ["{am1}", "{am2}/"]\nresend_delay = "2s"\n'
    )
    argv = controller_argv(tmp_path / "c", free_port(), None, "--config", str(tmp_path / "c.toml"))
    ctl = Daemon([*argv, "--rule-file", str(rules)], tmp_path / "c.log")
    daemons.append(ctl.start())

    for url in (am1, am2):
        [first] = wait_until(lambda u=url: alerts(u, "First"), 30, 0.2, what=f"First in {url}")
        assert first["labels"] == {"alertname": "First", "severity": "page"} and first["status"]["state"] == "active"

    # one member goes away; a new alert still reaches the cluster through the other
    am2_daemon = next(d for d in daemons if "am2" in str(d.log_path))
    assert am2_daemon.terminate() == 0
    rules.write_text(RULES.format(name="First") + RULES.format(name="Second").split("rules:\n", 1)[1])
    assert ctl.proc is not None
    os.kill(ctl.proc.pid, signal.SIGHUP)  # the controller reloads its rule files
    [second] = wait_until(lambda: alerts(am1, "Second"), 30, 0.2, what="Second in the member still up")
    assert second["labels"]["severity"] == "page"
    # the stopped member's messages wait in the outbox (retried) while the other's are delivered
    db = tmp_path / "c" / "controller.db"
    waiting = wait_until(
        lambda: db_rows(db, "SELECT url, attempts FROM outbox WHERE attempts > 0"), 20, 0.2, what="retries to am2"
    )
    assert {url for url, _ in waiting} == {f"{am2}/api/v2/alerts"}
    # re-sent every resend_delay: still one alert of each in the remaining Alertmanager
    wait_until(lambda: alerts(am1, "Second")[0]["updatedAt"] != second["updatedAt"], 20, 0.2, what="a re-send")
    assert len(alerts(am1, "First")) == 1 and len(alerts(am1, "Second")) == 1
    assert ctl.alive(), ctl.log()[-2000:]
