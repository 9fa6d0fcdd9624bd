"""Notifications end to end: a real controller evaluating rules, delivering
to local webhook and PagerDuty receivers and to Debian's Alertmanager;
silences and inhibition through the CLI; the outbox surviving kill -9."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import BIN, Daemon, controller_argv, db_rows, free_port, wait_until
from tests.receiver import Receiver

pytestmark = pytest.mark.slow

ALERTMANAGER = shutil.which("prometheus-alertmanager")

FLAPPING_RULES = """groups:
  - name: demo
    interval: 250ms
    rules:
      - alert: Flapping
        expr: vector(1) and on() (vector(time()) % 8 < 4)
        labels: {severity: page, service: hello}
        annotations: {summary: "hello is flapping"}
      - alert: Minor
        expr: vector(1)
        labels: {severity: ticket, service: hello}
"""

STEADY_RULES = """groups:
  - name: steady
    interval: 250ms
    rules:
      - alert: Always
        expr: vector(42)
        labels: {severity: page}
      - alert: Quiet
        expr: vector(1)
        for: 3s
        labels: {severity: page}
"""


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "switchman"), *argv], capture_output=True, text=True, timeout=60)


@pytest.fixture
def receivers() -> Iterator[tuple[Receiver, Receiver]]:
    hook, pd = Receiver().start(), Receiver().start()
    yield hook, pd
    hook.stop()
    pd.stop()


@pytest.fixture
def alertmanager(tmp_path: Path, daemons: list[Daemon]) -> str:
    if ALERTMANAGER is None:
        pytest.fail("prometheus-alertmanager is not installed: run `make system-deps` (make test does)")
    cfg = tmp_path / "am.yml"
    cfg.write_text("route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n")
    port = free_port()
    am = Daemon(
        [
            ALERTMANAGER,
            f"--config.file={cfg}",
            f"--storage.path={tmp_path / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        tmp_path / "am.log",
    )
    daemons.append(am.start())
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    wait_until(ready, 20, what="Alertmanager ready")
    return url


def write_config(path: Path, hook: Receiver, pd: Receiver, am_url: str | None) -> None:
    am = (
        f'\n[[notifiers]]\nname = "am"\nkind = "alertmanager"\nurl = "{am_url}"\nresend_delay = "2s"\n'
        if am_url
        else ""
    )
    path.write_text(
        f"""
[[notifiers]]
name = "hook"
kind = "webhook"
url = "{hook.url}"
group_by = ["alertname", "service"]
group_wait = "500ms"
group_interval = "1s"
repeat_interval = "1h"

