"""Rules evaluated by a real controller over pushed telemetry; alert state
survives kill -9; an invalid reload keeps the running rules."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.helpers import BIN, Daemon, agent_argv, controller_argv, free_port, wait_until

pytestmark = pytest.mark.slow

RULES = """groups:
  - name: fleet
    interval: 500ms
    rules:
      - record: fleet:node_load1:max
        expr: max(node_load1)
      - alert: AgentAlive
        expr: switchman_agent_collect_cycles_total >= 0
        for: 1s
        labels: {severity: info}
        annotations:
          summary: "{{ $labels.host }} has collected {{ $value }} times"
"""


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "switchman"), *argv], capture_output=True, text=True, timeout=60)


def test_alerts_fire_survive_kill9_and_bad_reloads_are_refused(tmp_path: Path, daemons: list[Daemon]) -> None:
    rules = tmp_path / "rules.yml"
    rules.write_text(RULES)
    port = free_port()
    argv = controller_argv(tmp_path / "c", port, None, "--rule-file", str(tmp_path / "*.yml"))
    ctl = Daemon(argv, tmp_path / "c.log")
    daemons.append(ctl.start())
    daemons.append(
        Daemon(agent_argv(tmp_path / "a", port, "127.0.0.51", "r1", "--interval", "300ms"), tmp_path / "a.log").start()
    )
    wait_until((tmp_path / "c" / "admin.token").exists, 15)
    cli = ["--insecure", "--controller", f"127.0.0.1:{port}", "--token-file", str(tmp_path / "c" / "admin.token")]

    def alerts(state: str = "firing") -> list[dict[str, object]]:
        r = run(*cli, "-o", "json", "alerts", "--state", state)
        return json.loads(r.stdout) if r.returncode == 0 else []

    [alert] = wait_until(alerts, 20, what="AgentAlive firing")
    assert alert["labels"] == {
        "alertname": "AgentAlive",
        "host": "r1",
        "instance": "r1",
        "job": "node",
        "severity": "info",
    }
    assert "r1 has collected" in alert["annotations"]["summary"]
    recorded = run(*cli, "-o", "json", "query", "fleet:node_load1:max")
    assert json.loads(recorded.stdout)["result"], "the recording rule wrote its series"

    ctl.kill9()
    ctl = Daemon(argv, tmp_path / "c2.log")
    daemons.append(ctl.start())
    [again] = wait_until(alerts, 20, what="AgentAlive firing after restart")
    assert again["activeAt"] == alert["activeAt"]  # the for timer was not restarted

    rules.write_text(RULES.replace("expr: max(node_load1)", "expr: max(node_load1"))
    assert ctl.proc is not None
    ctl.proc.send_signal(1)
    wait_until(lambda: "reload refused, keeping the running rules" in ctl.log(), 10, what="refused reload")
    assert alerts() and ctl.alive()
    audit = json.loads(run(*cli, "-o", "json", "audit", "list").stdout)
    assert audit[-1]["action"] == "ReloadConfig" and audit[-1]["result"].startswith("refused: ")
    assert audit[-1]["target"] == "the command line (no config file)", "no made-up /etc path"
    assert ctl.terminate() == 0
    bad = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "invalid rule files" in bad.stderr and "rules.yml:6:" in bad.stderr


ALWAYS = """groups:
  - name: added
    interval: 1s
    rules:
      - alert: AddedLater
        expr: vector(1)
"""


def test_a_rule_glob_added_to_the_config_file_is_loaded_on_sighup(tmp_path: Path, daemons: list[Daemon]) -> None:
    config = tmp_path / "controller.toml"
    config.write_text("rule_files = []\n")
    port = free_port()
    ctl = Daemon(controller_argv(tmp_path / "c", port, None, "--config", str(config)), tmp_path / "c.log")
    daemons.append(ctl.start())
    wait_until((tmp_path / "c" / "admin.token").exists, 15)
    cli = ["--insecure", "--controller", f"127.0.0.1:{port}", "--token-file", str(tmp_path / "c" / "admin.token")]
    (tmp_path / "rules.d").mkdir()
    (tmp_path / "rules.d" / "added.yml").write_text(ALWAYS)
    config.write_text(f'rule_files = ["{tmp_path / "rules.d"}/*.yml"]\n')
    assert ctl.proc is not None
    ctl.proc.send_signal(1)

    def names() -> list[object]:
        r = run(*cli, "-o", "json", "alerts")
        return [a["labels"]["alertname"] for a in json.loads(r.stdout)] if r.returncode == 0 else []

    assert wait_until(lambda: "AddedLater" in names(), 20, what="the new glob's rule firing")
    audit = json.loads(run(*cli, "-o", "json", "audit", "list").stdout)
    assert (audit[-1]["action"], audit[-1]["target"], audit[-1]["result"]) == ("ReloadConfig", str(config), "ok")
