"""`switchman rules check` against `promtool check rules`: the same verdict on
good and bad files, and messages with file:line:column."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from switchman.controller.alerts.rules import load_rule_file

from tests.helpers import BIN

GOOD = """groups:
  - name: node
    interval: 30s
    rules:
      - record: role:node_load1:avg
        expr: avg by (role) (node_load1)
      - alert: HighLoad
        expr: node_load1 > 2
        for: 5m
        keep_firing_for: 1m
        labels: {severity: page}
        annotations:
          summary: "load {{ $value | humanize }} on {{ $labels.host }}"
"""
BAD = {
    "expr": (
        "groups:\n  - name: a\n    rules:\n      - record: x\n        expr: sum(rate(y[5m])\n",
        "5:30: rule 'x': expected ')'",
    ),
    "duration": (
        "groups:\n  - name: a\n    rules:\n      - alert: A\n        expr: up == 0\n        for: soon\n",
        "6:14: for: bad duration",
    ),
    "field": (
        "groups:\n  - name: a\n    rules:\n      - alert: A\n        expr: up == 0\n        severity: page\n",
        "6:9: unknown field 'severity'",
    ),
    "record_name": (
        "groups:\n  - name: a\n    rules:\n      - record: 'a b'\n        expr: up\n",
        "4:17: record: 'a b' is not a valid metric name",
    ),
    "both": (
        "groups:\n  - name: a\n    rules:\n      - record: r\n        alert: A\n        expr: up\n",
        "needs exactly one of `record` and `alert`",
    ),
    "types": (
        "groups:\n  - name: a\n    rules:\n      - alert: A\n        expr: rate(up)\n",
        "expected type range vector",
    ),
    "dup_group": ("groups:\n  - name: a\n    rules: []\n  - name: a\n    rules: []\n", "group name 'a' is repeated"),
    "yaml": ("groups:\n  - name: [a\n", "invalid YAML"),
}


def promtool_ok(path: Path) -> bool:
    return subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True, timeout=60).returncode == 0


def test_a_good_file_passes_both(tmp_path: Path) -> None:
    path = tmp_path / "good.yml"
    path.write_text(GOOD)
    result = load_rule_file(path)
    assert result.errors == [] and [r.name for g in result.groups for r in g.rules] == [
        "role:node_load1:avg",
        "HighLoad",
    ]
    assert result.groups[0].interval_ms == 30_000 and result.groups[0].rules[1].for_ms == 300_000
    assert promtool_ok(path)
    r = subprocess.run(
        [str(BIN / "switchman"), "rules", "check", str(path)], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0 and "SUCCESS: 2 rules found" in r.stdout


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_files_fail_both_with_a_position(tmp_path: Path, case: str) -> None:
    text, message = BAD[case]
    path = tmp_path / f"{case}.yml"
    path.write_text(text)
    assert not promtool_ok(path)
    r = subprocess.run(
        [str(BIN / "switchman"), "rules", "check", str(path)], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 1 and message in r.stdout and str(path) in r.stdout, r.stdout
