"""`make demo` works and leaves no process behind (README's first command)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from tests.helpers import wait_until

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def demo_leftovers() -> list[int]:
    run_dir = str(ROOT / "demo-run")
    return [p.pid for p in psutil.process_iter(["cmdline"]) if any(run_dir in a for a in p.info["cmdline"] or [])]


MINE = """groups:
  - name: mine
    interval: 1s
    rules:
      - alert: MineAlwaysFires
        expr: vector(1)
"""


def test_keep_demo_takes_a_new_rule_file_on_sighup_and_demo_stop_stops_everything() -> None:
    demo = [sys.executable, str(ROOT / "examples" / "demo.py")]
    r = subprocess.run(demo, capture_output=True, text=True, timeout=120, env={**os.environ, "KEEP": "1"})
    try:
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
        assert "make demo-stop" in r.stdout and demo_leftovers()
        export = next(line.strip() for line in r.stdout.splitlines() if "export SWITCHMAN_CONTROLLER" in line)
        reload = next(line for line in r.stdout.splitlines() if "kill -HUP" in line)
        pid = int(reload.rsplit(" ", 1)[1])
        (ROOT / "demo-run" / "rules" / "mine.yml").write_text(MINE)
        os.kill(pid, signal.SIGHUP)
        # the printed commands, as a user pastes them into a shell
        alerts = f"{export}; .venv/bin/switchman alerts -o json"

        def loaded() -> bool:
            out = subprocess.run(["bash", "-c", alerts], capture_output=True, text=True, cwd=ROOT, timeout=30)
            return "MineAlwaysFires" in out.stdout

        wait_until(loaded, 30, what="the new rule file loaded on SIGHUP")
    finally:
        stop = subprocess.run([*demo, "stop"], capture_output=True, text=True, timeout=60)
    assert stop.returncode == 0 and "stopped" in stop.stdout, stop.stdout + stop.stderr
    assert demo_leftovers() == [], "make demo-stop leaves no daemon and no service slot"


def test_demo_runs_on_mtls_and_cleans_up() -> None:
    r = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo.py")], capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "3/3 up, 0 down" in r.stdout and "364d" in r.stdout and "demo finished" in r.stdout
    assert " 0 failed; answered by version" in r.stdout  # the canary rollout under load failed no request
    assert "succeeded" in r.stdout and "baking batch 1/2" in r.stdout
    assert "# Drill 1: latency on one web host" in r.stdout and "(HelloFrontSlow)" in r.stdout  # detected by the alert
    assert "P2   resolved  hello is slow or down on" in r.stdout  # the incident opened and resolved itself
    assert re.search(r"the web console: https://127\.0\.0\.1:\d+/ ", r.stdout) and "token: smt_" in r.stdout
    assert demo_leftovers() == []
