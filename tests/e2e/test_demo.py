"""`make demo` works and leaves no process behind (README's first command)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


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
    run_dir = str(ROOT / "demo-run")
    leftovers = [p.pid for p in psutil.process_iter(["cmdline"]) if any(run_dir in a for a in p.info["cmdline"] or [])]
    assert leftovers == []
