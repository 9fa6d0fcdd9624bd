"""Chaos through the controller: ad hoc faults (inject, list, status, halt),
a drill whose abort condition trips, a drill that deviates and recovers with
time to detect and time to recover, rollouts refused during a drill, and bad
drill files."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.e2e.test_rollouts import Fleet, start_fleet
from tests.helpers import Daemon, wait_until

pytestmark = pytest.mark.slow

RULES = """groups:
  - name: hello
    interval: 500ms
    rules:
      - alert: HelloDown
        expr: min by (host) (probe_success{service="hello"}) == 0
        labels: {severity: page, service: hello}
"""

ABORTING = """
title: pause every hello process, abort when the probe fails
targets: {selector: {role: web}, mode: all}
steady_state:
  - name: hello probes pass
    expr: min(probe_success{service="hello"}) == 1
faults:
  - {kind: pause, duration: 60s, service: hello}
abort_when:
  - expr: min(probe_success{service="hello"}) == 0
recovery_timeout: 30s
"""

DEVIATING = """
title: pause hello on two hosts for 4 seconds
description: HelloDown should page, and hello come back by itself
targets: {selector: {role: web}, mode: "count:2"}
steady_state:
  - name: hello probes pass
    expr: min(probe_success{service="hello"}) == 1
faults:
  - {kind: pause, duration: 4s, service: hello}
recovery_timeout: 30s
"""


def start(tmp_path: Path, daemons: list[Daemon]) -> Fleet:
    (tmp_path / "rules.yml").write_text(RULES)
    return start_fleet(tmp_path, daemons, "--rule-file", str(tmp_path / "rules.yml"))


def test_ad_hoc_faults_and_drills_abort_deviate_and_report(tmp_path: Path, daemons: list[Daemon]) -> None:
    f = start(tmp_path, daemons)
    assert (
        f.run(
            "rollout", "start", "hello", "--version", "1", "--max-parallel", "3", "--min-healthy", "1s", "--watch"
        ).returncode
        == 0
    )

    r = f.run("chaos", "inject", "web-1", "latency", "--duration", "30s", "--service", "hello", "latency=200ms")
    assert r.returncode == 0, r.stderr
    [fault] = json.loads(f.run("-o", "json", "chaos", "list").stdout)
    assert fault["host"] == "web-1" and fault["kind"] == "latency" and fault["state"] == "active"
    assert "Fault  latency on hello at web-1" in f.run("status").stdout
    bad = f.run("chaos", "inject", "web-1", "latency", "--duration", "10y", "--service", "hello", "latency=1s")
    assert bad.returncode == 2 and "longer than this agent's cap" in bad.stderr
    bad = f.run("chaos", "inject", "web-1", "kill", "--duration", "10s", "--service", "nope")
    assert bad.returncode == 2 and "does not run a service named 'nope'" in bad.stderr
    halted = f.run("chaos", "halt", "--all")
    assert halted.returncode == 0 and "reverted 1 fault(s)" in halted.stdout
    assert json.loads(f.run("-o", "json", "chaos", "list").stdout) == []

    (tmp_path / "abort.yml").write_text(ABORTING)
    started = time.monotonic()
    r = f.run("drill", "run", str(tmp_path / "abort.yml"), "--wait", timeout=120)
    assert r.returncode == 1 and "aborted" in r.stdout, r.stdout + r.stderr
    assert time.monotonic() - started < 40, "the abort condition stopped the 60 s fault early"
    drill_id = int(r.stdout.split()[1].rstrip(":"))
    journal = json.loads(f.run("drill", "report", str(drill_id), "--format", "json").stdout)
    assert journal["state"] == "aborted" and journal["reason"].startswith("aborted: min(probe_success")
    assert len(journal["faults"]) == 3 and all(x["reverted_ms"] for x in journal["faults"])
    assert any("aborted" in m for _, m in journal["timeline"])
    assert json.loads(f.run("-o", "json", "chaos", "list").stdout) == [], "every fault reverted"
    wait_until(lambda: f.serving() == {"hello from 1"}, 20, what="hello serving again after the abort")

    (tmp_path / "deviate.yml").write_text(DEVIATING)
    r = f.run("drill", "run", str(tmp_path / "deviate.yml"))
    drill_id = int(r.stdout.split()[1])
    wait_until(
        lambda: json.loads(f.run("-o", "json", "drill", "status", str(drill_id)).stdout)["state"] == "running",
        30,
        what="drill running",
    )
    refused = f.run("rollout", "start", "hello", "--version", "2")
    assert refused.returncode == 1 and f"drill {drill_id}" in refused.stderr and "--force" in refused.stderr
    wait_until(
        lambda: (
            json.loads(f.run("-o", "json", "drill", "status", str(drill_id)).stdout)["state"]
            in ("deviated", "completed", "failed")
        ),
        60,
        what="drill end",
    )
    d = json.loads(f.run("-o", "json", "drill", "status", str(drill_id)).stdout)
    assert d["state"] == "deviated", d
    assert len(d["targets"]) == 2 and d["time_to_detect_seconds"] > 0 and d["time_to_recover_seconds"] > 0
    [probe] = d["steady_state"]
    assert probe["held_before"] and not probe["held_during"] and probe["held_after"]
    report = f.run("drill", "report", str(drill_id)).stdout
    assert f"# Drill {drill_id}: pause hello on two hosts" in report and "HelloDown" in report and "**broke**" in report

    (tmp_path / "bad.yml").write_text("title: x\ntargets: {mode: some}\nfaults:\n  - {kind: flood, duration: 1s}\n")
    bad = f.run("drill", "run", str(tmp_path / "bad.yml"))
    assert bad.returncode == 2 and "bad.yml:2:" in bad.stderr and "targets.mode: 'some'" in bad.stderr
    assert "bad.yml:4:" in bad.stderr and "kind: 'flood'" in bad.stderr