[[notifiers]]
name = "pd"
kind = "pagerduty"
url = "http://127.0.0.1:{pd.port}/v2/enqueue"
routing_key = "0123456789abcdef0123456789abcdef"
matchers = ["severity=page"]
{am}
[[inhibit_rules]]
source_matchers = ["severity=page"]
target_matchers = ["severity=ticket"]
equal = ["service"]
"""
    )


def start_controller(
    tmp_path: Path, daemons: list[Daemon], rules: str, config: Path, log: str
) -> tuple[Daemon, list[str]]:
    (tmp_path / "rules.yml").write_text(rules)
    port = free_port()
    argv = controller_argv(
        tmp_path / "c", port, None, "--config", str(config), "--rule-file", str(tmp_path / "rules.yml")
    )
    ctl = Daemon(argv, tmp_path / log)
    daemons.append(ctl.start())
    wait_until((tmp_path / "c" / "admin.token").exists, 15, what="admin token")
    cli = ["--insecure", "--controller", f"127.0.0.1:{port}", "--token-file", str(tmp_path / "c" / "admin.token")]
    return ctl, cli


def test_webhook_pagerduty_and_alertmanager_get_firing_and_resolved_and_inhibition_shows(
    tmp_path: Path, daemons: list[Daemon], receivers: tuple[Receiver, Receiver], alertmanager: str
) -> None:
    hook, pd = receivers
    write_config(tmp_path / "c.toml", hook, pd, alertmanager)
    _, cli = start_controller(tmp_path, daemons, FLAPPING_RULES, tmp_path / "c.toml", "c.log")

    def flapping(status: str) -> list[dict[str, object]]:
        return [
            p.body
            for p in hook.posts
            if p.body["groupLabels"].get("alertname") == "Flapping" and p.body["status"] == status
        ]

    [fired, *_] = wait_until(lambda: flapping("firing"), 30, what="a firing webhook for Flapping")
    assert fired["version"] == "4" and fired["receiver"] == "hook"
    assert fired["groupLabels"] == {"alertname": "Flapping", "service": "hello"}
    assert fired["alerts"][0]["annotations"] == {"summary": "hello is flapping"}
    wait_until(lambda: flapping("resolved"), 30, what="the resolved webhook for Flapping")

    events = wait_until(
        lambda: [p.body for p in pd.posts if p.body["event_action"] == "resolve"] and [p.body for p in pd.posts], 30
    )
    assert events[0]["event_action"] == "trigger" and events[0]["payload"]["severity"] == "critical"
    assert {e["dedup_key"] for e in events} == {fired["alerts"][0]["fingerprint"]}
    assert all(p.path == "/v2/enqueue" for p in pd.posts) and not any(
        e.get("payload", {}).get("class") == "Minor" for e in events
    ), "the pagerduty notifier routes severity=page only"

    def in_alertmanager() -> list[dict[str, object]]:
        with urllib.request.urlopen(f"{alertmanager}/api/v2/alerts?active=true", timeout=5) as r:
            return [a for a in json.load(r) if a["labels"].get("alertname") == "Flapping"]

    [am_alert] = wait_until(in_alertmanager, 30, what="Flapping in Alertmanager's API")
    assert am_alert["labels"] == {"alertname": "Flapping", "service": "hello", "severity": "page"}
    assert am_alert["status"]["state"] == "active"

    def minor() -> dict[str, object]:
        r = json.loads(run(*cli, "-o", "json", "alerts").stdout)
        return next(a for a in r if a["labels"]["alertname"] == "Minor")

    assert wait_until(lambda: minor()["inhibited"], 30, what="Minor inhibited while Flapping fires")
    assert wait_until(lambda: not minor()["inhibited"], 30, what="Minor no longer inhibited once Flapping resolves")


def test_silences_mute_and_the_outbox_survives_kill9(
    tmp_path: Path, daemons: list[Daemon], receivers: tuple[Receiver, Receiver]
) -> None:
    hook, pd = receivers
    hook.status = 503  # the receiver is down at first
    write_config(tmp_path / "c.toml", hook, pd, None)
    ctl, cli = start_controller(tmp_path, daemons, STEADY_RULES, tmp_path / "c.toml", "c.log")
    added = run(*cli, "silence", "add", "alertname=Quiet", "-d", "1h", "-c", "known, ticket OPS-1")
    assert added.returncode == 0, added.stderr
    silence_id = added.stdout.strip()
    listed = json.loads(run(*cli, "-o", "json", "silence", "list").stdout)
    assert [s["id"] for s in listed] == [silence_id] and listed[0]["matchers"] == ["alertname=Quiet"]
    assert listed[0]["state"] == "active" and listed[0]["createdBy"] == "admin"

    db = tmp_path / "c" / "controller.db"
    wait_until(
        lambda: db_rows(db, "SELECT 1 FROM outbox WHERE notifier = 'hook' AND attempts > 0"),
        30,
        what="a failed delivery kept",
    )
    quiet = wait_until(
        lambda: [
            a
            for a in json.loads(run(*cli, "-o", "json", "alerts", "--state", "firing").stdout)
            if a["labels"]["alertname"] == "Quiet"
        ],
        30,
        what="Quiet firing",
    )
    assert quiet[0]["silenced"] is True
    ctl.kill9()
    assert db_rows(db, "SELECT count(*) FROM outbox WHERE notifier = 'hook'")[0][0] >= 1

    hook.status = 200
    ctl, cli = start_controller(tmp_path, daemons, STEADY_RULES, tmp_path / "c.toml", "c2.log")
    [delivered, *_] = wait_until(lambda: hook.posts, 30, what="the queued webhook delivered after the restart")
    assert delivered.body["groupLabels"] == {"alertname": "Always"}
    assert delivered.body["alerts"][0]["labels"] == {"alertname": "Always", "severity": "page"}
    wait_until(lambda: [p for p in pd.posts if p.body["event_action"] == "trigger"], 30, what="pagerduty trigger")
    names = {a["labels"]["alertname"] for p in hook.posts for a in p.body["alerts"]}
    names |= {p.body["payload"]["class"] for p in pd.posts if "payload" in p.body}
    assert names == {"Always"}, "the silenced alert was never sent"
    wait_until(lambda: not db_rows(db, "SELECT 1 FROM outbox"), 30, what="the outbox drained")

    expired = run(*cli, "silence", "expire", silence_id)
    assert expired.returncode == 0 and f"expired silence {silence_id}" in expired.stdout
    assert json.loads(run(*cli, "-o", "json", "silence", "list").stdout) == []
    wait_until(
        lambda: [p for p in pd.posts if p.body.get("payload", {}).get("class") == "Quiet"],
        30,
        what="Quiet sent once unsilenced",
    )
    again = run(*cli, "silence", "expire", "nope")
    assert again.returncode == 1 and "silence 'nope' does not exist" in again.stderr
    bad = run(*cli, "silence", "add", "alertname=~.*", "-c", "x")
    assert bad.returncode == 2 and "must not match the empty string" in bad.stderr
